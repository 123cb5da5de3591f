//! `chinwag agent add|passwd`: agent accounts written into a configuration file, keeping its
//! comments and layout (`toml_edit`). The console password is asked for ([`prompt`]), hashed
//! with argon2id, and only its hash is written. The file is checked as the server would
//! check it before it is replaced (atomically, keeping its permissions; a new file is
//! created readable by its owner only).

mod prompt;

use crate::config::{self, Config};
use anyhow::{Context, bail, ensure};
use std::path::Path;
use toml_edit::{Array, DocumentMut, Item, Table, value};

/// What `chinwag agent add` writes besides the id and the hash.
#[derive(Debug, Default)]
pub(crate) struct NewAgent {
    /// Nickname shown to customers.
    pub(crate) name: Option<String>,
    /// Queues served.
    pub(crate) queues: Vec<String>,
    /// Concurrent chats.
    pub(crate) capacity: Option<u32>,
    /// `agent` or `supervisor`.
    pub(crate) role: Option<String>,
}

/// The file's text, or nothing if it does not exist yet.
fn read(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("while reading {}", path.display())),
    }
}

/// The ids of the `[[agents]]` in `doc`.
fn ids(doc: &DocumentMut) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(aot) = doc.get("agents").and_then(Item::as_array_of_tables) {
        for t in aot {
            out.extend(t.get("id").and_then(Item::as_str).map(str::to_owned));
        }
    }
    out
}

/// `chinwag agent add <id>`.
pub(crate) fn add(path: &Path, id: &str, new: NewAgent) -> anyhow::Result<()> {
    ensure!(!id.trim().is_empty(), "the agent id must not be empty");
    let text = read(path)?;
    let mut doc: DocumentMut = text
        .as_deref()
        .unwrap_or("")
        .parse()
        .with_context(|| format!("while parsing {}", path.display()))?;
    if ids(&doc).iter().any(|i| i == id) {
        bail!(
            "agent '{id}' already exists in {}; change its password with `chinwag agent passwd {id}`",
            path.display()
        );
    }
    if doc.get("agents").is_some_and(|a| !a.is_array_of_tables()) {
        bail!(
            "{}: `agents` is not written as [[agents]] tables; add the account by hand",
            path.display()
        );
    }
    // The checks that do not need the password, before asking for it.
    let before: Config = toml::from_str(&doc.to_string())
        .with_context(|| format!("while parsing {}", path.display()))?;
    for q in &new.queues {
        ensure!(
            before.queues.contains_key(q),
            "queue '{q}' is not configured in {}",
            path.display()
        );
    }
    let mut t = Table::new();
    t["id"] = value(id);
    if let Some(n) = &new.name {
        t["name"] = value(n.as_str());
    }
    if !new.queues.is_empty() {
        t["queues"] = value(new.queues.iter().map(String::as_str).collect::<Array>());
    }
    if let Some(c) = new.capacity {
        t["capacity"] = value(i64::from(c));
    }
    if let Some(r) = &new.role {
        t["role"] = value(r.as_str());
    }
    let password = prompt::new_password(id)?;
    t["password_hash"] = value(chinwag_agent_api::console::hash_password(&password)?);
    if doc.get("agents").is_none() {
        doc["agents"] = Item::ArrayOfTables(toml_edit::ArrayOfTables::new());
    }
    if let Some(aot) = doc["agents"].as_array_of_tables_mut() {
        aot.push(t);
    }
    write(path, &doc, text.is_some())?;
    println!(
        "agent '{id}' added to {}; restart the server to apply",
        path.display()
    );
    Ok(())
}

/// `chinwag agent passwd <id>`.
pub(crate) fn passwd(path: &Path, id: &str) -> anyhow::Result<()> {
    let Some(text) = read(path)? else {
        bail!("{} does not exist", path.display());
    };
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("while parsing {}", path.display()))?;
    if !ids(&doc).iter().any(|i| i == id) {
        bail!(
            "no agent '{id}' in {}; add it with `chinwag agent add {id}`",
            path.display()
        );
    }
    let password = prompt::new_password(id)?;
    let hash = chinwag_agent_api::console::hash_password(&password)?;
    if let Some(aot) = doc["agents"].as_array_of_tables_mut() {
        for t in aot.iter_mut() {
            if t.get("id").and_then(Item::as_str) == Some(id) {
                t["password_hash"] = value(hash.as_str());
            }
        }
    }
    write(path, &doc, true)?;
    println!(
        "console password of agent '{id}' set in {}; restart the server to apply",
        path.display()
    );
    Ok(())
}

/// Checks `doc` as the server would, then replaces `path` with it atomically.
fn write(path: &Path, doc: &DocumentMut, existed: bool) -> anyhow::Result<()> {
    let text = doc.to_string();
    let cfg: Config = toml::from_str(&text)
        .with_context(|| format!("the edited {} would not parse", path.display()))?;
    config::validate(&cfg)
        .with_context(|| format!("the edited {} would not be valid", path.display()))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "config".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.chinwag-new"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = (|| -> anyhow::Result<()> {
        use std::io::Write;
        let mut f = options.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        if existed {
            f.set_permissions(std::fs::metadata(path)?.permissions())?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("while writing {}", path.display()))
}

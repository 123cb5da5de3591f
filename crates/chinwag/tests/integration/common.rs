//! Test harness: starts the real binary on a free loopback port with its own data directory
//! (optionally under an open-file limit, on one CPU, with extra environment, its stderr
//! captured), and small GMS and agent clients.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// How the binary is launched (kept for restarts).
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// Run under this open-file limit (`prlimit --nofile=N:N`, util-linux).
    pub nofile: Option<u64>,
    /// Pin to one CPU with `taskset`.
    pub one_cpu: bool,
    /// Extra environment variables (e.g. `RUST_LOG`, which is `warn` otherwise).
    pub env: Vec<(String, String)>,
    /// Keep every line the server writes to stderr (still echoed) for [`Server::stderr`].
    pub capture_stderr: bool,
}

/// A running server process.
pub struct Server {
    child: Child,
    pub base: String,
    pub data: PathBuf,
    config: Option<PathBuf>,
    port: u16,
    launch: Launch,
    stderr: Arc<Mutex<Vec<String>>>,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Server {
    /// Starts with the defaults plus `config` TOML (empty for none).
    pub async fn start(config: &str) -> R<Self> {
        let (data, cfg) = Self::prepare(config)?;
        Self::launch(Launch::default(), data, cfg, free_port()).await
    }

    /// Starts pinned to one CPU with `taskset` (util-linux), so the binary sees one CPU.
    pub async fn start_on_one_cpu(config: &str) -> R<Self> {
        let launch = Launch {
            one_cpu: true,
            ..Launch::default()
        };
        Self::start_with(config, launch).await
    }

    /// Starts with the defaults plus `config` TOML, launched as `launch` says.
    pub async fn start_with(config: &str, launch: Launch) -> R<Self> {
        let (data, cfg) = Self::prepare(config)?;
        Self::launch(launch, data, cfg, free_port()).await
    }

    /// A fresh data directory, with `config` written into it (when not empty).
    fn prepare(config: &str) -> R<(PathBuf, Option<PathBuf>)> {
        let data = tempfile::tempdir()?.keep();
        if config.is_empty() {
            return Ok((data, None));
        }
        let p = data.join("test.toml");
        std::fs::write(&p, config)?;
        Ok((data, Some(p)))
    }

    async fn launch(launch: Launch, data: PathBuf, cfg: Option<PathBuf>, port: u16) -> R<Self> {
        let mut argv: Vec<String> = Vec::new();
        if let Some(n) = launch.nofile {
            argv.extend(["prlimit".into(), format!("--nofile={n}:{n}"), "--".into()]);
        }
        if launch.one_cpu {
            argv.extend(["taskset", "-c", "0"].map(String::from));
        }
        argv.push(env!("CARGO_BIN_EXE_chinwag").into());
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        Self::spawn(cmd, data, cfg, port, launch).await
    }

    async fn spawn(
        mut cmd: Command,
        data: PathBuf,
        config: Option<PathBuf>,
        port: u16,
        launch: Launch,
    ) -> R<Self> {
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data.join("db"));
        if let Some(c) = &config {
            cmd.arg("--config").arg(c);
        }
        cmd.env_remove("CHINWAG_CONFIG")
            .env("RUST_LOG", "warn")
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(if launch.capture_stderr {
                Stdio::piped()
            } else {
                Stdio::inherit()
            });
        let mut child = cmd.spawn()?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(pipe) = child.stderr.take() {
            let lines = stderr.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    let _ = writeln!(std::io::stderr(), "{line}");
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data,
            config,
            port,
            launch,
            stderr,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&self) -> R {
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = reqwest::Client::new();
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/health", self.base)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("server did not become ready".into())
    }

    /// SIGKILLs the process (no drain, no flush beyond what was committed).
    pub fn kill9(&mut self) -> R {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Sends SIGTERM (a managed shutdown) and waits, at most 30 s, for the process to exit.
    pub async fn terminate(&mut self) -> R {
        let pid = self.child.id().to_string();
        if !Command::new("kill")
            .args(["-TERM", &pid])
            .status()?
            .success()
        {
            return Err("kill -TERM failed".into());
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                return Err("the server did not stop after SIGTERM".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Starts a new process on the same data directory, config, port and launch settings
    /// (SIGKILLing the running one first, if any).
    pub async fn restart(mut self) -> R<Self> {
        self.kill9()?;
        let (data, config, port) = (self.data.clone(), self.config.clone(), self.port);
        let launch = self.launch.clone();
        std::mem::forget(self);
        Self::launch(launch, data, config, port).await
    }

    /// The address it listens on (`127.0.0.1:port`).
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The process id (of `prlimit`/`taskset`, which exec the binary in place).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The SQLite database file.
    pub fn db_file(&self) -> PathBuf {
        self.data.join("db").join("chinwag.db")
    }

    /// The stderr lines so far (only with [`Launch::capture_stderr`]).
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// How many stderr lines contain `needle`, once at least one does (the lines are read by
    /// another thread, so a line logged just now may not be here yet); 0 after 10 s.
    pub async fn stderr_count(&self, needle: &str) -> usize {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let n = self.stderr().iter().filter(|l| l.contains(needle)).count();
            if n > 0 || std::time::Instant::now() > deadline {
                return n;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    pub fn gms(&self, service: &str) -> String {
        format!("{}/genesys/2/chat/{service}", self.base)
    }

    pub fn ws_url(&self, token: &str) -> String {
        format!(
            "ws://{}/agent/v1/events?token={token}",
            self.base.trim_start_matches("http://")
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// A customer's chat credentials.
#[derive(Clone, Debug)]
pub struct Chat {
    pub url: String,
    pub chat_id: String,
    pub user_id: String,
    pub secure_key: String,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// POSTs a form and returns (status, JSON body).
pub async fn post_form(url: &str, pairs: &[(&str, &str)]) -> R<(u16, Value)> {
    post_form_on(&client(), url, pairs).await
}

/// [`post_form`] on a given client (building a client is slow: reuse one for many calls).
pub async fn post_form_on(
    http: &reqwest::Client,
    url: &str,
    pairs: &[(&str, &str)],
) -> R<(u16, Value)> {
    let r = http.post(url).form(pairs).send().await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await?))
}

/// Requests a chat and returns its credentials and the answer.
pub async fn request_chat(server: &Server, pairs: &[(&str, &str)]) -> R<(Chat, Value)> {
    let url = server.gms("customer-support");
    let (status, v) = post_form(&format!("{url}/"), pairs).await?;
    assert_eq!(status, 200, "{v}");
    let s = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .ok_or(format!("missing {k} in {v}"))
    };
    let chat = Chat {
        url,
        chat_id: s("chatId")?,
        user_id: s("userId")?,
        secure_key: s("secureKey")?,
    };
    Ok((chat, v))
}

impl Chat {
    /// Calls `op` with the chat's credentials plus `extra` fields.
    pub async fn call(&self, op: &str, extra: &[(&str, &str)]) -> R<(u16, Value)> {
        self.call_on(&client(), op, extra).await
    }

    /// [`Chat::call`] on a given client.
    pub async fn call_on(
        &self,
        http: &reqwest::Client,
        op: &str,
        extra: &[(&str, &str)],
    ) -> R<(u16, Value)> {
        let mut pairs = vec![
            ("userId", self.user_id.as_str()),
            ("secureKey", self.secure_key.as_str()),
            ("alias", "1"),
        ];
        pairs.extend_from_slice(extra);
        let url = format!("{}/{}/{op}", self.url, self.chat_id);
        post_form_on(http, &url, &pairs).await
    }
}

/// An agent API client.
pub struct Agent {
    pub base: String,
    pub token: String,
}

impl Agent {
    pub fn new(server: &Server, token: &str) -> Self {
        Self {
            base: format!("{}/agent/v1", server.base),
            token: token.into(),
        }
    }

    pub async fn req(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> R<(u16, Value)> {
        let mut rb = client()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let text = r.text().await?;
        Ok((
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text)?
            },
        ))
    }

    pub async fn post(&self, path: &str, body: Value) -> R<(u16, Value)> {
        self.req(reqwest::Method::POST, path, Some(body)).await
    }

    /// Logs in, becomes ready.
    pub async fn ready(&self) -> R {
        let (s, _) = self.req(reqwest::Method::POST, "/login", None).await?;
        assert_eq!(s, 200);
        let (s, v) = self
            .req(
                reqwest::Method::PUT,
                "/state",
                Some(serde_json::json!({"ready": true})),
            )
            .await?;
        assert_eq!(s, 200, "{v}");
        Ok(())
    }
}

/// Replaces volatile values (times, ids, keys) so JSON shapes can be compared exactly.
pub fn redact(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    match k.as_str() {
                        "utcTime" | "utc_time_ms" | "expires_ms" | "joined_ms" => {
                            *x = Value::from("<time>")
                        }
                        "secureKey" | "userId" | "chatId" | "chat_id" | "referenceId" => {
                            *x = Value::from("<id>")
                        }
                        _ => walk(x),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

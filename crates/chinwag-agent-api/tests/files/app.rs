//! The server the file tests talk to: the agent API hosted by `chinwag-http` on a loopback
//! port, over an engine on the in-memory store with the disk blob store in a temporary
//! directory. One service (`svc`, files capped at [`CAP`] bytes); agent `a1` (token `tok`)
//! is in chats `mine` and `other`, agent `a2` (token `tok2`) is logged in but in no chat.

use chinwag_agent_api::{AgentState, router};
use chinwag_blob_fs::FsBlobStore;
use chinwag_core::ChatEngine;
use chinwag_core::files::FileSettings;
use chinwag_core::ids::{AgentId, NodeAlias, QueueName, ServiceName};
use chinwag_core::memstore::MemoryStore;
use chinwag_core::ports::SystemClock;
use chinwag_core::roles::customers::{NewChat, Selection};
use chinwag_core::settings::{
    AgentAccount, AgentRole, EngineSettings, QueueSettings, ServiceLimits, ServiceSettings,
};
use chinwag_http::{Linger, Settings};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub(crate) type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The service's `upload-max-file-size`.
pub(crate) const CAP: u64 = 64 * 1024;
/// The longest any test waits for an answer or a frame.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// A running server and what the tests need to reach it.
pub(crate) struct App {
    pub(crate) addr: SocketAddr,
    /// The chat `a1` uploads to.
    pub(crate) mine: String,
    /// Another chat of `a1`'s.
    pub(crate) other: String,
    pub(crate) http: reqwest::Client,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn agent(id: &str, token: &str) -> AgentAccount {
    AgentAccount {
        id: AgentId::new(id),
        name: id.into(),
        token: token.into(),
        queues: vec![QueueName::new("q")],
        capacity: 2,
        role: AgentRole::Agent,
    }
}

fn settings() -> EngineSettings {
    EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 10,
            max_message_length: 200,
            maintenance: false,
            inactivity: Default::default(),
            files: FileSettings {
                max_file_size: CAP,
                // The customer's counts, which an agent's uploads are not bound by.
                max_files: 1,
                max_total_size: 10,
                ..FileSettings::default()
            },
            limits: ServiceLimits::default(),
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: vec![agent("a1", "tok"), agent("a2", "tok2")],
        ended_retention_ms: 60_000,
        push: Default::default(),
        desk: Default::default(),
    }
}

/// Starts the server.
pub(crate) async fn start() -> R<App> {
    let dir = tempfile::tempdir()?;
    let engine = ChatEngine::open(
        settings(),
        Arc::new(MemoryStore::default()),
        Arc::new(SystemClock),
    )
    .await?;
    engine.set_blobs(Arc::new(FsBlobStore::open(dir.path()).await?));
    let (agents, customers) = (engine.agents(), engine.customers());
    let a1 = AgentId::new("a1");
    agents.login(&a1).await?;
    agents.set_ready(&a1, true).await?;
    agents.login(&AgentId::new("a2")).await?;
    let mut chats = Vec::new();
    for _ in 0..2 {
        let chat = NewChat {
            service: "svc".into(),
            nickname: Some("Jo".into()),
            ..NewChat::default()
        };
        let v = customers.request_chat(chat, Selection::Nothing).await?;
        agents.accept(&a1, &v.chat_id).await?;
        chats.push(v.chat_id.as_str().to_owned());
    }
    let stop = CancellationToken::new();
    let state = AgentState::new(agents, stop.clone());
    let http = Settings {
        linger: Linger {
            time: Duration::from_millis(200),
            bytes: 1 << 20,
        },
        ..Settings::default()
    };
    let addr = crate::serve::serve(http, router(state), &stop).await?;
    let other = chats.pop().ok_or("no chat")?;
    let mine = chats.pop().ok_or("no chat")?;
    Ok(App {
        addr,
        mine,
        other,
        http: reqwest::Client::builder().timeout(WAIT).build()?,
        stop,
        _dir: dir,
    })
}

impl App {
    /// The URL of `path` under `/agent/v1`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}/agent/v1{path}", self.addr)
    }

    /// Uploads `form` to `chat` as `token`'s agent: the status and the JSON answer.
    pub(crate) async fn upload(
        &self,
        token: &str,
        chat: &str,
        form: reqwest::multipart::Form,
    ) -> R<(u16, serde_json::Value)> {
        let res = self
            .http
            .post(self.url(&format!("/chats/{chat}/files")))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await?))
    }

    /// `GET` or `DELETE` of `path` as `token`'s agent: the response.
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
    ) -> R<reqwest::Response> {
        let req = self.http.request(method, self.url(path)).bearer_auth(token);
        Ok(req.send().await?)
    }
}

/// A form with one `file` part named `name` holding `bytes`.
pub(crate) fn file_form(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    reqwest::multipart::Form::new().part("file", part)
}

/// The error code of an error answer.
pub(crate) fn code(v: &serde_json::Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

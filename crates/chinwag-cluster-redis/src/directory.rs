//! [`RedisDirectory`]: each session is one HASH `<prefix>:bx:{<clientId>}` with fields
//! `owner` (the owner node's name: its liveness lease holder), `addr`, `ack`, `subs` (JSON
//! array) and `state` (JSON object). Whether the owner is alive is not stored here (see
//! [`chinwag_bayeux::cluster::Liveness`]); the key expires `lease + keep` after its owner
//! last wrote it. Every call is one script on one key (one slot), so each is atomic and
//! works the same on a cluster; a write of many entries runs its scripts concurrently on
//! the multiplexed connection.

use crate::RedisOptions;
use crate::conn::{Conn, ConnectError, Target};
use chinwag_bayeux::ClientId;
use chinwag_bayeux::cluster::{
    DirectoryError, Entry, Lease, Owner, Renewal, SessionDirectory, State,
};
use futures_util::future::join_all;
use redis::Script;
use std::sync::LazyLock;
use std::time::Duration;

/// KEYS[1]; ARGV: owner, addr, ack, ttl ms.
static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'addr', ARGV[2], 'ack', ARGV[3], 'subs', '[]', 'state', '{}')
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1",
    )
});

/// The entry as `{owner, addr, ack, subs, state}`, or nil.
const READ: &str = "local function read(key)
  local v = redis.call('HMGET', key, 'owner', 'addr', 'ack', 'subs', 'state')
  if not v[1] then return nil end
  return {v[1], v[2] or '', v[3] or '0', v[4] or '[]', v[5] or '{}'}
end
";

static GET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{READ}local e = read(KEYS[1]) if not e then return false end return e"
    ))
});

/// ARGV: from, owner, addr, ttl ms.
static TAKE_OVER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{READ}local e = read(KEYS[1])
if not e or e[1] ~= ARGV[1] then return false end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'addr', ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return e"
    ))
});

/// ARGV: owner, ttl ms, subs given (0/1), subs, state given (0/1), state.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'subs', ARGV[4]) end
if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'state', ARGV[6]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1",
    )
});

/// ARGV: owner.
static REMOVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then redis.call('DEL', KEYS[1]) end return 1",
    )
});

/// The session directory on Redis.
pub struct RedisDirectory {
    conn: Conn,
    prefix: String,
    deadline: Duration,
}

impl std::fmt::Debug for RedisDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisDirectory")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RedisDirectory {
    /// Connects to `url` (the store's URL form).
    pub async fn connect(url: &str, options: &RedisOptions) -> Result<Self, ConnectError> {
        let target = Target::parse(url)?;
        Ok(Self {
            conn: Conn::open(&target, options).await?,
            prefix: options.prefix.clone(),
            deadline: options.deadline,
        })
    }

    fn key(&self, client: &ClientId) -> String {
        format!("{}:bx:{{{}}}", self.prefix, client.as_str())
    }
}

/// An entry from a script's `{owner, addr, ack, subs, state}`.
fn entry(v: Option<Vec<String>>) -> Result<Option<Entry>, DirectoryError> {
    let Some(v) = v else { return Ok(None) };
    let [owner, addr, ack, subs, state] = <[String; 5]>::try_from(v)
        .map_err(|_| DirectoryError::Backend("malformed session entry".into()))?;
    let bad = |e: serde_json::Error| DirectoryError::Backend(format!("session entry: {e}"));
    Ok(Some(Entry {
        owner: Owner { node: owner, addr },
        ack: ack == "1",
        subscriptions: serde_json::from_str(&subs).map_err(bad)?,
        state: serde_json::from_str::<State>(&state).map_err(bad)?,
    }))
}

#[async_trait::async_trait]
impl SessionDirectory for RedisDirectory {
    async fn create(
        &self,
        client: &ClientId,
        owner: &Owner,
        ack: bool,
        lease: Lease,
    ) -> Result<(), DirectoryError> {
        let key = self.key(client);
        self.conn
            .run(self.deadline, |mut c| async move {
                CREATE
                    .key(key)
                    .arg(&owner.node)
                    .arg(&owner.addr)
                    .arg(u8::from(ack))
                    .arg(ms(lease.ttl()))
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }

    async fn get(&self, client: &ClientId) -> Result<Option<Entry>, DirectoryError> {
        let key = self.key(client);
        let v = self
            .conn
            .run(self.deadline, |mut c| async move {
                GET.key(key)
                    .invoke_async::<Option<Vec<String>>>(&mut c)
                    .await
            })
            .await?;
        entry(v)
    }

    async fn take_over(
        &self,
        client: &ClientId,
        from: &str,
        to: &Owner,
        lease: Lease,
    ) -> Result<Option<Entry>, DirectoryError> {
        let key = self.key(client);
        let v = self
            .conn
            .run(self.deadline, |mut c| async move {
                TAKE_OVER
                    .key(key)
                    .arg(from)
                    .arg(&to.node)
                    .arg(&to.addr)
                    .arg(ms(lease.ttl()))
                    .invoke_async::<Option<Vec<String>>>(&mut c)
                    .await
            })
            .await?;
        entry(v)
    }

    async fn renew(
        &self,
        owner: &Owner,
        sessions: Vec<Renewal>,
        lease: Lease,
    ) -> Result<Vec<ClientId>, DirectoryError> {
        let calls = sessions.iter().map(|r| {
            let key = self.key(&r.client);
            let subs = r
                .subscriptions
                .as_ref()
                .and_then(|s| serde_json::to_string(s).ok());
            let state = r.state.as_ref().and_then(|s| serde_json::to_string(s).ok());
            self.conn.run(self.deadline, move |mut c| async move {
                RENEW
                    .key(key)
                    .arg(&owner.node)
                    .arg(ms(lease.ttl()))
                    .arg(u8::from(subs.is_some()))
                    .arg(subs.unwrap_or_default())
                    .arg(u8::from(state.is_some()))
                    .arg(state.unwrap_or_default())
                    .invoke_async::<i64>(&mut c)
                    .await
            })
        });
        let mut lost = Vec::new();
        for (r, owned) in sessions.iter().zip(join_all(calls).await) {
            if owned? == 0 {
                lost.push(r.client.clone());
            }
        }
        Ok(lost)
    }

    async fn remove(&self, client: &ClientId, owner: &str) -> Result<(), DirectoryError> {
        let key = self.key(client);
        self.conn
            .run(self.deadline, |mut c| async move {
                REMOVE.key(key).arg(owner).invoke_async::<i64>(&mut c).await
            })
            .await
            .map(drop)
    }
}

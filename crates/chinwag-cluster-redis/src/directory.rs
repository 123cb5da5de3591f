//! [`RedisDirectory`]: each session is one HASH `<prefix>:bx:{<clientId>}` with fields
//! `owner`, `addr`, `ack`, `lease` (ms, Redis's own clock: `TIME`, so the nodes' clocks do
//! not matter), `subs` (JSON array) and `state` (JSON object). The key expires `lease +
//! keep` after it was last renewed. Every call is one script on one key (one slot), so each
//! is atomic and works the same on a cluster; a renewal runs its scripts concurrently on
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

const NOW: &str = "local function now() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end\n";

/// KEYS[1]; ARGV: owner, addr, ack, lease ms, keep ms.
static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{NOW}redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'addr', ARGV[2], 'ack', ARGV[3], 'lease', now() + tonumber(ARGV[4]), 'subs', '[]', 'state', '{{}}')
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + tonumber(ARGV[5]))
return 1"
    ))
});

/// The entry as `{owner, addr, ack, live, subs, state}`, or nil.
const READ: &str = "local function read(key)
  local v = redis.call('HMGET', key, 'owner', 'addr', 'ack', 'lease', 'subs', 'state')
  if not v[1] then return nil end
  local live = '0'
  if (tonumber(v[4]) or 0) > now() then live = '1' end
  return {v[1], v[2] or '', v[3] or '0', live, v[5] or '[]', v[6] or '{}'}
end
";

static GET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{NOW}{READ}local e = read(KEYS[1]) if not e then return false end return e"
    ))
});

/// ARGV: from, owner, addr, lease ms, keep ms.
static TAKE_OVER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{NOW}{READ}local e = read(KEYS[1])
if not e or e[1] ~= ARGV[1] then return false end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'addr', ARGV[3], 'lease', now() + tonumber(ARGV[4]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + tonumber(ARGV[5]))
return e"
    ))
});

/// ARGV: owner, lease ms, keep ms, subs given (0/1), subs, state given (0/1), state.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{NOW}if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease', now() + tonumber(ARGV[2]))
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'subs', ARGV[5]) end
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'state', ARGV[7]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]))
return 1"
    ))
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

/// An entry from a script's `{owner, addr, ack, live, subs, state}`.
fn entry(v: Option<Vec<String>>) -> Result<Option<Entry>, DirectoryError> {
    let Some(v) = v else { return Ok(None) };
    let [owner, addr, ack, live, subs, state] = <[String; 6]>::try_from(v)
        .map_err(|_| DirectoryError::Backend("malformed session entry".into()))?;
    let bad = |e: serde_json::Error| DirectoryError::Backend(format!("session entry: {e}"));
    Ok(Some(Entry {
        owner: Owner { node: owner, addr },
        live: live == "1",
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
                    .arg(ms(lease.lease))
                    .arg(ms(lease.keep))
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
                    .arg(ms(lease.lease))
                    .arg(ms(lease.keep))
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
                    .arg(ms(lease.lease))
                    .arg(ms(lease.keep))
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

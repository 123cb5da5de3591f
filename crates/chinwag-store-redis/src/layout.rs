//! Where everything lives in Redis (see `docs/cluster.md`, "Key layout").
//!
//! Chats are folded into `P` partitions (FNV-1a 64 of the chat id, mod `P`). Every key of a
//! partition carries the same hash tag, so one chat's keys, its partition's indexes (open
//! set, ended ZSET, outbox ZSET, highest push seq) and its partition's feed channel are in
//! one cluster slot, and a commit is one script. Partition `p`'s tag is `p<p>.<n>` with the
//! smallest `n` whose slot lies in the middle half of the `p`-th of `P` equal slot ranges:
//! the partitions spread evenly over any split of the slot space into contiguous ranges
//! (what `redis-cli --cluster create` and rebalancing make). Both rules are fixed forever:
//! changing either orphans stored data, and the `layout` key records `P` so that a node
//! configured differently refuses to start.

use chinwag_core::StoreError;
use chinwag_core::ids::ChatId;

/// Slots of a Redis Cluster.
pub(crate) const SLOTS: u16 = 16384;
/// Most partitions (each needs a tag found by search; 1024 takes a few milliseconds).
pub const MAX_PARTITIONS: u16 = 1024;
/// The layout version recorded in Redis.
const VERSION: &str = "chinwag-layout 1";

/// The keys of one chat.
#[derive(Debug, Clone)]
pub(crate) struct ChatKeys {
    /// HASH: `rec` (header JSON), `rev` (commits so far).
    pub(crate) head: String,
    /// STREAM: entry `<index>-0`, field `e` (event JSON).
    pub(crate) events: String,
}

/// The keys of one partition.
#[derive(Debug, Clone)]
pub(crate) struct PartKeys {
    /// SET of open chat ids.
    pub(crate) open: String,
    /// ZSET of ended chat ids, scored by `ended_ms`.
    pub(crate) ended: String,
    /// ZSET of push jobs (JSON), scored by `seq`.
    pub(crate) outbox: String,
    /// STRING: highest push `seq` ever written here.
    pub(crate) seq: String,
    /// SET: owners (node lease holders) of the partition's push jobs, maybe more.
    pub(crate) owners: String,
    /// ZSET: the partition's timers (`<kind>:<chatId>`), scored by when each can next be
    /// claimed.
    pub(crate) timers: String,
    /// HASH: each timer's due time and claim (`<due>` or `<due> <holder> <until>`).
    pub(crate) timer: String,
}

/// The partitioning and key names of one store.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    prefix: String,
    tags: Vec<String>,
}

impl Layout {
    pub(crate) fn new(prefix: &str, partitions: u16) -> Result<Self, StoreError> {
        if prefix.is_empty() || prefix.contains(['{', '}']) {
            return Err(StoreError::Backend(
                "the Redis key prefix must be non-empty and contain no braces".into(),
            ));
        }
        if !(1..=MAX_PARTITIONS).contains(&partitions) {
            return Err(StoreError::Backend(format!(
                "Redis partitions must be between 1 and {MAX_PARTITIONS}"
            )));
        }
        let tags = (0..partitions).map(|p| tag_for(p, partitions)).collect();
        Ok(Self {
            prefix: prefix.to_owned(),
            tags,
        })
    }

    pub(crate) fn partitions(&self) -> usize {
        self.tags.len()
    }

    /// The partition of `chat`.
    pub(crate) fn partition_of(&self, chat: &ChatId) -> usize {
        let n = u64::try_from(self.tags.len()).unwrap_or(1);
        usize::try_from(fnv1a(chat.as_str().as_bytes()) % n).unwrap_or(0)
    }

    fn base(&self, p: usize) -> String {
        let tag = self.tags.get(p).map_or("", String::as_str);
        format!("{}:{{{tag}}}:", self.prefix)
    }

    pub(crate) fn chat_keys(&self, chat: &ChatId) -> ChatKeys {
        let base = self.base(self.partition_of(chat));
        ChatKeys {
            head: format!("{base}h:{}", chat.as_str()),
            events: format!("{base}e:{}", chat.as_str()),
        }
    }

    pub(crate) fn part_keys(&self, p: usize) -> PartKeys {
        let base = self.base(p);
        PartKeys {
            open: format!("{base}open"),
            ended: format!("{base}ended"),
            outbox: format!("{base}outbox"),
            seq: format!("{base}seq"),
            owners: format!("{base}owners"),
            timers: format!("{base}timers"),
            timer: format!("{base}timer"),
        }
    }

    /// The keys shared by every node, outside the partitions, all in one slot (tag `{c}`):
    /// the push seq counter, the lease fence counter and the leases.
    pub(crate) fn coord_key(&self, what: &str) -> String {
        format!("{}:{{c}}:{what}", self.prefix)
    }

    /// Partition `p`'s pub/sub channel (`<prefix>:{tag}:feed`): the commit script announces
    /// each commit there. It carries the partition's tag, so in a cluster it is a sharded
    /// channel of the partition's slot, which a script may `SPUBLISH` to.
    pub(crate) fn channel(&self, p: usize) -> String {
        format!("{}feed", self.base(p))
    }

    /// The shared routing state (`<prefix>:{routing}:state`, a HASH: `v` the version, `s` the
    /// snapshot). One key with its own hash tag: one slot, whatever the partitions.
    pub(crate) fn routing_key(&self) -> String {
        format!("{}:{{routing}}:state", self.prefix)
    }

    /// The channel the routing save script announces on (`<prefix>:{routing}:news`): in the
    /// routing key's slot, so a cluster script may `SPUBLISH` to it.
    pub(crate) fn routing_channel(&self) -> String {
        format!("{}:{{routing}}:news", self.prefix)
    }

    /// The key recording the layout (`<prefix>:layout`).
    pub(crate) fn layout_key(&self) -> String {
        format!("{}:layout", self.prefix)
    }

    /// What the layout key holds for this layout.
    pub(crate) fn describe(&self) -> String {
        format!("{VERSION} partitions={}", self.tags.len())
    }

    /// Partition `p`'s hash tag (for tests and docs).
    pub(crate) fn tag(&self, p: usize) -> Option<&str> {
        self.tags.get(p).map(String::as_str)
    }
}

fn tag_for(p: u16, partitions: u16) -> String {
    let (p, n) = (u32::from(p), u32::from(partitions));
    let slots = u32::from(SLOTS);
    let (lo, hi) = (p * slots / n, (p + 1) * slots / n);
    let quarter = (hi - lo) / 4;
    let (want_lo, want_hi) = (lo + quarter, hi - quarter);
    for i in 0u32.. {
        let tag = format!("p{p}.{i}");
        let s = u32::from(crc16(tag.as_bytes()) % SLOTS);
        if (want_lo..want_hi.max(want_lo + 1)).contains(&s) {
            return tag;
        }
    }
    format!("p{p}")
}

/// FNV-1a, 64 bits: the partition hash (stable, part of the stored layout).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// CRC16-CCITT (XModem), the checksum Redis Cluster maps keys to slots with.
fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |mut crc, b| {
        crc ^= u16::from(*b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// The cluster slot of `key` (the first non-empty `{…}` section, if any, is what is hashed).
pub fn slot(key: &[u8]) -> u16 {
    let hashed = key
        .iter()
        .position(|b| *b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter()
                .position(|b| *b == b'}')
                .filter(|close| *close > 0)
                .map(|close| &rest[..close])
        })
        .unwrap_or(key);
    crc16(hashed) % SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_matches_the_cluster_spec_example() {
        // "123456789" -> 0x31C3 (cluster-spec.md's reference value).
        assert_eq!(crc16(b"123456789"), 0x31c3);
        assert_eq!(slot(b"foo{bar}baz"), slot(b"bar"));
        assert_eq!(slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") % SLOTS);
    }

    #[test]
    fn partitions_spread_evenly_over_three_masters() -> Result<(), StoreError> {
        // redis-cli --cluster create with 3 masters: 0-5460, 5461-10922, 10923-16383.
        for partitions in [3u16, 16, 64, 256, 1024] {
            let layout = Layout::new("chinwag", partitions)?;
            let mut per_master = [0usize; 3];
            for p in 0..layout.partitions() {
                let keys = layout.part_keys(p);
                let s = slot(keys.open.as_bytes());
                for k in [
                    &keys.ended,
                    &keys.outbox,
                    &keys.seq,
                    &keys.owners,
                    &layout.channel(p),
                ] {
                    assert_eq!(slot(k.as_bytes()), s, "one slot per partition");
                }
                per_master[match s {
                    0..=5460 => 0,
                    5461..=10922 => 1,
                    _ => 2,
                }] += 1;
            }
            let (min, max) = (per_master.iter().min(), per_master.iter().max());
            assert!(
                max.zip(min).is_some_and(|(a, b)| a - b <= 1),
                "{partitions} partitions: {per_master:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn a_chat_and_its_partition_share_a_slot() -> Result<(), StoreError> {
        let layout = Layout::new("x", 16)?;
        let mut used = std::collections::BTreeSet::new();
        for i in 0..200 {
            let chat = ChatId::new(format!("chat-{i}{{weird}}"));
            let p = layout.partition_of(&chat);
            used.insert(p);
            let keys = layout.chat_keys(&chat);
            let s = slot(layout.part_keys(p).open.as_bytes());
            assert_eq!(slot(keys.head.as_bytes()), s);
            assert_eq!(slot(keys.events.as_bytes()), s);
        }
        assert_eq!(used.len(), 16, "200 chats use every partition");
        Ok(())
    }

    #[test]
    fn the_routing_key_and_its_channel_share_a_slot() -> Result<(), StoreError> {
        let layout = Layout::new("chinwag", 16)?;
        let key = layout.routing_key();
        assert_eq!(key, "chinwag:{routing}:state");
        assert_eq!(
            slot(key.as_bytes()),
            slot(layout.routing_channel().as_bytes())
        );
        Ok(())
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(Layout::new("a{b", 16).is_err());
        assert!(Layout::new("", 16).is_err());
        assert!(Layout::new("a", 0).is_err());
        assert!(Layout::new("a", MAX_PARTITIONS + 1).is_err());
    }
}

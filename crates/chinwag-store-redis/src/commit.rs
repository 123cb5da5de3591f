//! A commit as one script run: the arguments it takes and what its answer means. The script
//! also announces the commit on its partition's feed channel (see `feed`), in the same run.

use crate::RedisStore;
use crate::scripts::COMMIT;
use chinwag_core::StoreError;
use chinwag_core::ports::Commit;

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(e.to_string()))
}

pub(crate) async fn commit(store: &RedisStore, c: Commit) -> Result<(), StoreError> {
    if let Some(j) = c.pushes.iter().find(|j| j.chat_id != c.chat_id) {
        return Err(StoreError::Backend(format!(
            "push job {} of chat {} committed with chat {}",
            j.seq, j.chat_id, c.chat_id
        )));
    }
    let layout = &store.layout;
    let keys = layout.chat_keys(&c.chat_id);
    let p = layout.partition_of(&c.chat_id);
    let part = layout.part_keys(p);
    let mut inv = COMMIT.prepare_invoke();
    inv.key(&keys.head)
        .key(&keys.events)
        .key(&part.open)
        .key(&part.ended)
        .key(&part.outbox)
        .key(&part.seq)
        .key(&part.owners)
        .arg(c.chat_id.as_str())
        .arg(c.base_rev);
    match &c.record {
        Some(r) => {
            let ended = r.ended_ms.map(|ms| ms.to_string()).unwrap_or_default();
            inv.arg("1").arg(json(r)?).arg(ended);
        }
        None => {
            inv.arg("0").arg("").arg("");
        }
    }
    inv.arg(crate::feed::publish_command(store.conn.is_cluster()))
        .arg(layout.channel(p))
        .arg(c.events.len());
    for e in &c.events {
        inv.arg(e.index.0).arg(json(e)?);
    }
    inv.arg(c.pushes.len());
    for j in &c.pushes {
        inv.arg(j.seq).arg(json(j)?);
    }
    let answer: String = store
        .conn
        .run(store.deadline, |mut conn| async move {
            inv.invoke_async(&mut conn).await
        })
        .await?;
    match answer.as_str() {
        "ok" => Ok(()),
        "ok unannounced" => {
            // Committed; other nodes see it on their next read or resync.
            tracing::warn!(chat = %c.chat_id.as_str(), "commit not announced on the feed channel");
            Ok(())
        }
        "conflict" => Err(StoreError::Conflict),
        why => Err(StoreError::Backend(format!(
            "commit to chat {} refused: {why}",
            c.chat_id
        ))),
    }
}

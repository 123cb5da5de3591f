//! The conformance suite of the [`SessionDirectory`] port: every backend (in memory, Redis
//! single, Redis Cluster) runs [`run`] in its tests. Checks return the first rule broken.

use super::{DirectoryError, Lease, Owner, Renewal, SessionDirectory, State};
use crate::session::ClientId;
use std::time::Duration;

/// A rule the directory broke.
pub type Broken = String;

fn fresh() -> Result<ClientId, Broken> {
    ClientId::generate().map_err(|e| e.to_string())
}

fn owner(node: &str) -> Owner {
    Owner {
        node: node.into(),
        addr: format!("http://{node}.invalid:1"),
    }
}

fn check(ok: bool, rule: &str) -> Result<(), Broken> {
    if ok { Ok(()) } else { Err(rule.to_owned()) }
}

fn call<T>(r: Result<T, DirectoryError>) -> Result<T, Broken> {
    r.map_err(|e| format!("directory call failed: {e}"))
}

/// Runs every check against `dir` (entries it makes use fresh random ids).
pub async fn run(dir: &dyn SessionDirectory) -> Result<(), Broken> {
    let long = Lease {
        lease: Duration::from_secs(30),
        keep: Duration::from_secs(30),
    };
    let (a, b) = (owner("node-a"), owner("node-b"));

    // Created entries are found with their owner, its ack flag and nothing else.
    let c = fresh()?;
    check(
        call(dir.get(&c).await)?.is_none(),
        "an unknown id has no entry",
    )?;
    call(dir.create(&c, &a, true, long).await)?;
    let e = call(dir.get(&c).await)?.ok_or("a created entry is found")?;
    check(e.owner == a && e.ack, "the entry names its owner, ack")?;
    check(
        e.subscriptions.is_empty() && e.state.is_empty(),
        "a new entry holds nothing",
    )?;

    // Renewals write what changed and report what the owner no longer owns.
    let mut state = State::new();
    state.insert("k".into(), "v".into());
    let renewal = |client: &ClientId, subs: Option<Vec<String>>, state: Option<State>| Renewal {
        client: client.clone(),
        subscriptions: subs,
        state,
    };
    let gone = fresh()?;
    let lost = call(
        dir.renew(
            &a,
            vec![
                renewal(
                    &c,
                    Some(vec!["/x".into(), "/y/*".into()]),
                    Some(state.clone()),
                ),
                renewal(&gone, None, None),
            ],
            long,
        )
        .await,
    )?;
    check(
        lost == vec![gone.clone()],
        "a renewal reports ids without an entry",
    )?;
    check(
        call(dir.get(&gone).await)?.is_none(),
        "a renewal creates nothing",
    )?;
    let e = call(dir.get(&c).await)?.ok_or("a renewed entry stays")?;
    check(
        e.subscriptions == ["/x", "/y/*"],
        "subscriptions are written",
    )?;
    check(e.state == state, "state is written")?;
    call(dir.renew(&a, vec![renewal(&c, None, None)], long).await)?;
    let e = call(dir.get(&c).await)?.ok_or("a renewed entry stays")?;
    check(
        e.subscriptions.len() == 2 && e.state == state,
        "a renewal without changes keeps subscriptions and state",
    )?;

    // Take-over: only from the current owner, once.
    check(
        call(dir.take_over(&c, &b.node, &b, long).await)?.is_none(),
        "a take-over from a node that is not the owner fails",
    )?;
    let before = call(dir.take_over(&c, &a.node, &b, long).await)?
        .ok_or("a take-over from the owner succeeds")?;
    check(
        before.owner == a && before.state == state,
        "a take-over returns the entry as it was",
    )?;
    check(
        call(dir.take_over(&c, &a.node, &b, long).await)?.is_none(),
        "a second take-over from the old owner fails",
    )?;
    let e = call(dir.get(&c).await)?.ok_or("a taken entry stays")?;
    check(
        e.owner == b && e.subscriptions.len() == 2,
        "the new owner has the entry",
    )?;
    let lost = call(
        dir.renew(&a, vec![renewal(&c, Some(vec![]), None)], long)
            .await,
    )?;
    check(
        lost == vec![c.clone()],
        "the old owner's renewal reports the entry lost",
    )?;
    let e = call(dir.get(&c).await)?.ok_or("entry")?;
    check(
        e.subscriptions.len() == 2,
        "the old owner's renewal writes nothing",
    )?;

    // Removal: only by the owner.
    call(dir.remove(&c, &a.node).await)?;
    check(
        call(dir.get(&c).await)?.is_some(),
        "a non-owner cannot remove",
    )?;
    call(dir.remove(&c, &b.node).await)?;
    check(call(dir.get(&c).await)?.is_none(), "the owner removes")?;

    // Entries expire `lease + keep` after their last write; renewals and take-overs write.
    let short = Lease {
        lease: Duration::from_millis(300),
        keep: Duration::from_millis(300),
    };
    let d = fresh()?;
    call(dir.create(&d, &a, false, short).await)?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let lost = call(dir.renew(&a, vec![renewal(&d, None, None)], short).await)?;
    check(lost.is_empty(), "an entry within its expiry is renewed")?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    check(
        call(dir.take_over(&d, &a.node, &b, short).await)?.is_some(),
        "a renewal extends the expiry (and the entry can be taken over)",
    )?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    check(
        call(dir.get(&d).await)?.is_some_and(|e| e.owner == b),
        "a take-over extends the expiry",
    )?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    check(
        call(dir.get(&d).await)?.is_none(),
        "an entry not written for lease and keep is gone",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_memory_directory_conforms() {
        let dir = super::super::MemoryDirectory::default();
        assert_eq!(super::run(&dir).await, Ok(()));
    }
}

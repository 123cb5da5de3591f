//! The [`Leases`] conformance suite: grants, fences, holder checks, expiry by TTL, and one
//! winner among holders acquiring at once. Backends call [`run_suite`] with a lease table
//! no one else uses.

use chinwag_core::lease::{Fence, Holder, LeaseName, Leases};
use std::time::Duration;

fn h(s: &str) -> Holder {
    Holder::parse(s).unwrap_or_else(|| panic!("{s} is a holder"))
}

fn n(s: &str) -> LeaseName {
    LeaseName::parse(s).unwrap_or_else(|| panic!("{s} is a lease name"))
}

const LONG: Duration = Duration::from_secs(30);

async fn fence(leases: &dyn Leases, name: &str, holder: &str, ttl: Duration) -> Option<Fence> {
    leases
        .acquire(&n(name), &h(holder), ttl)
        .await
        .unwrap_or_else(|e| panic!("acquire: {e}"))
}

async fn holder_of(leases: &dyn Leases, name: &str) -> Option<(Holder, Fence)> {
    leases
        .holder(&n(name))
        .await
        .unwrap_or_else(|e| panic!("holder: {e}"))
}

async fn grants_and_holder_checks(leases: &dyn Leases) {
    assert_eq!(
        holder_of(leases, "t/a").await,
        None,
        "a lease never taken is free"
    );
    let f1 = fence(leases, "t/a", "one", LONG).await;
    let f1 = f1.unwrap_or_else(|| panic!("a free lease is granted"));
    assert_eq!(
        fence(leases, "t/a", "two", LONG).await,
        None,
        "a held lease is refused to another"
    );
    assert_eq!(holder_of(leases, "t/a").await, Some((h("one"), f1)));
    assert_eq!(
        fence(leases, "t/a", "one", LONG).await,
        Some(f1),
        "the holder keeps its fence"
    );
    let renew = |who: &'static str| async move {
        leases
            .renew(&n("t/a"), &h(who), LONG)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert!(renew("one").await, "the holder renews");
    assert!(!renew("two").await, "another cannot renew");
    let release = |who: &'static str| async move {
        leases
            .release(&n("t/a"), &h(who))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert!(!release("two").await, "another cannot release");
    assert_eq!(holder_of(leases, "t/a").await.map(|x| x.0), Some(h("one")));
    assert!(release("one").await, "the holder releases");
    assert!(
        !release("one").await,
        "a released lease is not released again"
    );
    assert_eq!(holder_of(leases, "t/a").await, None, "released: free");
    assert!(!renew("one").await, "a released lease cannot be renewed");
    let f2 = fence(leases, "t/a", "two", LONG).await;
    assert!(
        f2.is_some_and(|f2| f2 > f1),
        "a new grant has a larger fence"
    );
    let other = fence(leases, "t/b", "one", LONG).await;
    assert!(other > f2, "fences grow across names");
}

/// Waits (bounded) until `name` is free.
async fn until_free(leases: &dyn Leases, name: &str) {
    for _ in 0..100 {
        if holder_of(leases, name).await.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("lease {name} did not expire");
}

async fn leases_expire_unless_renewed(leases: &dyn Leases) {
    let short = Duration::from_millis(300);
    let f = fence(leases, "t/ttl", "one", short).await;
    assert!(f.is_some());
    until_free(leases, "t/ttl").await;
    let renewed = leases.renew(&n("t/ttl"), &h("one"), LONG).await;
    assert!(
        !renewed.unwrap_or(true),
        "an expired lease cannot be renewed"
    );
    let g = fence(leases, "t/ttl", "two", LONG).await;
    assert!(
        g > f,
        "an expired lease is granted again, with a larger fence"
    );
    // A renewal extends: renewed for long, the lease outlives its first TTL.
    assert!(fence(leases, "t/renew", "one", short).await.is_some());
    assert!(
        leases
            .renew(&n("t/renew"), &h("one"), LONG)
            .await
            .unwrap_or(false)
    );
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        holder_of(leases, "t/renew").await.map(|x| x.0),
        Some(h("one")),
        "a renewed lease is held past its first TTL"
    );
}

async fn one_of_many_acquirers_wins(leases: &dyn Leases) {
    let holders: Vec<Holder> = (0..8).map(|i| h(&format!("racer-{i}"))).collect();
    let name = n("t/race");
    let answers =
        futures_util::future::join_all(holders.iter().map(|x| leases.acquire(&name, x, LONG)))
            .await;
    let won: Vec<usize> = answers
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Ok(Some(_))))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(won.len(), 1, "exactly one acquirer wins: {answers:?}");
    assert_eq!(
        holder_of(leases, "t/race").await.map(|x| x.0),
        Some(holders[won[0]].clone())
    );
}

/// Runs every lease rule against `leases`, which must hold no `t/…` lease.
pub async fn run_suite(leases: &dyn Leases) {
    grants_and_holder_checks(leases).await;
    leases_expire_unless_renewed(leases).await;
    one_of_many_acquirers_wins(leases).await;
}

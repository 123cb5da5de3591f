//! The [`PushClaims`](chinwag_core::push::PushClaims) rules every store passes: seqs reserved
//! once and above every seq written; on a store several processes share, job owners kept,
//! claims moving each job to exactly one claimer, and an update from a job's former owner
//! changing nothing. Run by [`crate::run_suite`].

use crate::{job, sample};
use chinwag_core::lease::Holder;
use chinwag_core::ports::ChatStore;
use chinwag_core::push::PushJob;

fn holder(s: &str) -> Holder {
    Holder::parse(s).unwrap_or_else(|| panic!("{s} is a holder"))
}

fn owned(mut j: PushJob, owner: Option<&str>) -> PushJob {
    j.owner = owner.map(holder);
    j
}

async fn seqs_are_reserved_once_above_every_seq_written(store: &dyn ChatStore) {
    let last = store.last_seq().await.unwrap_or_else(|e| panic!("{e}"));
    let a = store
        .reserve_seqs(10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(a > last, "reserved seqs start above the last written");
    let b = store
        .reserve_seqs(5)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        b >= a + 10,
        "a reservation follows the one before ({a}, then {b})"
    );
    // A job written above the counter (written by an older version, say): reserved seqs
    // go on above it.
    let high = b + 5000;
    let (mut c, _) = sample("claims-high", 1);
    c.pushes = vec![job(high, "claims-high", 1)];
    assert!(store.commit(c).await.is_ok(), "commit with a high seq");
    let next = store
        .reserve_seqs(1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(next > high, "reserved {next} after {high} was written");
    let together = futures_util::future::join_all((0..4).map(|_| store.reserve_seqs(100))).await;
    let mut firsts: Vec<u64> = together
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    firsts.sort_unstable();
    assert!(
        firsts.windows(2).all(|w| w[1] >= w[0] + 100),
        "blocks reserved at once do not overlap: {firsts:?}"
    );
    assert!(store.finish(&[high]).await.is_ok());
}

async fn owners_are_kept_and_claims_move_each_job_once(store: &dyn ChatStore) {
    let base = store
        .reserve_seqs(10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (mut c, _) = sample("claims-x", 3);
    c.pushes = vec![
        owned(job(base, "claims-x", 1), Some("node-a")),
        owned(job(base + 1, "claims-x", 2), Some("node-a")),
        owned(job(base + 2, "claims-x", 3), None),
    ];
    assert!(store.commit(c).await.is_ok(), "commit with owned jobs");
    let b_job = owned(job(base + 3, "claims-y", 1), Some("node-b"));
    assert!(
        store.enqueue(vec![b_job]).await.is_ok(),
        "enqueue an owned job"
    );
    let owners = store.owners().await.unwrap_or_else(|e| panic!("{e}"));
    for o in ["node-a", "node-b"] {
        assert!(
            owners.contains(&holder(o)),
            "{o} owns pending jobs: {owners:?}"
        );
    }
    let pending = store.pending().await.unwrap_or_default();
    let of = |seq: u64| {
        pending
            .iter()
            .find(|j| j.seq == seq)
            .and_then(|j| j.owner.clone())
    };
    assert_eq!(of(base), Some(holder("node-a")), "a job keeps its owner");
    assert_eq!(of(base + 2), None, "a job without owner reads back without");

    let got = store
        .claim(Some(&holder("node-a")), &holder("node-c"))
        .await;
    let got = got.unwrap_or_else(|e| panic!("claim: {e}"));
    let seqs: Vec<u64> = got.iter().map(|j| j.seq).collect();
    assert_eq!(
        seqs,
        [base, base + 1],
        "a claim returns the owner's jobs in seq order"
    );
    assert!(
        got.iter().all(|j| j.owner == Some(holder("node-c"))),
        "claimed jobs are the claimer's"
    );
    assert_eq!(got[1].index.0, 2, "claimed jobs are otherwise unchanged");
    let again = store
        .claim(Some(&holder("node-a")), &holder("node-d"))
        .await;
    assert!(
        again.unwrap_or_else(|e| panic!("{e}")).is_empty(),
        "a claimed job is not claimed twice"
    );
    let legacy = store
        .claim(None, &holder("node-c"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        legacy.iter().map(|j| j.seq).collect::<Vec<_>>(),
        [base + 2],
        "jobs without owner"
    );

    // The former owner's update of a claimed job changes nothing.
    let mut stale = owned(job(base, "claims-x", 1), Some("node-a"));
    stale.attempt = 9;
    let _ = store.update(&stale).await;
    let now = store.pending().await.unwrap_or_default();
    let j = now.iter().find(|j| j.seq == base);
    assert_eq!(
        j.map(|j| (j.attempt, j.owner.clone())),
        Some((0, Some(holder("node-c")))),
        "stale update"
    );
    // The owner's own update applies.
    let mut mine = owned(job(base, "claims-x", 1), Some("node-c"));
    mine.attempt = 2;
    assert!(store.update(&mine).await.is_ok());
    let now = store.pending().await.unwrap_or_default();
    assert_eq!(
        now.iter().find(|j| j.seq == base).map(|j| j.attempt),
        Some(2),
        "owner's update"
    );

    // Claimed at once by four: each job goes to one of them.
    let claimers: Vec<Holder> = (0..4).map(|i| holder(&format!("taker-{i}"))).collect();
    let b = holder("node-b");
    let answers =
        futures_util::future::join_all(claimers.iter().map(|t| store.claim(Some(&b), t))).await;
    let won: usize = answers
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")).len())
        .sum();
    assert_eq!(won, 1, "one claimer got node-b's one job");
    assert!(
        store
            .finish(&[base, base + 1, base + 2, base + 3])
            .await
            .is_ok()
    );
}

async fn one_process_owns_every_job(store: &dyn ChatStore) {
    let base = store
        .reserve_seqs(2)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (mut c, _) = sample("claims-one", 2);
    c.pushes = vec![job(base, "claims-one", 1), job(base + 1, "claims-one", 2)];
    assert!(store.commit(c).await.is_ok());
    let got = store
        .claim(None, &holder("me"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        got.iter().map(|j| j.seq).collect::<Vec<_>>(),
        [base, base + 1],
        "every pending job"
    );
    assert!(store.finish(&[base, base + 1]).await.is_ok());
}

pub(crate) async fn run(store: &dyn ChatStore) {
    seqs_are_reserved_once_above_every_seq_written(store).await;
    if store.shared() {
        owners_are_kept_and_claims_move_each_job_once(store).await;
    } else {
        one_process_owns_every_job(store).await;
    }
    assert!(
        store.pending().await.unwrap_or_default().is_empty(),
        "claims suite leaves nothing"
    );
}

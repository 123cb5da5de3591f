//! Idle sockets under a low open-file limit (defect 4: under a 1,024-descriptor limit, 1,009
//! idle sockets locked every customer out while "accept failed" was logged every 50 ms).
//! The binary runs under `prlimit --nofile=1024:1024`; more idle sockets are opened (from
//! ten addresses) than the whole limit. Each extra one is refused with a clean `503` (never left hanging in the
//! backlog while the process is out of descriptors), the held ones are closed after
//! `idle_timeout_secs`, a customer arriving meanwhile is refused cleanly and one arriving
//! afterwards starts a chat, and the log says so a bounded number of times.

use crate::adv_net::{End, Response, connect_from, exchange, read_until_end, within};
use crate::common::*;
use std::time::Duration;
use tokio::sync::mpsc;

/// The binary's open-file limit.
const FDS: u64 = 1024;
/// Idle sockets opened: more than the whole descriptor limit.
const SOCKETS: usize = 1100;

const CONFIG: &str = "
[server]
idle_timeout_secs = 8
header_timeout_secs = 2
";

/// What became of one idle socket.
#[derive(Debug)]
enum Fate {
    /// Answered `503` with `Retry-After`, then closed.
    Refused,
    /// Held without a byte, then closed by the server.
    IdleClosed,
    /// Anything else (a reset, another answer, still open at the deadline).
    Other(String),
}

fn fate(bytes: &[u8], end: &End) -> Fate {
    match (bytes.is_empty(), end) {
        (true, End::Closed) => Fate::IdleClosed,
        (false, End::Closed) => match Response::parse(bytes) {
            Ok(r) if r.status == 503 && r.header("retry-after").is_some() => Fate::Refused,
            other => Fate::Other(format!("{other:?}")),
        },
        _ => Fate::Other(format!("{:?} {end:?}", String::from_utf8_lossy(bytes))),
    }
}

const REQUEST_CHAT: &str = "POST /genesys/2/chat/customer-support/ HTTP/1.1\r\nhost: x\r\n\
     content-type: application/x-www-form-urlencoded\r\ncontent-length: 11\r\n\r\nnickname=Jo";

/// Lets this test process hold `n` sockets of its own (its soft limit may be 1,024).
fn allow_own_descriptors(n: u64) -> R {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|c| c >= n) {
        return Ok(());
    }
    if limit.maximum.is_some_and(|m| m < n) {
        return Err(format!("the hard open-file limit is below {n}").into());
    }
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    Ok(setrlimit(Resource::Nofile, raised)?)
}

#[tokio::test]
async fn idle_sockets_beyond_the_descriptor_limit_are_refused_cleanly_and_time_out() -> R {
    allow_own_descriptors(SOCKETS as u64 + 256)?;
    let launch = Launch {
        nofile: Some(FDS),
        capture_stderr: true,
        ..Launch::default()
    };
    let server = Server::start_with(CONFIG, launch).await?;
    let addr = server.addr();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..SOCKETS {
        // From ten addresses, each under its per-address cap (256).
        let mut s = connect_from(&format!("127.0.0.{}", 10 + i % 10), &addr).await?;
        let tx = tx.clone();
        tokio::spawn(async move {
            let (bytes, end) = read_until_end(&mut s, within(40)).await;
            drop(s);
            let _ = tx.send(fate(&bytes, &end));
        });
    }
    drop(tx);
    // Wait for the first refusal: from then on the server is full.
    let mut fates = Vec::new();
    while !fates.iter().any(|f| matches!(f, Fate::Refused)) {
        let f = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await?
            .ok_or("every socket ended without a refusal")?;
        fates.push(f);
    }
    // A customer arriving while the idle sockets hold every place is refused cleanly.
    let (r, end) = exchange(&addr, REQUEST_CHAT.as_bytes(), 20).await?;
    assert_eq!(
        (r.status, end),
        (503, End::Closed),
        "{:?}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.header("retry-after"), Some("5"));
    // Every idle socket is either refused or, after the idle timeout, closed.
    while let Some(f) = tokio::time::timeout(Duration::from_secs(45), rx.recv()).await? {
        fates.push(f);
    }
    assert_eq!(fates.len(), SOCKETS);
    let others: Vec<&str> = fates
        .iter()
        .filter_map(|f| match f {
            Fate::Other(what) => Some(what.as_str()),
            _ => None,
        })
        .collect();
    assert!(others.is_empty(), "{others:?}");
    let refused = fates.iter().filter(|f| matches!(f, Fate::Refused)).count();
    let held = SOCKETS - refused;
    assert!(
        held >= 16 && held < FDS as usize && refused > SOCKETS - FDS as usize,
        "held {held}, refused {refused}"
    );
    // Now a customer gets in (places come back once the closed sockets are gone).
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let chat = loop {
        let r = client()
            .post(format!("{}/", server.gms("customer-support")))
            .form(&[("nickname", "After the flood")])
            .send()
            .await;
        if let Ok(r) = r
            && r.status().as_u16() == 200
        {
            break r.json::<serde_json::Value>().await?;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no customer got in after the idle sockets were closed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(chat["messages"][0]["type"], "ParticipantJoined", "{chat}");
    // The log tells what happened without flooding.
    server.stderr_count("connection refused").await;
    let log = server.stderr();
    let count = |what: &str| log.iter().filter(|l| l.contains(what)).count();
    assert!(
        (1..=3).contains(&count("connection refused")),
        "{} 'connection refused' lines",
        count("connection refused")
    );
    assert!(
        count("accept failed") <= 3,
        "{} 'accept failed' lines",
        count("accept failed")
    );
    Ok(())
}

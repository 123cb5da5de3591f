//! The attackers of the `abuse` scenario, on their own thread and runtime (so their tasks
//! never queue ahead of the legitimate customers' in one scheduler): idle sockets that never
//! send a byte, slowloris connections trickling a request head a byte at a time, and one
//! address flooding `requestChat`. Idle and slowloris connections come back when the server
//! closes them; every attacker runs until stopped.

use crate::gms::{SERVICE, request_form};
use crate::load::{Conn, connect_from};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, watch};

/// What to attack with.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) idle: usize,
    pub(crate) idle_per_address: usize,
    pub(crate) slowloris: usize,
    pub(crate) slowloris_per_address: usize,
    /// Time between two bytes of a slowloris head.
    pub(crate) trickle: Duration,
    /// `requestChat` per second from the flooding address (0: none).
    pub(crate) flood_rate: f64,
}

/// The attackers' source addresses: idle 127.2.x.y, slowloris 127.3.x.y, flood 127.4.0.1.
fn addr_of(group: u8, index: usize) -> IpAddr {
    let i = u32::try_from(index).unwrap_or(u32::MAX);
    IpAddr::V4(Ipv4Addr::new(
        127,
        group,
        u8::try_from(i / 250).unwrap_or(u8::MAX),
        u8::try_from(i % 250 + 1).unwrap_or(u8::MAX),
    ))
}

/// Counters, read while the attack runs and reported at the end.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) idle_open: AtomicU64,
    idle_connects: AtomicU64,
    idle_closed: AtomicU64,
    idle_refused_429: AtomicU64,
    idle_refused_503: AtomicU64,
    idle_connect_failed: AtomicU64,
    pub(crate) slow_open: AtomicU64,
    slow_connects: AtomicU64,
    slow_closed: AtomicU64,
    slow_answered: AtomicU64,
    slow_connect_failed: AtomicU64,
    slow_bytes: AtomicU64,
    flood_sent: AtomicU64,
    flood_200: AtomicU64,
    flood_429: AtomicU64,
    flood_429_retry_after: AtomicU64,
    flood_429_code_240: AtomicU64,
    flood_other: AtomicU64,
    flood_failed: AtomicU64,
}

impl Counters {
    pub(crate) fn report(&self) -> Value {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        json!({
            "idle": {
                "open_now": g(&self.idle_open), "connects": g(&self.idle_connects),
                "closed_by_server": g(&self.idle_closed), "refused_429": g(&self.idle_refused_429),
                "refused_503": g(&self.idle_refused_503), "connect_failed": g(&self.idle_connect_failed),
            },
            "slowloris": {
                "open_now": g(&self.slow_open), "connects": g(&self.slow_connects),
                "closed_by_server": g(&self.slow_closed), "answered_before_close": g(&self.slow_answered),
                "connect_failed": g(&self.slow_connect_failed), "bytes_sent": g(&self.slow_bytes),
            },
            "flood": {
                "sent": g(&self.flood_sent), "ok_200": g(&self.flood_200), "refused_429": g(&self.flood_429),
                "refused_429_with_retry_after": g(&self.flood_429_retry_after),
                "refused_429_gms_code_240": g(&self.flood_429_code_240),
                "other_status": g(&self.flood_other), "failed": g(&self.flood_failed),
            },
        })
    }
}

/// A running attack.
pub(crate) struct Attack {
    stop: watch::Sender<bool>,
    thread: std::thread::JoinHandle<()>,
    pub(crate) counters: Arc<Counters>,
}

impl Attack {
    /// Starts every attacker against `addr` on a thread of its own.
    pub(crate) fn start(addr: &str, plan: Plan) -> anyhow::Result<Self> {
        let (stop, stopped) = watch::channel(false);
        let counters = Arc::new(Counters::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (addr, c) = (addr.to_owned(), counters.clone());
        let thread = std::thread::Builder::new()
            .name("attack".into())
            .spawn(move || rt.block_on(run(addr, plan, c, stopped)))?;
        Ok(Self {
            stop,
            thread,
            counters,
        })
    }

    /// Stops every attacker and waits for them to close their sockets.
    pub(crate) fn stop(self) -> Value {
        let _ = self.stop.send(true);
        let _ = self.thread.join();
        self.counters.report()
    }
}

async fn run(addr: String, plan: Plan, c: Arc<Counters>, stopped: watch::Receiver<bool>) {
    // Connections being opened at once, so that a ramp or a reconnect wave does not
    // overflow the listen backlog all at once (SYNs beyond it are retried after 1 s).
    let connecting = Arc::new(Semaphore::new(128));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..plan.idle {
        let from = addr_of(2, i / plan.idle_per_address.max(1));
        let (a, c, s, sem) = (addr.clone(), c.clone(), stopped.clone(), connecting.clone());
        tasks.spawn(idle(a, from, c, s, sem));
    }
    for i in 0..plan.slowloris {
        let from = addr_of(3, i / plan.slowloris_per_address.max(1));
        // Spread over one trickle period so the bytes do not all arrive together.
        let phase = plan
            .trickle
            .mul_f64(i as f64 / plan.slowloris.max(1) as f64);
        let (a, c, s, sem) = (addr.clone(), c.clone(), stopped.clone(), connecting.clone());
        tasks.spawn(slowloris(a, from, plan.trickle, phase, c, s, sem));
    }
    if plan.flood_rate > 0.0 {
        tasks.spawn(flood(
            addr.clone(),
            plan.flood_rate,
            c.clone(),
            stopped.clone(),
        ));
    }
    while tasks.join_next().await.is_some() {}
}

/// Opens a connection from `from`, at most [`Semaphore`]'s count at once; `None` when it
/// failed (after a pause) or the attack stopped.
async fn open(
    addr: &str,
    from: IpAddr,
    sem: &Semaphore,
    failed: &AtomicU64,
) -> Option<tokio::net::TcpStream> {
    let permit = sem.acquire().await.ok()?;
    let r = tokio::time::timeout(Duration::from_secs(5), connect_from(addr, Some(from))).await;
    drop(permit);
    match r {
        Ok(Ok(s)) => Some(s),
        _ => {
            failed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_secs(1)).await;
            None
        }
    }
}

/// An idle socket: connects, sends nothing, and connects again once the server closes it.
async fn idle(
    addr: String,
    from: IpAddr,
    c: Arc<Counters>,
    mut stopped: watch::Receiver<bool>,
    sem: Arc<Semaphore>,
) {
    let mut buf = [0u8; 64];
    while !*stopped.borrow() {
        let Some(mut s) = open(&addr, from, &sem, &c.idle_connect_failed).await else {
            continue;
        };
        c.idle_connects.fetch_add(1, Ordering::Relaxed);
        c.idle_open.fetch_add(1, Ordering::Relaxed);
        let read = tokio::select! {
            r = s.read(&mut buf) => Some(r),
            _ = stopped.changed() => None,
        };
        c.idle_open.fetch_sub(1, Ordering::Relaxed);
        let Some(read) = read else { return };
        let pause = match read {
            Ok(n) if n > 0 && buf.starts_with(b"HTTP/1.1 429") => {
                c.idle_refused_429.fetch_add(1, Ordering::Relaxed);
                Duration::from_secs(1)
            }
            Ok(n) if n > 0 && buf.starts_with(b"HTTP/1.1 503") => {
                c.idle_refused_503.fetch_add(1, Ordering::Relaxed);
                Duration::from_secs(1)
            }
            _ => {
                c.idle_closed.fetch_add(1, Ordering::Relaxed);
                Duration::from_millis(100)
            }
        };
        drop(s);
        tokio::time::sleep(pause).await;
    }
}

/// The head a slowloris connection trickles: a plausible request, then header lines
/// without end (it never completes).
fn slow_byte(k: usize) -> u8 {
    const START: &[u8] = b"POST /genesys/2/chat/customer-support/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\
        User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\n\
        Content-Type: application/x-www-form-urlencoded\r\n";
    const MORE: &[u8] = b"X-Filler: aaaaaaaaaaaaaaaa\r\n";
    match START.get(k) {
        Some(b) => *b,
        None => MORE[(k - START.len()) % MORE.len()],
    }
}

/// A slowloris connection: one byte of a head every `trickle`, connecting again once the
/// server closes it.
async fn slowloris(
    addr: String,
    from: IpAddr,
    trickle: Duration,
    phase: Duration,
    c: Arc<Counters>,
    mut stopped: watch::Receiver<bool>,
    sem: Arc<Semaphore>,
) {
    let mut buf = [0u8; 256];
    while !*stopped.borrow() {
        let Some(mut s) = open(&addr, from, &sem, &c.slow_connect_failed).await else {
            continue;
        };
        c.slow_connects.fetch_add(1, Ordering::Relaxed);
        c.slow_open.fetch_add(1, Ordering::Relaxed);
        let start = tokio::time::Instant::now() + phase;
        let mut tick = tokio::time::interval_at(start, trickle);
        let mut k = 0;
        let stop = loop {
            tokio::select! {
                r = s.read(&mut buf) => {
                    if matches!(r, Ok(n) if n > 0) {
                        c.slow_answered.fetch_add(1, Ordering::Relaxed);
                    }
                    c.slow_closed.fetch_add(1, Ordering::Relaxed);
                    break false;
                }
                _ = tick.tick() => {
                    if s.write_all(&[slow_byte(k)]).await.is_err() {
                        c.slow_closed.fetch_add(1, Ordering::Relaxed);
                        break false;
                    }
                    c.slow_bytes.fetch_add(1, Ordering::Relaxed);
                    k += 1;
                }
                _ = stopped.changed() => break true,
            }
        };
        c.slow_open.fetch_sub(1, Ordering::Relaxed);
        drop(s);
        if stop {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One address requesting chats at `rate` per second, whatever the answers.
async fn flood(addr: String, rate: f64, c: Arc<Counters>, mut stopped: watch::Receiver<bool>) {
    let from = addr_of(4, 0);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut conn: Option<Conn> = None;
    let path = format!("{SERVICE}/");
    let mut n = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return,
        }
        if conn.is_none() {
            conn = Conn::open_from(&addr, Some(from)).await.ok();
        }
        let Some(cn) = conn.as_mut() else {
            c.flood_failed.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        c.flood_sent.fetch_add(1, Ordering::Relaxed);
        n += 1;
        match cn.post_form(&path, &request_form(n, false)).await {
            Ok((200, _, _)) => c.flood_200.fetch_add(1, Ordering::Relaxed),
            Ok((429, retry, body)) => {
                if retry.is_some() {
                    c.flood_429_retry_after.fetch_add(1, Ordering::Relaxed);
                }
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if v["errors"][0]["code"] == 240 {
                    c.flood_429_code_240.fetch_add(1, Ordering::Relaxed);
                }
                c.flood_429.fetch_add(1, Ordering::Relaxed)
            }
            Ok(_) => c.flood_other.fetch_add(1, Ordering::Relaxed),
            Err(_) => {
                conn = None;
                c.flood_failed.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

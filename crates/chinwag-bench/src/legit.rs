//! The legitimate customers of the `abuse` scenario: each from its own source address, each
//! on a fixed clock (open loop: a slow answer does not slow the offered rate, and a request
//! that could not be sent on time counts its wait), cycling through a realistic chat — request
//! a chat with the widgets' user data, refresh polls and a few sends, disconnect. A request
//! held up by the customer's previous one is timed from its scheduled time. Every
//! error is counted: a non-200 status, a GMS `statusCode` other than 0, a connection error or
//! a request not answered within 10 s.

use crate::gms::{Ids, SERVICE, per_chat, request_form};
use crate::load::Conn;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use tokio::time::Instant;

/// The shape of the legitimate load.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) customers: usize,
    /// Time between two requests of one customer.
    pub(crate) interval: Duration,
    /// Requests per chat (the first requests the chat, the last disconnects).
    pub(crate) cycle: usize,
    pub(crate) duration: Duration,
}

/// Positions in the cycle where the customer sends a message (the others poll).
const SENDS: [usize; 4] = [2, 5, 9, 12];
const MESSAGES: [&str; 4] = [
    "Hi, I have a question about my credit card statement",
    "There is a payment on the 14th I do not recognise",
    "It says ACME ONLINE 42.50",
    "Thanks, I will wait",
];

/// The customer's source address: 127.1.x.y.
fn addr_of(index: usize) -> IpAddr {
    let i = u32::try_from(index).unwrap_or(u32::MAX);
    IpAddr::V4(Ipv4Addr::new(
        127,
        1,
        u8::try_from(i / 250).unwrap_or(u8::MAX),
        u8::try_from(i % 250 + 1).unwrap_or(u8::MAX),
    ))
}

/// What one customer measured after the warm-up.
#[derive(Debug, Default)]
struct Tally {
    /// Latency per operation, in µs: from the scheduled time when the customer's previous
    /// request was still in flight then, else from the send.
    latency: BTreeMap<&'static str, Vec<u32>>,
    /// Latency from the send alone, in µs.
    service: Vec<u32>,
    /// (second of the measured period the request was scheduled in, latency in µs).
    timeline: Vec<(u32, u32)>,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        for (k, v) in o.latency {
            self.latency.entry(k).or_default().extend(v);
        }
        self.service.extend(o.service);
        self.timeline.extend(o.timeline);
        for (k, v) in o.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }
}

fn us(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Runs the customers for `shape.duration` from now; the first cycle is a warm-up, left out.
pub(crate) async fn run(addr: &str, shape: Shape) -> anyhow::Result<Value> {
    let start = Instant::now();
    let end = start + shape.duration;
    let warm = start + shape.interval * u32::try_from(shape.cycle).unwrap_or(u32::MAX);
    let mut tasks = Vec::new();
    for i in 0..shape.customers {
        let addr = addr.to_owned();
        let offset = shape
            .interval
            .mul_f64(i as f64 / shape.customers.max(1) as f64);
        tasks.push(tokio::spawn(customer(
            addr,
            i,
            start + offset,
            end,
            warm,
            shape,
        )));
    }
    let mut all = Tally::default();
    for t in tasks {
        all.merge(t.await?);
    }
    tokio::time::sleep_until(end).await; // the phase lasts its time even with no customer
    let measured = end.saturating_duration_since(warm).as_secs_f64();
    Ok(report(all, measured, shape))
}

/// One customer.
async fn customer(
    addr: String,
    i: usize,
    first: Instant,
    end: Instant,
    warm: Instant,
    shape: Shape,
) -> Tally {
    let from = Some(addr_of(i));
    let mut tally = Tally::default();
    let mut conn: Option<Conn> = None;
    let mut chat: Option<(Ids, u64)> = None;
    let mut prev_done = first;
    for tick in 0usize.. {
        let at = first + shape.interval * u32::try_from(tick).unwrap_or(u32::MAX);
        if at >= end {
            break;
        }
        tokio::time::sleep_until(at).await;
        let pos = (tick + i) % shape.cycle;
        let (op, path, form) = match (pos, &chat) {
            (0, _) => ("requestChat", format!("{SERVICE}/"), request_form(i, true)),
            (_, None) => continue, // first cycle: no chat yet
            (p, Some((ids, _))) if p == shape.cycle - 1 => {
                let (path, form) = per_chat(ids, "disconnect", "");
                ("disconnect", path, form)
            }
            (p, Some((ids, next))) => {
                let (op, extra) = match SENDS.iter().position(|s| *s == p) {
                    Some(m) => (
                        "send",
                        format!("&message={}", crate::gms::urlencode(MESSAGES[m])),
                    ),
                    None => ("refresh", String::new()),
                };
                let (path, form) = per_chat(ids, op, &format!("&transcriptPosition={next}{extra}"));
                (op, path, form)
            }
        };
        let counted = at >= warm;
        let mut error = |what: String| {
            if counted {
                *tally.errors.entry(what).or_default() += 1;
            }
        };
        // Timed from the schedule when this customer's previous request held it up (the
        // server made it late), else from the send (not counting the generator's timer).
        let sent = Instant::now();
        let begin = if prev_done > at { at } else { sent };
        if conn.is_none() {
            match tokio::time::timeout(Duration::from_secs(5), Conn::open_from(&addr, from)).await {
                Ok(Ok(c)) => conn = Some(c),
                _ => {
                    error("connect failed".into());
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let answer = tokio::time::timeout(Duration::from_secs(10), c.post_form(&path, &form)).await;
        let done = Instant::now();
        prev_done = done;
        let ok = match answer {
            Ok(Ok((200, _, body))) => {
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let code = v["statusCode"].as_i64().unwrap_or(-1);
                if code != 0 {
                    error(format!("{op}: statusCode {code}"));
                    false
                } else {
                    match op {
                        "requestChat" => chat = Ids::from_answer(&body).ok().map(|ids| (ids, 1)),
                        "disconnect" => chat = None,
                        _ => {
                            if let (Some((_, next)), Some(n)) =
                                (&mut chat, v["nextPosition"].as_u64())
                            {
                                *next = n;
                            }
                        }
                    }
                    true
                }
            }
            Ok(Ok((status, _, _))) => {
                error(format!("{op}: HTTP {status}"));
                false
            }
            Ok(Err(_)) => {
                conn = None;
                error(format!("{op}: connection error"));
                false
            }
            Err(_) => {
                conn = None;
                error(format!("{op}: no answer within 10 s"));
                false
            }
        };
        if !ok && matches!(op, "requestChat" | "disconnect") {
            chat = None;
        }
        if counted && ok {
            tally.latency.entry(op).or_default().push(us(done - begin));
            tally.service.push(us(done - sent));
            let second = u32::try_from((at - warm).as_secs()).unwrap_or(u32::MAX);
            tally.timeline.push((second, us(done - begin)));
        }
    }
    tally
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// Percentile of unsorted values.
fn pct_f(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn lat(mut v: Vec<u32>) -> Value {
    v.sort_unstable();
    json!({"requests": v.len(), "p50_ms": pct(&v, 0.5), "p99_ms": pct(&v, 0.99), "max_ms": pct(&v, 1.0)})
}

/// The p99 of each second's requests (by scheduled time), in ms.
fn p99_per_second(timeline: &[(u32, u32)]) -> Vec<f64> {
    let mut by: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (s, l) in timeline {
        by.entry(*s).or_default().push(*l);
    }
    by.into_values()
        .map(|mut v| {
            v.sort_unstable();
            pct(&v, 0.99)
        })
        .collect()
}

fn report(t: Tally, measured_secs: f64, shape: Shape) -> Value {
    let all: Vec<u32> = t.latency.values().flatten().copied().collect();
    let per_second = p99_per_second(&t.timeline);
    let ok = all.len() as u64;
    let errors: u64 = t.errors.values().sum();
    let per_op: serde_json::Map<String, Value> = t
        .latency
        .into_iter()
        .map(|(k, v)| (k.to_owned(), lat(v)))
        .collect();
    json!({
        "customers": shape.customers,
        "interval_ms": shape.interval.as_millis(),
        "requests_per_chat": shape.cycle,
        "offered_requests_per_sec": shape.customers as f64 / shape.interval.as_secs_f64(),
        "offered_new_chats_per_sec": shape.customers as f64 / (shape.interval.as_secs_f64() * shape.cycle as f64),
        "measured_seconds": measured_secs,
        "ok": ok,
        "errors": errors,
        "errors_by_kind": t.errors,
        "latency": lat(all),
        "latency_from_send": lat(t.service),
        "p99_per_second": {
            "median_ms": pct_f(&per_second, 0.5),
            "worst_ms": pct_f(&per_second, 1.0),
            "seconds_over_2x_median": per_second.iter().filter(|v| **v > 2.0 * pct_f(&per_second, 0.5)).count(),
            "each_ms": per_second,
        },
        "per_operation": per_op,
    })
}

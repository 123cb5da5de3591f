//! A small HTTP/1.1 keep-alive load generator: N connections, each sending one request after
//! the other, with per-request latency, and a once-a-second progress line on stderr.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One keep-alive connection.
pub(crate) struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    pub(crate) async fn open(addr: &str) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Self {
            sender,
            host: addr.to_owned(),
        })
    }

    /// POSTs a urlencoded form; returns status and body.
    pub(crate) async fn post(&mut self, path: &str, form: &str) -> anyhow::Result<(u16, Bytes)> {
        self.post_as(path, "application/x-www-form-urlencoded", form)
            .await
    }

    /// POSTs `body` with `content_type`; returns status and body.
    pub(crate) async fn post_as(
        &mut self,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await?;
        let req = hyper::Request::post(path)
            .header("host", &self.host)
            .header("content-type", content_type)
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))?;
        let res = self.sender.send_request(req).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// Counts and latencies of one measured phase.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) latencies_us: Vec<u32>,
    pub(crate) elapsed: Duration,
}

impl Stats {
    pub(crate) fn merge(&mut self, other: Stats) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
    }

    pub(crate) fn per_sec(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Latency percentile in milliseconds.
    pub(crate) fn pct_ms(&mut self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }
}

/// Prints progress every second until dropped.
pub(crate) struct Progress {
    task: tokio::task::JoinHandle<()>,
}

impl Progress {
    pub(crate) fn start(label: String, counter: Arc<AtomicU64>, total: Option<u64>) -> Self {
        let started = Instant::now();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let n = counter.load(Ordering::Relaxed);
                let of = total.map(|t| format!("/{t}")).unwrap_or_default();
                eprint!(
                    "\r[{label}] {:>5.1}s  {n}{of} requests   ",
                    started.elapsed().as_secs_f64()
                );
            }
        });
        Self { task }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.task.abort();
        eprintln!();
    }
}

/// Runs `conns` workers for `duration`; worker `i` cycles through `requests` starting at `i`.
pub(crate) async fn steady(
    addr: &str,
    requests: Arc<Vec<(String, String)>>,
    conns: usize,
    duration: Duration,
    label: &str,
) -> anyhow::Result<Stats> {
    let counter = Arc::new(AtomicU64::new(0));
    let _progress = Progress::start(label.to_owned(), counter.clone(), None);
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..conns {
        let (requests, counter, addr) = (requests.clone(), counter.clone(), addr.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            let mut conn = Conn::open(&addr).await?;
            let mut i = w;
            while Instant::now() < deadline {
                let (path, body) = &requests[i % requests.len()];
                let t = Instant::now();
                match conn.post(path, body).await {
                    Ok((200, _)) => stats.requests += 1,
                    Ok(_) => stats.errors += 1,
                    Err(_) => {
                        stats.errors += 1;
                        conn = Conn::open(&addr).await?;
                    }
                }
                stats
                    .latencies_us
                    .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                counter.fetch_add(1, Ordering::Relaxed);
                i += conns;
            }
            anyhow::Ok(stats)
        }));
    }
    let mut total = Stats::default();
    for t in tasks {
        total.merge(t.await??);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

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

/// Connects to `addr` from the source address `from` (any of 127.0.0.0/8 works on Linux
/// loopback, so each simulated client can have its own address), or the default one.
pub(crate) async fn connect_from(
    addr: &str,
    from: Option<std::net::IpAddr>,
) -> std::io::Result<tokio::net::TcpStream> {
    let Some(ip) = from else {
        return tokio::net::TcpStream::connect(addr).await;
    };
    let target: std::net::SocketAddr = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let socket = match ip {
        std::net::IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        std::net::IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.bind(std::net::SocketAddr::new(ip, 0))?;
    socket.connect(target).await
}

impl Conn {
    pub(crate) async fn open(addr: &str) -> anyhow::Result<Self> {
        Self::open_from(addr, None).await
    }

    /// Opens a connection from the source address `from` (see [`connect_from`]).
    pub(crate) async fn open_from(
        addr: &str,
        from: Option<std::net::IpAddr>,
    ) -> anyhow::Result<Self> {
        let stream = connect_from(addr, from).await?;
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

    /// GETs `path`; returns status and body.
    pub(crate) async fn get(&mut self, path: &str) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await?;
        let req = hyper::Request::get(path)
            .header("host", &self.host)
            .body(Full::new(Bytes::new()))?;
        let res = self.sender.send_request(req).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// POSTs a urlencoded form; returns status, the `Retry-After` header and body.
    pub(crate) async fn post_form(
        &mut self,
        path: &str,
        form: &str,
    ) -> anyhow::Result<(u16, Option<String>, Bytes)> {
        self.sender.ready().await?;
        let req = hyper::Request::post(path)
            .header("host", &self.host)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::copy_from_slice(form.as_bytes())))?;
        let res = self.sender.send_request(req).await?;
        let status = res.status().as_u16();
        let retry = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = res.into_body().collect().await?.to_bytes();
        Ok((status, retry, body))
    }

    /// An agent API call: `method path` with `Authorization: Bearer token` and, when given,
    /// a JSON body; returns status and body.
    pub(crate) async fn agent(
        &mut self,
        method: hyper::Method,
        path: &str,
        token: &str,
        json: Option<&str>,
    ) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await?;
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host)
            .header("authorization", format!("Bearer {token}"));
        if json.is_some() {
            req = req.header("content-type", "application/json");
        }
        let body = Bytes::copy_from_slice(json.unwrap_or_default().as_bytes());
        let res = self.sender.send_request(req.body(Full::new(body))?).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await?.to_bytes();
        Ok((status, body))
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

    /// Counts one successful request that started at `t`, and its latency.
    pub(crate) fn record(&mut self, t: Instant) {
        self.requests += 1;
        self.latencies_us
            .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
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

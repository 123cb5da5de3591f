//! Scenario `files`: file transfer throughput against its ceiling, and memory under many
//! large uploads at once.
//!
//! - Throughput: `files` uploads of `size_mb` each, one after the other (one customer, one
//!   chat per file), then each downloaded once, against the ceiling in the same run (dirty
//!   pages written back before each timed phase, so none pays for another's): the
//!   same bytes written (and synced, as the server does before answering) to and read back
//!   from files in the same directory with no server. The ratio is Chinwag's MB/s over the
//!   ceiling's. Before each read phase the page cache is emptied when the scenario runs as
//!   root (`reads_from_disk`), so both read the disk; otherwise both read memory.
//! - Memory: a fresh server, its idle RSS, then `concurrent` customers uploading `size_mb`
//!   each at once; the peak RSS (sampled every 50 ms) above idle.

use crate::fupload::{self, CHUNK};
use crate::gms::{Ids, request_chat};
use crate::load::Conn;
use crate::procs;
use crate::rest::start_chinwag_with;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Arguments of the `files` scenario.
#[derive(Debug, clap::Args)]
pub(crate) struct FilesArgs {
    /// The chinwag binary (default: `chinwag` next to this executable).
    #[arg(long)]
    chinwag: Option<PathBuf>,
    /// Size of each file, in MiB.
    #[arg(long, default_value_t = 50)]
    size_mb: u64,
    /// Files uploaded one after the other for the throughput measure.
    #[arg(long, default_value_t = 10)]
    files: usize,
    /// Customers uploading at once for the memory measure.
    #[arg(long, default_value_t = 100)]
    concurrent: usize,
    /// Write the JSON result here instead of stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// File transfer on, every file limit out of the way (`size_mb` per file).
fn config(size_mb: u64) -> String {
    let cap = (size_mb + 1) << 20;
    format!(
        "[services.customer-support.files]\nupload_need_agent = false\nupload_max_file_size = {cap}\n\
         upload_max_files = 1000\nupload_max_total_size = {}\ndownload_attempts = 1000\n",
        cap * 1000
    )
}

/// Empties the page cache (as root), so that both the ceiling and Chinwag read the disk,
/// not memory: whether it could.
fn drop_caches() -> bool {
    sync() && std::fs::write("/proc/sys/vm/drop_caches", "1\n").is_ok()
}

/// Writes every dirty page back, so that a phase does not pay for the one before it.
fn sync() -> bool {
    std::process::Command::new("sync")
        .status()
        .is_ok_and(|s| s.success())
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / d.as_secs_f64().max(1e-9)
}

/// The ceiling: `n` files of `size` bytes written in `CHUNK`s and synced, then read back.
fn ceiling(dir: &std::path::Path, n: usize, size: u64) -> anyhow::Result<(Duration, Duration)> {
    let chunk = fupload::chunk();
    sync();
    let t = Instant::now();
    for i in 0..n {
        let mut f = std::fs::File::create(dir.join(format!("ceiling-{i}")))?;
        let mut left = size;
        while left > 0 {
            let k = left.min(CHUNK as u64) as usize;
            f.write_all(&chunk[..k])?;
            left -= k as u64;
        }
        f.sync_all()?;
    }
    let write = t.elapsed();
    drop_caches();
    let t = Instant::now();
    let mut buf = vec![0u8; CHUNK];
    for i in 0..n {
        let mut f = std::fs::File::open(dir.join(format!("ceiling-{i}")))?;
        while f.read(&mut buf)? > 0 {}
    }
    Ok((write, t.elapsed()))
}

async fn chats(addr: &str, n: usize) -> anyhow::Result<Vec<Ids>> {
    let mut conn = Conn::open(addr).await?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(request_chat(&mut conn, i, false).await?);
    }
    Ok(out)
}

/// Sequential uploads then downloads through Chinwag, beside the ceiling.
async fn throughput(bin: &PathBuf, args: &FilesArgs) -> anyhow::Result<Value> {
    let size = args.size_mb << 20;
    let (p, dir) = start_chinwag_with(bin, &config(args.size_mb))?;
    let ids = chats(&p.addr, args.files).await?;
    let chunk = fupload::chunk();
    sync();
    let cpu0 = procs::cpu_seconds(p.child.id())?;
    let t = Instant::now();
    let mut files = Vec::new();
    for id in &ids {
        files.push(fupload::upload(&p.addr, id, size, chunk.clone()).await?);
    }
    let up = t.elapsed();
    let cpu1 = procs::cpu_seconds(p.child.id())?;
    let cold = drop_caches();
    let cpu2 = procs::cpu_seconds(p.child.id())?;
    let t = Instant::now();
    for (id, f) in ids.iter().zip(&files) {
        let got = fupload::download(&p.addr, id, f).await?;
        anyhow::ensure!(got == size, "downloaded {got} of {size} bytes");
    }
    let down = t.elapsed();
    let cpu3 = procs::cpu_seconds(p.child.id())?;
    eprintln!(
        "files: chinwag up {up:?} ({:.3} s CPU), down {down:?} ({:.3} s CPU)",
        cpu1 - cpu0,
        cpu3 - cpu2
    );
    let (cw, cr) = ceiling(&dir.0, args.files, size)?;
    eprintln!("files: ceiling write {cw:?}, read {cr:?}");
    let total = size * args.files as u64;
    let (u, d, w, r) = (
        mbps(total, up),
        mbps(total, down),
        mbps(total, cw),
        mbps(total, cr),
    );
    Ok(json!({
        "files": args.files, "size_mib": args.size_mb, "reads_from_disk": cold,
        "upload_mib_s": u, "ceiling_write_mib_s": w, "upload_ratio": u / w,
        "download_mib_s": d, "ceiling_read_mib_s": r, "download_ratio": d / r,
        "server_cpu_upload_s": cpu1 - cpu0, "server_cpu_download_s": cpu3 - cpu2,
    }))
}

/// Peak RSS above idle while `concurrent` customers upload at once.
async fn memory(bin: &PathBuf, args: &FilesArgs) -> anyhow::Result<Value> {
    let size = args.size_mb << 20;
    let (p, _dir) = start_chinwag_with(bin, &config(args.size_mb))?;
    let ids = chats(&p.addr, args.concurrent).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = p.child.id();
    let idle = procs::rss_bytes(pid)?;
    let chunk = fupload::chunk();
    let t = Instant::now();
    let tasks: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let (addr, chunk) = (p.addr.clone(), chunk.clone());
            tokio::spawn(async move { fupload::upload(&addr, &id, size, chunk).await })
        })
        .collect();
    let mut peak = idle;
    while !tasks.iter().all(tokio::task::JoinHandle::is_finished) {
        peak = peak.max(procs::rss_bytes(pid)?);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = t.elapsed();
    let mut ok = 0;
    for t in tasks {
        if t.await?.is_ok() {
            ok += 1;
        }
    }
    let after = procs::rss_bytes(pid)?;
    Ok(json!({
        "customers": args.concurrent, "size_mib": args.size_mb, "uploaded": ok,
        "seconds": elapsed.as_secs_f64(),
        "rss_idle_bytes": idle, "rss_peak_bytes": peak, "rss_after_bytes": after,
        "peak_above_idle_mib": (peak.saturating_sub(idle)) as f64 / (1 << 20) as f64,
    }))
}

/// Runs the scenario.
pub(crate) async fn run(args: FilesArgs) -> anyhow::Result<Value> {
    let me = std::env::current_exe()?;
    let bin = args
        .chinwag
        .clone()
        .unwrap_or_else(|| me.with_file_name("chinwag"));
    let throughput = throughput(&bin, &args).await?;
    let memory = memory(&bin, &args).await?;
    Ok(json!({"scenario": "files", "throughput": throughput, "memory": memory}))
}

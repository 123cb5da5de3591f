//! Scenario `files`: file transfer throughput against its ceiling, and memory under many
//! large uploads at once.
//!
//! - Throughput: `files` uploads of `size_mb` each, one after the other (one customer, one
//!   chat per file), then each downloaded once, against the ceiling in the same run: the
//!   same bytes written (and synced, as the server does before answering) to and read back
//!   from files in the same directory with no server, through the page cache and around it
//!   ([`fceiling`]), each file's ceiling right after the server's transfer of the same size
//!   (interleaved, so a machine whose speed drifts affects both alike). The ratio is
//!   Chinwag's MB/s over the better of the ceiling's two ways. Before the read
//!   phase the page cache is emptied when the scenario runs as root (`reads_from_disk`), so
//!   both read the disk; otherwise both read memory. Each phase starts `settle_secs` after
//!   dirty pages were written back or the cache emptied (see [`settle`]).
//! - Memory: a fresh server, its idle RSS, then `concurrent` customers uploading `size_mb`
//!   each at once; the peak RSS (sampled every 50 ms) above idle.

use crate::fceiling;
use crate::fupload;
use crate::gms::{Ids, request_chat};
use crate::load::Conn;
use crate::procs;
use crate::rest::start_chinwag_with;
use serde_json::{Value, json};
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
    /// Seconds to wait before each timed phase, once the page cache is written back or
    /// emptied (see [`settle`]).
    #[arg(long, default_value_t = 5)]
    settle_secs: u64,
    /// Run the server with `files.fs_direct_io = false` (every byte through the page cache).
    #[arg(long)]
    no_direct_io: bool,
    /// Write the JSON result here instead of stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// File transfer on, every file limit out of the way (`size_mb` per file), direct I/O as
/// the arguments say.
fn config(args: &FilesArgs) -> String {
    let cap = (args.size_mb + 1) << 20;
    format!(
        "[files]\nfs_direct_io = {}\n[services.customer-support.files]\nupload_need_agent = false\nupload_max_file_size = {cap}\n\
         upload_max_files = 1000\nupload_max_total_size = {}\ndownload_attempts = 1000\n",
        !args.no_direct_io,
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

/// Waits before a timed phase. On a virtual machine whose host takes back the memory a guest
/// frees (free page reporting), memory touched again soon after `drop_caches` is cheap and
/// memory touched seconds later costs a fault on the host per page, seen by the guest as a
/// slow copy: a cold read of 500 MiB measured 3,100 MiB/s at once and 600–1,100 MiB/s five to
/// ten seconds later on the same VM. A phase that starts at once (the ceiling's 150 ms read)
/// and one that lasts (the server's) would then not read the same kind of memory; every
/// timed phase starts this long after the memory was freed, so all pay alike.
fn settle(secs: u64) {
    std::thread::sleep(Duration::from_secs(secs));
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / d.as_secs_f64().max(1e-9)
}

/// Times of one side of the throughput measure, summed over its files.
#[derive(Default)]
struct Side {
    up: Duration,
    down: Duration,
    cpu_up: f64,
    cpu_down: f64,
    /// The ceiling's direct writes and reads (see [`fceiling`]).
    up_direct: Duration,
    down_direct: Duration,
}

async fn chats(addr: &str, n: usize) -> anyhow::Result<Vec<Ids>> {
    let mut conn = Conn::open(addr).await?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(request_chat(&mut conn, i, false).await?);
    }
    Ok(out)
}

/// Sequential uploads then downloads through Chinwag, each file's transfer followed by the
/// ceiling's of the same size, so that both sides meet the machine in the same state.
async fn throughput(bin: &PathBuf, args: &FilesArgs) -> anyhow::Result<Value> {
    let size = args.size_mb << 20;
    let (p, dir) = start_chinwag_with(bin, &config(args))?;
    let pid = p.child.id();
    let ids = chats(&p.addr, args.files).await?;
    let chunk = fupload::chunk();
    let (mut server, mut ceiling) = (Side::default(), Side::default());
    sync();
    settle(args.settle_secs);
    let mut files = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let (cpu, t) = (procs::cpu_seconds(pid)?, Instant::now());
        files.push(fupload::upload(&p.addr, id, size, chunk.clone()).await?);
        server.up += t.elapsed();
        server.cpu_up += procs::cpu_seconds(pid)? - cpu;
        ceiling.up += fceiling::write(&dir.0, i, size, &chunk)?;
        ceiling.up_direct += fceiling::write_direct(&dir.0, i, size, &chunk)?;
    }
    let cold = drop_caches();
    settle(args.settle_secs);
    for (i, (id, f)) in ids.iter().zip(&files).enumerate() {
        let (cpu, t) = (procs::cpu_seconds(pid)?, Instant::now());
        let got = fupload::download(&p.addr, id, f).await?;
        anyhow::ensure!(got == size, "downloaded {got} of {size} bytes");
        server.down += t.elapsed();
        server.cpu_down += procs::cpu_seconds(pid)? - cpu;
        ceiling.down_direct += fceiling::read_direct(&dir.0, i)?;
        ceiling.down += fceiling::read(&dir.0, i)?;
    }
    eprintln!(
        "files: chinwag up {:?} ({:.3} s CPU), down {:?} ({:.3} s CPU); ceiling write {:?} (direct {:?}), read {:?} (direct {:?})",
        server.up,
        server.cpu_up,
        server.down,
        server.cpu_down,
        ceiling.up,
        ceiling.up_direct,
        ceiling.down,
        ceiling.down_direct
    );
    let total = size * args.files as u64;
    let rate = |d: Duration| mbps(total, d);
    let (u, d) = (rate(server.up), rate(server.down));
    // The bar is the better way of each phase.
    let w = rate(ceiling.up).max(rate(ceiling.up_direct));
    let r = rate(ceiling.down).max(rate(ceiling.down_direct));
    Ok(json!({
        "files": args.files, "size_mib": args.size_mb, "reads_from_disk": cold,
        "settle_secs": args.settle_secs, "direct_io": !args.no_direct_io,
        "upload_mib_s": u, "ceiling_write_mib_s": w, "upload_ratio": u / w,
        "download_mib_s": d, "ceiling_read_mib_s": r, "download_ratio": d / r,
        "ceiling_write_buffered_mib_s": rate(ceiling.up),
        "ceiling_write_direct_mib_s": rate(ceiling.up_direct),
        "ceiling_read_buffered_mib_s": rate(ceiling.down),
        "ceiling_read_direct_mib_s": rate(ceiling.down_direct),
        "server_cpu_upload_s": server.cpu_up, "server_cpu_download_s": server.cpu_down,
    }))
}

/// Peak RSS above idle while `concurrent` customers upload at once.
async fn memory(bin: &PathBuf, args: &FilesArgs) -> anyhow::Result<Value> {
    let size = args.size_mb << 20;
    let (p, _dir) = start_chinwag_with(bin, &config(args))?;
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

//! Scenario `web`: the browser side, each figure beside a ceiling or goal of the same run.
//!
//! - Sizes: the widget's and the console's JS + CSS as served gzip (`chinwag_web::sizes`,
//!   the bytes embedded in the binary), against the goals (widget < 25 KB, console < 60 KB;
//!   KB = 1,000 bytes), and the launcher alone: the widget files Chromium fetched before any
//!   click in the `ready` part.
//! - Ready: on a chinwag with the default configuration (demo on), the widget's launcher
//!   shown in Chromium against a same-size module of no work, loaded the same way
//!   (`web/ready.mjs`).
//! - Latency: on a chinwag with one agent (capacity = chats) made by `chinwag agent add`,
//!   customer sends over GMS REST to the line on the console's screen, against the same
//!   messages' arrival at a plain WebSocket client of that agent's event stream
//!   (`web/latency.mjs`).

use crate::rest::{BENCH_CONFIG, start_chinwag_config, tempdir};
use crate::webnode::{add_agent, ensure_node_modules, run_part};
use chinwag_web::Area;
use chinwag_web::sizes::{self, AssetSize};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// Size goals of the issue, in bytes (KB read as 1,000 bytes, the stricter reading).
const WIDGET_GOAL: usize = 25_000;
const CONSOLE_GOAL: usize = 60_000;

/// Arguments of the `web` scenario.
#[derive(Debug, clap::Args)]
pub(crate) struct WebArgs {
    /// The chinwag binary (default: `chinwag` next to this executable).
    #[arg(long)]
    chinwag: Option<PathBuf>,
    /// Page loads of each page (widget and ceiling) for the ready time.
    #[arg(long, default_value_t = 20)]
    loads: usize,
    /// Chats open in the one console.
    #[arg(long, default_value_t = 20)]
    chats: usize,
    /// Messages a second each customer sends.
    #[arg(long, default_value_t = 10)]
    rate: u32,
    /// Seconds the customers send for.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// The node executable.
    #[arg(long, default_value = "node")]
    node: PathBuf,
    /// Skip the latency part (sizes and ready time only).
    #[arg(long)]
    no_latency: bool,
    /// Write the JSON result here instead of stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

fn area_json(all: &[AssetSize], area: Area) -> Value {
    let (raw, gzip) = sizes::code_totals(area);
    let files: Vec<Value> = all
        .iter()
        .filter(|s| s.area == area)
        .map(|s| json!({"path": s.path, "raw": s.raw, "gzip": s.sent_gzip}))
        .collect();
    let every = all
        .iter()
        .filter(|s| s.area == area)
        .map(|s| s.sent_gzip)
        .sum::<usize>();
    json!({"js_css_raw": raw, "js_css_gzip": gzip, "all_files_gzip": every, "files": files})
}

/// Sizes of the widget and the console, with the launcher's files (`before_click`).
fn sizes_json(before_click: &[String]) -> Value {
    let all = sizes::all();
    let widget_gzip = sizes::code_totals(Area::Widget).1;
    let console_gzip = sizes::code_totals(Area::Console).1;
    let launcher: usize = all
        .iter()
        .filter(|s| s.area == Area::Widget && before_click.iter().any(|p| p == s.path))
        .map(|s| s.sent_gzip)
        .sum();
    json!({
        "widget": area_json(&all, Area::Widget),
        "widget_goal_bytes": WIDGET_GOAL,
        "widget_over_goal": widget_gzip as f64 / WIDGET_GOAL as f64,
        "launcher_files": before_click,
        "launcher_gzip": launcher,
        "launcher_over_widget": launcher as f64 / widget_gzip.max(1) as f64,
        "console": area_json(&all, Area::Console),
        "console_goal_bytes": CONSOLE_GOAL,
        "console_over_goal": console_gzip as f64 / CONSOLE_GOAL as f64,
    })
}

/// A secret for this run only (not cryptographic: the server lives on loopback for minutes).
fn run_secret(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{label}-{:x}-{nanos:x}", std::process::id())
}

/// The ready part on a chinwag with the default configuration.
async fn ready(bin: &PathBuf, args: &WebArgs) -> anyhow::Result<Value> {
    let dir = tempdir::Dir::new()?;
    let p = start_chinwag_config(bin, &dir, "")?;
    let server = format!("http://{}", p.addr);
    let loads = ["--loads".to_owned(), args.loads.to_string()];
    run_part(
        &args.node,
        "ready",
        &server,
        &loads,
        &[],
        Duration::from_secs(900),
    )
    .await
}

/// The latency part on a chinwag with one agent of capacity `chats`.
async fn latency(bin: &PathBuf, args: &WebArgs) -> anyhow::Result<Value> {
    let dir = tempdir::Dir::new()?;
    let cfg = dir.0.join("bench.toml");
    std::fs::write(&cfg, BENCH_CONFIG)?;
    let (password, token) = (run_secret("pw"), run_secret("token"));
    add_agent(bin, &cfg, "bench", args.chats, &password, &token)?;
    let config = std::fs::read_to_string(&cfg)?;
    let p = start_chinwag_config(bin, &dir, &config)?;
    let server = format!("http://{}", p.addr);
    let part_args = [
        "--agent",
        "bench",
        "--token",
        &token,
        "--chats",
        &args.chats.to_string(),
        "--rate",
        &args.rate.to_string(),
        "--seconds",
        &args.seconds.to_string(),
        "--server-pid",
        &p.child.id().to_string(),
    ]
    .map(String::from);
    let env = [("CHINWAG_BENCH_PASSWORD", password.as_str())];
    let limit = Duration::from_secs(300 + args.seconds);
    run_part(&args.node, "latency", &server, &part_args, &env, limit).await
}

/// Runs the scenario.
pub(crate) async fn run(args: WebArgs) -> anyhow::Result<Value> {
    let me = std::env::current_exe()?;
    let bin = args
        .chinwag
        .clone()
        .unwrap_or_else(|| me.with_file_name("chinwag"));
    ensure_node_modules()?;
    let ready = ready(&bin, &args).await?;
    let before_click: Vec<String> = ready["widget_files_before_click"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let latency = if args.no_latency {
        Value::Null
    } else {
        latency(&bin, &args).await?
    };
    Ok(json!({
        "scenario": "web",
        "sizes": sizes_json(&before_click),
        "ready": ready,
        "latency": latency,
    }))
}

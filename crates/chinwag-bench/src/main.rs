//! `chinwag-bench`: load scenarios run against the real `chinwag` binary and, in the same
//! run, against a ceiling or peer, reported side by side as ratios.
//!
//! Scenario `rest`: steady refresh load on idle chats vs a trivial axum handler (the
//! ceiling), customer cycles (request, 10 sends, refreshes, disconnect), and memory per idle
//! stored session.
//!
//! Scenario `bayeux`: CometD's benchmark shape against Chinwag, a Faye server and the
//! Bayeux ceiling (the least work any server can do for that traffic), over WebSocket and
//! long-polling, plus memory per idle client.
//!
//! Scenario `push`: draining a push backlog into a receiver answering after 5 ms, with the
//! default concurrency and strictly sequentially (the GMS behaviour), per-device order checked.
//!
//! Scenario `abuse`: legitimate customers' latency and errors alone, then while idle sockets,
//! slowloris connections and a `requestChat` flood hit the server.
//!
//! Scenario `cluster`: one node on SQLite against three nodes on one Redis (refresh and send
//! throughput, server CPU per request), and the Redis round trips of a refresh and a send.
//!
//! Scenario `failover`: three nodes on one Redis, 1,000 GMS chats over CometD with agents
//! talking; the time until the customers of one node resume after it is killed with
//! `SIGKILL`, against a plain reconnect of the same customers to another node in the same run,
//! and the messages lost or duplicated across the kill.
//!
//! Scenario `files`: upload and download throughput against writing and reading the same
//! bytes to the same disk with no server, and memory while many customers upload at once.
//!
//! Scenario `idle`: open chats with inactivity control on (timers armed, none due) against
//! the same chats with it off, in the same run: memory, CPU and store bytes per chat.
//!
//! Scenario `web`: the widget's and console's sizes against their goals, the widget's
//! launcher ready time in Chromium against a same-size module of no work, and customer
//! message to console screen latency against a plain WebSocket client of the agent stream.
//!
//! Progress goes to stderr; the result is JSON on stdout (or `--out`).

mod abuse;
mod attack;
mod bayeux;
mod bceiling;
mod bclient;
mod ceiling;
mod cluster;
mod fagent;
mod failover;
mod fceiling;
mod fclient;
mod files;
mod fupload;
mod gms;
mod idle;
mod legit;
mod load;
mod monitor;
mod procs;
mod push;
mod rawhttp;
mod rawws;
mod redisproc;
mod rest;
mod restmem;
mod web;
mod webnode;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "chinwag-bench", about = "Chinwag benchmark scenarios")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// GMS REST scenario.
    Rest(rest::RestArgs),
    /// Bayeux (CometD) scenario, against a Faye server and the ceiling in the same run.
    Bayeux(bayeux::BayeuxArgs),
    /// Push delivery scenario, against strictly sequential delivery in the same run.
    Push(push::PushArgs),
    /// Legitimate customers alone, then under attack (idle sockets, slowloris, flood).
    Abuse(abuse::AbuseArgs),
    /// One node on SQLite against several nodes on one Redis, and Redis round trips per
    /// operation.
    Cluster(cluster::ClusterArgs),
    /// Failover time of CometD customers when a node is killed, against a plain reconnect.
    Failover(failover::FailoverArgs),
    /// File upload and download throughput against the disk with no server, and memory
    /// while many customers upload large files at once.
    Files(files::FilesArgs),
    /// Open chats with inactivity control on against off: memory, CPU, timers armed.
    Idle(idle::IdleArgs),
    /// Browser side: widget and console sizes, widget ready time and message latency to
    /// the console's screen in Chromium, each against a ceiling in the same run.
    Web(web::WebArgs),
    /// Serve the trivial ceiling handler (used by the scenarios as a subprocess).
    Ceiling {
        /// Listen address.
        #[arg(long)]
        listen: std::net::SocketAddr,
    },
    /// Serve the Bayeux ceiling (used by the `bayeux` scenario as a subprocess).
    BayeuxCeiling {
        /// Listen address.
        #[arg(long)]
        listen: std::net::SocketAddr,
    },
}

/// Writes a scenario's JSON result to `out`, or stdout.
fn emit(out: Option<PathBuf>, result: &serde_json::Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(result)?;
    match out {
        Some(p) => std::fs::write(p, text + "\n")?,
        None => println!("{text}"),
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The Bayeux generator and ceiling run on one thread: each is pinned to one CPU, where
    // a multi-threaded scheduler only adds cross-thread bookkeeping to every wake-up.
    let rt = match cli.command {
        Cmd::Bayeux(_) | Cmd::BayeuxCeiling { .. } => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_all()
    .build()?;
    match cli.command {
        Cmd::Ceiling { listen } => rt.block_on(ceiling::serve(listen)),
        Cmd::BayeuxCeiling { listen } => rt.block_on(bceiling::serve(listen)),
        Cmd::Bayeux(args) => {
            let out = args.out.clone();
            emit(out, &rt.block_on(bayeux::run(args))?)
        }
        Cmd::Push(args) => {
            let out = args.out.clone();
            emit(out, &rt.block_on(push::run(args))?)
        }
        Cmd::Abuse(args) => {
            let out = args.out.clone();
            emit(out, &rt.block_on(abuse::run(args))?)
        }
        Cmd::Cluster(args) => {
            let out = args.out.clone();
            emit(out, &rt.block_on(cluster::run(args))?)
        }
        Cmd::Failover(args) => {
            let out = args.out.clone();
            emit(out, &rt.block_on(failover::run(args))?)
        }
        Cmd::Files(args) => {
            let out = args.out.clone();
            emit(out, &rt.block_on(files::run(args))?)
        }
        Cmd::Idle(args) => {
            let out = args.out.clone();
            emit(out, &rt.block_on(idle::run(args))?)
        }
        Cmd::Web(args) => {
            let out = args.out.clone();
            emit(out, &rt.block_on(web::run(args))?)
        }
        Cmd::Rest(args) => {
            let out = args.out.clone();
            emit(out, &rt.block_on(rest::run(args))?)
        }
    }
}

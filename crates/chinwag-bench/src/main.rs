//! `chinwag-bench`: load scenarios run against the real `chinwag` binary and, in the same
//! run, against a ceiling or peer, reported side by side as ratios.
//!
//! Scenario `rest`: steady refresh load on idle chats vs a trivial axum handler (the
//! ceiling), customer cycles (request, 10 sends, refreshes, disconnect), and memory per idle
//! stored session.
//!
//! Scenario `bayeux`: CometD's benchmark shape against Chinwag and a Faye server, over
//! WebSocket and long-polling, plus memory per idle client. Progress goes to stderr; the result is JSON on stdout (or `--out`).

mod bayeux;
mod bclient;
mod ceiling;
mod load;
mod procs;
mod rawws;
mod rest;

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
    /// Bayeux (CometD) scenario, against a Faye server in the same run.
    Bayeux(bayeux::BayeuxArgs),
    /// Serve the trivial ceiling handler (used by the scenarios as a subprocess).
    Ceiling {
        /// Listen address.
        #[arg(long)]
        listen: std::net::SocketAddr,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Cmd::Ceiling { listen } => rt.block_on(ceiling::serve(listen)),
        Cmd::Bayeux(args) => {
            let out: Option<PathBuf> = args.out.clone();
            let result = rt.block_on(bayeux::run(args))?;
            let text = serde_json::to_string_pretty(&result)?;
            match out {
                Some(p) => std::fs::write(p, text + "\n")?,
                None => println!("{text}"),
            }
            Ok(())
        }
        Cmd::Rest(args) => {
            let out: Option<PathBuf> = args.out.clone();
            let result = rt.block_on(rest::run(args))?;
            let text = serde_json::to_string_pretty(&result)?;
            match out {
                Some(p) => std::fs::write(p, text + "\n")?,
                None => println!("{text}"),
            }
            Ok(())
        }
    }
}

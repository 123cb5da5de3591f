//! The `chinwag` binary: command line, logging, and the `serve` / `check-config` / `backup` /
//! `agent` commands.

mod accounts;
mod backup;
mod blobs;
mod cluster;
mod config;
mod console;
mod fdlimit;
mod health;
mod keys;
mod metrics;
mod probe;
mod serve;
mod store;
mod supervisor;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's allocator: under connection churn (thousands of connections
/// timed out and reopened while chats live on) glibc's heap fragments and RSS grows without
/// bound; mimalloc returns freed pages (see BENCHMARKS.md, `abuse`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;

/// Threads of the blocking pool (file writes and reads, temporary files, password hashes; the
/// stores have threads of their own). Each is short work, so more queue rather than start
/// threads: tokio's default of 512 let a hundred uploads at once start a hundred threads, each
/// with its own allocator heap.
const BLOCKING_THREADS: usize = 16;

/// Chinwag: a chat gateway speaking the GMS Chat API v2.
#[derive(Debug, Parser)]
#[command(name = "chinwag", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (defaults: 127.0.0.1:8080, ./chinwag-data, service customer-support).
    Serve {
        /// Configuration file (TOML).
        #[arg(long, env = "CHINWAG_CONFIG")]
        config: Option<PathBuf>,
        /// Listen address, overriding the file.
        #[arg(long, env = "CHINWAG_LISTEN")]
        listen: Option<std::net::SocketAddr>,
        /// Data directory, overriding the file.
        #[arg(long, env = "CHINWAG_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Copy the database, consistently and while the server runs, into a new file DEST.
    Backup {
        /// Where to write the copy (must not exist).
        dest: PathBuf,
        /// Configuration file (TOML).
        #[arg(long, env = "CHINWAG_CONFIG")]
        config: Option<PathBuf>,
        /// Data directory, overriding the file.
        #[arg(long, env = "CHINWAG_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Check a configuration file and print what it defines.
    CheckConfig {
        /// Configuration file (TOML).
        #[arg(long, env = "CHINWAG_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Add agent accounts to a configuration file, or set their console passwords.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Add an agent account with a console password (asked for; only its hash is written).
    Add {
        /// Account id.
        id: String,
        /// Nickname shown to customers (default: the id).
        #[arg(long)]
        name: Option<String>,
        /// Queues served, comma-separated (default: `default`).
        #[arg(long, value_delimiter = ',')]
        queues: Vec<String>,
        /// Concurrent chats (default: 3).
        #[arg(long)]
        capacity: Option<u32>,
        /// Role in chats (default: agent).
        #[arg(long, value_parser = ["agent", "supervisor"])]
        role: Option<String>,
        /// Configuration file to write (created if missing).
        #[arg(long, env = "CHINWAG_CONFIG")]
        config: PathBuf,
    },
    /// Set an agent's console password (asked for; only its hash is written).
    Passwd {
        /// Account id.
        id: String,
        /// Configuration file to write.
        #[arg(long, env = "CHINWAG_CONFIG")]
        config: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { config } => {
            let cfg = config::Config::load(config.as_deref())?;
            let v = config::validate(&cfg)?;
            println!(
                "configuration OK: {} service(s), {} queue(s), {} agent(s), listen {}",
                v.engine.services.len(),
                v.engine.queues.len(),
                v.engine.agents.len(),
                cfg.server.listen
            );
            Ok(())
        }
        Command::Agent { command } => match command {
            AgentCommand::Add {
                id,
                name,
                queues,
                capacity,
                role,
                config,
            } => {
                let new = accounts::NewAgent {
                    name,
                    queues,
                    capacity,
                    role,
                };
                accounts::add(&config, &id, new)
            }
            AgentCommand::Passwd { id, config } => accounts::passwd(&config, &id),
        },
        Command::Backup {
            dest,
            config,
            data_dir,
        } => {
            let mut cfg = config::Config::load(config.as_deref())?;
            if let Some(d) = data_dir {
                cfg.server.data_dir = d;
            }
            backup::run(&cfg, &dest)
        }
        Command::Serve {
            config,
            listen,
            data_dir,
        } => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .with_writer(std::io::stderr)
                .init();
            let mut cfg = config::Config::load(config.as_deref())?;
            if let Some(l) = listen {
                cfg.server.listen = l;
            }
            if let Some(d) = data_dir {
                cfg.server.data_dir = d;
            }
            // On one CPU (a small VM, or pinned with taskset) one thread does all the work:
            // the multi-threaded scheduler would only add cross-thread bookkeeping to every
            // wake-up. Blocking work (SQLite, files) still runs on the blocking pool.
            let one_cpu = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
            let runtime = if one_cpu {
                tokio::runtime::Builder::new_current_thread()
            } else {
                tokio::runtime::Builder::new_multi_thread()
            }
            .enable_all()
            .max_blocking_threads(BLOCKING_THREADS)
            .build()?;
            runtime.block_on(serve::run(cfg))
        }
    }
}

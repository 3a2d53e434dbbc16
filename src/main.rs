//! `mesos-miner`: command-line entry. Parses arguments and dispatches to the workspace crates.
//!
//! Each subcommand lives in its own module under `cmd/` with an `Args` struct (clap derive)
//! and a `run(args) -> anyhow::Result<()>`. Bad input is reported as one line on stderr with
//! exit code 2 (see [`UsageError`]).

mod cmd;
pub mod signals;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "mesos-miner",
    version,
    about = "Distributed CPU sha256d miner for Apache Mesos"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start-up and moved into its `run`: boxing the large flag sets (`scheduler`,
// `local`) would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Print the block hash (display order) of an 80-byte header given in hex.
    Hash(cmd::hash::Args),
    /// Search a nonce range of a header for hashes at or under a target.
    Scan(cmd::scan::Args),
    /// Measure the hashrate of the mining engine.
    Bench(cmd::bench::Args),
    /// Mine on Stratum pools (cpuminer-style flags), or offline with --benchmark.
    Mine(cmd::mine::Args),
    /// Run the Stratum pool server against a bitcoind (or --demo without one).
    Pool(cmd::pool::Args),
    /// The embedded default: a local Mesos cluster, the scheduler, the pool and the miners.
    Local(cmd::local::Args),
    /// The Mesos executor an agent launches (reads the MESOS_* environment).
    Executor(cmd::executor::Args),
    /// The Mesos framework against real masters (--master http://m1:5050,http://m2:5050).
    Scheduler(cmd::scheduler::Args),
}

/// An error in what the user gave us: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hash(args) => cmd::hash::run(args),
        Command::Scan(args) => cmd::scan::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Mine(args) => cmd::mine::run(args),
        Command::Pool(args) => cmd::pool::run(args),
        Command::Local(args) => cmd::local::run(args),
        Command::Executor(args) => cmd::executor::run(args),
        Command::Scheduler(args) => cmd::scheduler::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mesos-miner: {err:#}");
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

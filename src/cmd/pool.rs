//! `mesos-miner pool`: the built-in Stratum pool server (the `pool` crate) against a bitcoind,
//! or `--demo` without one. Secrets come from files (`--rpc-password-file`,
//! `--rpc-cookie-file`) or the environment, never from the command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use pool::{PoolConfig, PoolOptions, PoolStarter};
use tokio::net::TcpListener;

use crate::UsageError;
use crate::signals::{LogTo, init_tracing, shutdown_token};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Stratum listen address.
    #[arg(long, value_name = "HOST:PORT", default_value = "0.0.0.0:3333")]
    listen: String,
    /// bitcoind JSON-RPC URL.
    #[arg(
        long,
        env = "MESOS_MINER_BITCOIND_URL",
        default_value = "http://127.0.0.1:8332/"
    )]
    bitcoind_url: String,
    /// RPC user (with --rpc-password-file).
    #[arg(long, env = "MESOS_MINER_RPC_USER")]
    rpc_user: Option<String>,
    /// File holding the RPC password (first line).
    #[arg(long, env = "MESOS_MINER_RPC_PASSWORD_FILE", value_name = "FILE")]
    rpc_password_file: Option<PathBuf>,
    /// The node's .cookie file, instead of user and password.
    #[arg(long, env = "MESOS_MINER_RPC_COOKIE_FILE", value_name = "FILE")]
    rpc_cookie_file: Option<PathBuf>,
    /// Address the block reward is paid to (its network must match the node's chain).
    #[arg(long, env = "MESOS_MINER_PAYOUT_ADDRESS")]
    payout_address: Option<String>,
    /// Directory for found blocks (written before submitblock, resubmitted on start).
    #[arg(long, env = "MESOS_MINER_POOL_DATA_DIR", default_value = "pool-data")]
    data_dir: PathBuf,
    /// Serve GET /status (JSON) on this address.
    #[arg(long, value_name = "HOST:PORT")]
    api_bind: Option<String>,
    /// No bitcoind: synthetic jobs at low difficulty. No block found in demo mode is valid.
    #[arg(long)]
    demo: bool,
    /// Text put into every coinbase.
    #[arg(long, default_value = "/mesos-miner/")]
    pool_tag: String,
    /// Share difficulty of a new connection (fractional allowed) [default: 0.01, with
    /// --demo 0.0001 so that a CPU finds shares at once].
    #[arg(long)]
    start_diff: Option<f64>,
    /// Lowest share difficulty (vardiff and mining.suggest_difficulty stay above it).
    #[arg(long, default_value_t = 0.0001)]
    min_diff: f64,
    /// Highest share difficulty.
    #[arg(long, default_value_t = 4_294_967_296.0)]
    max_diff: f64,
    /// Vardiff target seconds between shares of one connection; 0 turns vardiff off.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    share_interval: f64,
    /// Bytes of extranonce2 miners fill (extranonce1 is 4 bytes).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(2..=16))]
    extranonce2_size: u8,
    /// Most simultaneous Stratum connections.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Most simultaneous Stratum connections from one IP address (0: no limit).
    #[arg(long, default_value_t = 64)]
    max_connections_per_ip: usize,
    /// Do not hold loopback peers to --max-connections-per-ip (many local miners).
    #[arg(long)]
    loopback_unlimited: bool,
    /// Drop a connection silent for this long.
    #[arg(long, default_value_t = 600.0, value_name = "SECONDS")]
    idle_timeout: f64,
    /// Drop a connection that has not subscribed and authorized this long after connecting.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    handshake_timeout: f64,
    /// Drop a connection whose line is not complete this long after its first byte.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    line_timeout: f64,
    /// Longest Stratum line accepted, bytes.
    #[arg(long, default_value_t = stratum::DEFAULT_MAX_LINE)]
    max_line: usize,
    /// getblocktemplate polling period (new transactions); new blocks arrive by long-poll.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    poll_interval: f64,
}

impl Args {
    /// The pool options the flags gave.
    fn options(&self) -> PoolOptions {
        PoolOptions {
            demo: self.demo,
            bitcoind_url: self.bitcoind_url.clone(),
            rpc_user: self.rpc_user.clone(),
            rpc_password_file: self.rpc_password_file.clone(),
            rpc_cookie_file: self.rpc_cookie_file.clone(),
            payout_address: self.payout_address.clone(),
            data_dir: self.data_dir.clone(),
            pool_tag: self.pool_tag.clone(),
            start_diff: self.start_diff,
            min_diff: self.min_diff,
            max_diff: self.max_diff,
            share_interval: self.share_interval,
            extranonce2_size: self.extranonce2_size,
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            loopback_unlimited: self.loopback_unlimited,
            idle_timeout: self.idle_timeout,
            handshake_timeout: self.handshake_timeout,
            line_timeout: self.line_timeout,
            max_line: self.max_line,
            poll_interval: self.poll_interval,
        }
    }
}

fn config(args: &Args) -> Result<PoolConfig, UsageError> {
    args.options()
        .build()
        .map_err(|e| UsageError(e.to_string()))
}

/// `HOST:PORT` with an IP or a name (resolved once, at start).
fn addr(what: &str, text: &str) -> Result<SocketAddr, UsageError> {
    use std::net::ToSocketAddrs;
    text.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| UsageError(format!("{what}: {text:?} is not a usable HOST:PORT")))
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    init_tracing(LogTo::Stdout);
    let config = config(&args)?;
    let listen = addr("listen", &args.listen)?;
    let api = args
        .api_bind
        .as_deref()
        .map(|a| addr("api-bind", a))
        .transpose()?;
    // The demo banner is the pool's own warning, printed once when it starts.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve(config, listen, api))
}

/// Binds `addr` for `flag`; an address in use (or not ours) is the user's to change.
async fn bind(addr: SocketAddr, flag: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| UsageError(format!("{flag} {addr}: cannot listen: {e}")).into())
}

/// Runs the pool (and `GET /status` if asked, from the start: it answers while the node is
/// still unreachable) until SIGINT/SIGTERM.
async fn serve(
    config: PoolConfig,
    listen: SocketAddr,
    api: Option<SocketAddr>,
) -> anyhow::Result<()> {
    let shutdown = shutdown_token();
    let listener = bind(listen, "--listen").await?;
    let api = match api {
        Some(api) => Some(bind(api, "--api-bind").await?),
        None => None,
    };
    let bound = listener.local_addr()?;
    // One plain line on stdout for scripts and tests (the port may have been 0).
    println!("stratum listening on {bound}");
    let starter = PoolStarter::new(config);
    if let Some(api) = api {
        let bound = api.local_addr()?;
        println!("status api on http://{bound}/status");
        let source = starter.status_source();
        tokio::spawn(pool::status::serve(api, source, shutdown.clone()));
    }
    let pool = tokio::select! {
        p = starter.start(listener) => p.context("the pool could not start")?,
        _ = shutdown.cancelled() => return Ok(()),
    };
    shutdown.cancelled().await;
    tracing::info!("shutting down");
    let status = pool.status();
    pool.shutdown().await;
    tracing::info!(
        shares = status.shares_accepted,
        rejected = status.shares_rejected,
        blocks_found = status.blocks_found,
        blocks_accepted = status.blocks_accepted,
        "pool stopped"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use pool::Backend;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(argv: &[&str]) -> Result<PoolConfig, UsageError> {
        let cli = Cli::try_parse_from(std::iter::once("pool").chain(argv.iter().copied()))
            .map_err(|e| UsageError(e.to_string()))?;
        config(&cli.args)
    }

    /// The flags' defaults are the library's (its tests check the values). The flags that
    /// read the environment are taken as they came, so a set `MESOS_MINER_*` does not fail
    /// this test.
    #[test]
    fn flag_defaults_are_the_pool_options_defaults() {
        let cli = Cli::try_parse_from(["pool"]).unwrap();
        let flags = cli.args.options();
        let library = PoolOptions {
            bitcoind_url: flags.bitcoind_url.clone(),
            rpc_user: flags.rpc_user.clone(),
            rpc_password_file: flags.rpc_password_file.clone(),
            rpc_cookie_file: flags.rpc_cookie_file.clone(),
            payout_address: flags.payout_address.clone(),
            data_dir: flags.data_dir.clone(),
            ..PoolOptions::default()
        };
        assert_eq!(format!("{flags:?}"), format!("{library:?}"));
        let c = parse(&["--demo"]).unwrap();
        assert!(matches!(c.backend, Backend::Demo));
        assert_eq!(c.session.initial_difficulty.value(), 0.0001);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        let err = parse(&["--rpc-cookie-file", "/x"]).unwrap_err();
        assert!(err.0.contains("payout-address"), "{err}");
        assert!(parse(&["--demo", "--min-diff", "2", "--max-diff", "1"]).is_err());
        assert!(parse(&["--demo", "--extranonce2-size", "1"]).is_err());
        assert_eq!(addr("listen", "localhost:3333").unwrap().port(), 3333);
        assert!(addr("listen", "3333").is_err());
    }
}

//! Two connected Bitcoin SV regtest nodes on 127.0.0.1 (spec/stratum.md Part B.4:
//! getblocktemplate needs a peer, and one mined block), killed on drop.
//!
//! The binary is found through `MESOS_MINER_BITCOIND`, else `<repo>/.regtest/bin/bitcoind`
//! as `scripts/regtest-node.sh` installs it. The RPC password is random, written to the
//! datadir's config and to a password file ([`RegtestNodes::password_file`]), never put on a
//! command line.
//!
//! Ports: a node cannot be told to pick its own RPC and P2P ports, so free ports are chosen
//! first; when another process takes one in between, that node exits at once (it cannot
//! bind) and the start is retried on fresh ports, so the pick-then-bind race costs a retry
//! instead of a failed test.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::rpc::{Rpc, RpcError};

/// Environment variable naming the regtest `bitcoind` binary.
pub const BITCOIND_ENV: &str = "MESOS_MINER_BITCOIND";
const RPC_USER: &str = "mesos-test";
/// Starts tried on fresh ports before giving up.
const ATTEMPTS: usize = 4;

/// Why the nodes could not be started.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// No bitcoind binary at the path (given) from the environment or the default.
    #[error(
        "no regtest bitcoind at {0}: run scripts/regtest-node.sh (or set {BITCOIND_ENV} to a bitcoind binary)"
    )]
    NoBinary(PathBuf),
    /// A file or process operation of the harness failed (data directory, config, spawn).
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A node exited while starting (on a port taken meanwhile, among other reasons).
    #[error("a node exited early ({0}); see {1}")]
    Exited(std::process::ExitStatus, PathBuf),
    /// The nodes did not reach the state a step waits for in time (which one is given).
    #[error("node not ready: {0}")]
    NotReady(String),
    /// An RPC the harness makes while setting up the nodes failed.
    #[error(transparent)]
    Rpc(#[from] RpcError),
}

/// The regtest `bitcoind` to run.
pub fn bitcoind_path() -> Result<PathBuf, HarnessError> {
    let path = match std::env::var_os(BITCOIND_ENV) {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.regtest/bin/bitcoind"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(HarnessError::NoBinary(path))
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Two running nodes; the first is the one tests and the pool talk to. Killed on drop.
pub struct RegtestNodes {
    binary: PathBuf,
    dir: PathBuf,
    children: Vec<Child>,
    rpc_port: u16,
    password_file: PathBuf,
    rpc: Rpc,
}

fn write_conf(
    datadir: &Path,
    rpc: u16,
    p2p: u16,
    password: &str,
    connect: Option<u16>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(datadir)?;
    // Options at top level: this node ignores the [regtest] section (Part B.4).
    let mut conf = format!(
        "regtest=1\nserver=1\nlisten=1\nbind=127.0.0.1\nport={p2p}\nrpcbind=127.0.0.1\n\
         rpcallowip=127.0.0.1\nrpcport={rpc}\nrpcuser={RPC_USER}\nrpcpassword={password}\n\
         minminingtxfee=0.00000500\nexcessiveblocksize=10000000000\n\
         maxstackmemoryusageconsensus=100000000\ndnsseed=0\ndiscover=0\nlistenonion=0\n\
         printtoconsole=0\n"
    );
    if let Some(peer) = connect {
        conf.push_str(&format!("connect=127.0.0.1:{peer}\n"));
    }
    std::fs::write(datadir.join("bitcoin.conf"), conf)
}

impl RegtestNodes {
    /// Starts both nodes, waits for RPC and the peer link, mines one block so that
    /// `getblocktemplate` works, and returns once it does; retried on fresh ports when a
    /// node exits while starting.
    pub async fn start() -> Result<RegtestNodes, HarnessError> {
        let binary = bitcoind_path()?;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match RegtestNodes::start_once(&binary).await {
                Err(e @ HarnessError::Exited(..)) => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| HarnessError::NotReady("no attempt made".into())))
    }

    async fn start_once(binary: &Path) -> Result<RegtestNodes, HarnessError> {
        let dir = std::env::temp_dir().join(format!(
            "mesos-miner-regtest-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let password = hex::encode(rand::random::<[u8; 16]>());
        let (rpc1, p2p1, rpc2, p2p2) = (free_port()?, free_port()?, free_port()?, free_port()?);
        let url = format!("http://127.0.0.1:{rpc1}/");
        let mut nodes = RegtestNodes {
            password_file: dir.join("rpcpassword"),
            rpc: Rpc::new(&url, RPC_USER, &password, Duration::from_secs(60))?,
            binary: binary.to_path_buf(),
            dir,
            children: Vec::new(),
            rpc_port: rpc1,
        };
        std::fs::create_dir_all(&nodes.dir)?;
        std::fs::write(&nodes.password_file, &password)?;
        for (name, rpc, p2p, connect) in [
            ("node1", rpc1, p2p1, None),
            ("node2", rpc2, p2p2, Some(p2p1)),
        ] {
            let datadir = nodes.dir.join(name);
            write_conf(&datadir, rpc, p2p, &password, connect)?;
            let child = nodes.spawn(&datadir)?;
            nodes.children.push(child);
        }
        nodes.wait_ready().await?;
        Ok(nodes)
    }

    fn spawn(&self, datadir: &Path) -> std::io::Result<Child> {
        Command::new(&self.binary)
            .arg(format!("-datadir={}", datadir.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    }

    /// Stops the first node (the one the pool talks to) with the `stop` RPC, so its chain
    /// is flushed to disk, and waits for the process to exit (killing it after 60 s).
    pub async fn stop_first(&mut self) -> Result<(), HarnessError> {
        // The node may drop the connection while it stops: the exit below is what counts.
        self.rpc.call("stop", json!([])).await.ok();
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.children[0].try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.children[0].kill()?;
                self.children[0].wait()?;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Starts the first node again on the same datadir and ports; returns once it answers
    /// RPC and has its peer back.
    pub async fn restart_first(&mut self) -> Result<(), HarnessError> {
        let child = self.spawn(&self.dir.join("node1"))?;
        self.children[0] = child;
        let deadline = Instant::now() + Duration::from_secs(90);
        while !self.has_peer().await {
            if Instant::now() > deadline {
                return Err(HarnessError::NotReady("restarted node has no peer".into()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    }

    async fn has_peer(&self) -> bool {
        let peers = self.rpc.call("getconnectioncount", json!([])).await.ok();
        peers.and_then(|v| v.as_u64()).unwrap_or(0) > 0
    }

    /// RPC answers, then the peer link, then one block, then a template: each in turn.
    async fn wait_ready(&mut self) -> Result<(), HarnessError> {
        let deadline = Instant::now() + Duration::from_secs(90);
        for step in ["rpc", "peer", "block", "template"] {
            while !self.step_done(step).await {
                if let Some(status) = self
                    .children
                    .iter_mut()
                    .find_map(|c| c.try_wait().ok().flatten())
                {
                    return Err(HarnessError::Exited(status, self.dir.clone()));
                }
                if Instant::now() > deadline {
                    return Err(HarnessError::NotReady(format!("timed out at step {step}")));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }

    async fn step_done(&self, step: &str) -> bool {
        match step {
            "rpc" => self.rpc.call("getblockchaininfo", json!([])).await.is_ok(),
            "peer" => self.has_peer().await,
            "block" => self.rpc.call("generate", json!([1])).await.is_ok(),
            _ => {
                let rules = json!([{"rules": ["segwit"]}]);
                self.rpc.call("getblocktemplate", rules).await.is_ok()
            }
        }
    }

    /// `http://127.0.0.1:PORT/` of the first node.
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.rpc_port)
    }

    /// The RPC user name.
    pub fn rpc_user(&self) -> &str {
        RPC_USER
    }

    /// A file holding the RPC password (for `--rpc-password-file`, or to build the code
    /// under test's own credentials from).
    pub fn password_file(&self) -> &Path {
        &self.password_file
    }

    /// The harness's client of the first node.
    pub fn rpc(&self) -> &Rpc {
        &self.rpc
    }

    /// The temporary directory holding both datadirs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for RegtestNodes {
    fn drop(&mut self) {
        // Best effort: a node may have exited already; the directory is temporary.
        for child in &mut self.children {
            child.kill().ok();
            child.wait().ok();
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

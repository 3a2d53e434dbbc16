//! Test harness: two connected Bitcoin SV regtest nodes on 127.0.0.1 (spec/stratum.md Part
//! B.4: getblocktemplate needs a peer, and one mined block). Used by this crate's integration
//! tests and by the end-to-end tests of other crates; not used by the pool itself.
//!
//! The binary is found through `MESOS_MINER_BITCOIND`, else `<repo>/.regtest/bin/bitcoind`
//! as `scripts/regtest-node.sh` installs it. The RPC password is random, written to the
//! datadir's config and a password file, never put on a command line.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::rpc::{RpcAuth, RpcClient, RpcError};

/// Environment variable naming the regtest `bitcoind` binary.
pub const BITCOIND_ENV: &str = "MESOS_MINER_BITCOIND";
const RPC_USER: &str = "mesos-test";

/// Why the nodes could not be started.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(
        "no regtest bitcoind at {0}: run scripts/regtest-node.sh (or set {BITCOIND_ENV} to a bitcoind binary)"
    )]
    NoBinary(PathBuf),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("node not ready: {0}")]
    NotReady(String),
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
    password: String,
    password_file: PathBuf,
    rpc: RpcClient,
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
    /// `getblocktemplate` works, and returns once it does.
    pub async fn start() -> Result<RegtestNodes, HarnessError> {
        let binary = bitcoind_path()?;
        let dir = std::env::temp_dir().join(format!(
            "mesos-miner-regtest-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let password = hex::encode(rand::random::<[u8; 16]>());
        let (rpc1, p2p1, rpc2, p2p2) = (free_port()?, free_port()?, free_port()?, free_port()?);
        let mut nodes = RegtestNodes {
            password_file: dir.join("rpcpassword"),
            rpc: RpcClient::new(
                &format!("http://127.0.0.1:{rpc1}/"),
                RpcAuth::UserPass {
                    user: RPC_USER.into(),
                    password: password.clone(),
                },
                Duration::from_secs(60),
            )?,
            binary,
            dir,
            children: Vec::new(),
            rpc_port: rpc1,
            password,
        };
        std::fs::create_dir_all(&nodes.dir)?;
        std::fs::write(&nodes.password_file, &nodes.password)?;
        for (name, rpc, p2p, connect) in [
            ("node1", rpc1, p2p1, None),
            ("node2", rpc2, p2p2, Some(p2p1)),
        ] {
            let datadir = nodes.dir.join(name);
            write_conf(&datadir, rpc, p2p, &nodes.password, connect)?;
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
        let _ = self.call("stop", json!([])).await;
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
        loop {
            let peers = self.call("getconnectioncount", json!([])).await.ok();
            if peers.and_then(|v| v.as_u64()).unwrap_or(0) > 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(HarnessError::NotReady("restarted node has no peer".into()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_ready(&mut self) -> Result<(), HarnessError> {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut step = "rpc";
        loop {
            if let Some(status) = self
                .children
                .iter_mut()
                .find_map(|c| c.try_wait().ok().flatten())
            {
                return Err(HarnessError::NotReady(format!(
                    "a node exited early ({status}); see {}",
                    self.dir.display()
                )));
            }
            let done = match step {
                "rpc" => self.rpc.get_blockchain_info().await.is_ok(),
                "peer" => {
                    self.call("getconnectioncount", json!([]))
                        .await
                        .ok()
                        .and_then(|v| v.as_u64())
                        .unwrap_or(0)
                        > 0
                }
                "block" => self.call("generate", json!([1])).await.is_ok(),
                _ => self
                    .rpc
                    .get_block_template(None, Duration::from_secs(10))
                    .await
                    .is_ok(),
            };
            if done {
                step = match step {
                    "rpc" => "peer",
                    "peer" => "block",
                    "block" => "template",
                    _ => return Ok(()),
                };
                continue;
            }
            if Instant::now() > deadline {
                return Err(HarnessError::NotReady(format!("timed out at step {step}")));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
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

    /// A file holding the RPC password (for `--rpc-password-file`).
    pub fn password_file(&self) -> &Path {
        &self.password_file
    }

    /// Credentials for [`RpcClient`] / the pool config.
    pub fn auth(&self) -> RpcAuth {
        RpcAuth::UserPass {
            user: RPC_USER.into(),
            password: self.password.clone(),
        }
    }

    /// A client of the first node.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// Any RPC on the first node.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        self.rpc.call(method, params).await
    }

    /// A fresh address of the first node's wallet.
    pub async fn new_address(&self) -> Result<String, RpcError> {
        self.rpc.call("getnewaddress", json!([])).await
    }

    /// The temporary directory holding both datadirs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for RegtestNodes {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

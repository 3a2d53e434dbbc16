//! [`LocalCluster`]: starts a master and agents on 127.0.0.1 and offers fault injection.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::agent::AgentConfig;
use crate::core::Core;
use crate::driver::{self, Shared, http};
use crate::ids::{Ids, Wall};
use crate::master::MasterConfig;
use crate::resources::Res;

/// How to build a cluster. `Default` matches a real Mesos' defaults where it has them.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// How many agents start with the master.
    pub agents: usize,
    /// CPUs per agent.
    pub cpus: f64,
    /// Memory per agent in MB.
    pub mem: f64,
    /// Disk per agent in MB.
    pub disk: f64,
    /// Ports per agent; agent `i` gets `[first + i*count, first + i*count + count - 1]`.
    pub ports_first: u64,
    /// Ports per agent (at least one).
    pub ports_count: u64,
    /// Master settings (its `port` is chosen when listening; 0 = any free port).
    pub master: MasterConfig,
    /// Agent timing knobs copied into every agent (ids, ports, resources are filled in).
    pub agent_template: AgentConfig,
    /// Root of the agents' sandboxes.
    pub work_dir: PathBuf,
    /// Delete `work_dir` when the cluster stops (true for the default fresh temp dir).
    pub remove_work_dir: bool,
    /// How often timers are driven.
    pub tick: Duration,
    /// Standby masters bound at start beside the leader (they answer 307 to it), so a
    /// scheduler can be given every master URL up front; [`LocalCluster::failover_master`]
    /// then promotes the next one in turn.
    pub standby_masters: usize,
    /// How long a promoted standby answers 503 "Master has not finished recovery".
    pub failover_recovery: Duration,
    /// Bytes a subscription (scheduler or executor) may leave unread before the cluster
    /// cuts it off; bounds what a client that never reads can make the cluster hold.
    pub max_stream_backlog: usize,
    /// Run no processes: every launched container is reported started at once and any
    /// signal ends it (exit by that signal). For scale tests of schedulers, where thousands
    /// of real executors would measure the machine rather than the cluster.
    pub simulate_processes: bool,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        let work_dir = std::env::temp_dir().join(format!("local-cluster-{}", uuid::Uuid::new_v4()));
        ClusterConfig {
            agents: 1,
            cpus: 4.0,
            mem: 4096.0,
            disk: 10_240.0,
            ports_first: 31000,
            ports_count: 1000,
            master: MasterConfig {
                port: 0,
                ..MasterConfig::default()
            },
            agent_template: AgentConfig::new(String::new(), 0, Res::default(), work_dir.clone()),
            work_dir,
            remove_work_dir: true,
            tick: Duration::from_millis(50),
            standby_masters: 0,
            failover_recovery: Duration::from_secs(1),
            max_stream_backlog: 64 << 20,
            simulate_processes: false,
        }
    }
}

struct Server {
    port: u16,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// A running cluster. Dropping it kills every executor process and stops the listeners.
pub struct LocalCluster {
    shared: Arc<Shared>,
    masters: Mutex<Vec<Server>>,
    agents: Mutex<Vec<(String, Server)>>,
    ticker: JoinHandle<()>,
    cfg: ClusterConfig,
}

async fn serve(listener: TcpListener, router: axum::Router) -> Server {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Server {
        port,
        stop: Some(tx),
        task,
    }
}

impl LocalCluster {
    /// Binds the master and `cfg.agents` agents on 127.0.0.1 and starts serving.
    pub async fn start(cfg: ClusterConfig) -> io::Result<LocalCluster> {
        let listener = TcpListener::bind(("127.0.0.1", cfg.master.port)).await?;
        let mut mcfg = cfg.master.clone();
        mcfg.port = listener.local_addr()?.port();
        let shared = Shared::new(
            Core::new(mcfg, Wall::system(), Ids::Os),
            cfg.max_stream_backlog,
            cfg.simulate_processes,
        );
        let master = serve(listener, http::master_router(shared.clone(), 0)).await;
        let ticker = driver::spawn_ticker(shared.clone(), cfg.tick);
        let cluster = LocalCluster {
            shared,
            masters: Mutex::new(vec![master]),
            agents: Mutex::new(Vec::new()),
            ticker,
            cfg,
        };
        for _ in 0..cluster.cfg.standby_masters {
            cluster.add_standby().await?;
        }
        for i in 0..cluster.cfg.agents {
            cluster.add_agent(i).await?;
        }
        Ok(cluster)
    }

    async fn add_standby(&self) -> io::Result<()> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let mut mcfg = self.cfg.master.clone();
        mcfg.port = listener.local_addr()?.port();
        let index = self.shared.lock().core.add_standby(mcfg);
        let server = serve(listener, http::master_router(self.shared.clone(), index)).await;
        lock(&self.masters).push(server);
        Ok(())
    }

    async fn add_agent(&self, i: usize) -> io::Result<String> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let first = self.cfg.ports_first + i as u64 * self.cfg.ports_count;
        let total = Res::new(
            self.cfg.cpus,
            self.cfg.mem,
            self.cfg.disk,
            &[(first, first + self.cfg.ports_count.max(1) - 1)],
        );
        let id = self.shared.lock().core.new_agent_id();
        let mut acfg = self.cfg.agent_template.clone();
        acfg.id = id.clone();
        acfg.port = port;
        acfg.total = total;
        acfg.work_dir = self.cfg.work_dir.clone();
        self.shared.with_core(|core, now| core.add_agent(acfg, now));
        let server = serve(
            listener,
            http::agent_router(self.shared.clone(), id.clone()),
        )
        .await;
        lock(&self.agents).push((id.clone(), server));
        Ok(id)
    }

    /// `http://127.0.0.1:<port>` of the leading master.
    pub fn master_url(&self) -> String {
        let leader = self.shared.lock().core.leader();
        let port = lock(&self.masters).get(leader).map(|s| s.port).unwrap_or(0);
        format!("http://127.0.0.1:{port}")
    }

    /// URLs of every master started so far (the first ones answer 307 after a failover).
    pub fn master_urls(&self) -> Vec<String> {
        lock(&self.masters)
            .iter()
            .map(|s| format!("http://127.0.0.1:{}", s.port))
            .collect()
    }

    /// Agent ids, in start order.
    pub fn agent_ids(&self) -> Vec<String> {
        lock(&self.agents)
            .iter()
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// `http://127.0.0.1:<port>` of an agent.
    pub fn agent_url(&self, id: &str) -> Option<String> {
        lock(&self.agents)
            .iter()
            .find(|(a, _)| a == id)
            .map(|(_, s)| format!("http://127.0.0.1:{}", s.port))
    }

    /// How many executor containers an agent holds (None for an unknown agent).
    pub fn container_count(&self, agent_id: &str) -> Option<usize> {
        self.shared
            .lock()
            .core
            .agent(agent_id)
            .map(|a| a.containers().len())
    }

    /// Fault injection: restart an agent. Its executor streams break (TCP close, no chunk
    /// terminator); connections are refused for `down_for`; then it answers 503 while
    /// recovering, accepts re-subscriptions, and destroys executors that did not come back
    /// within the re-registration timeout. Processes keep running meanwhile.
    pub async fn restart_agent(&self, id: &str, down_for: Duration) -> io::Result<()> {
        self.shared.with_core(|core, now| core.agent_down(id, now));
        let old = {
            let mut agents = lock(&self.agents);
            let Some(pos) = agents.iter().position(|(a, _)| a == id) else {
                return Err(io::Error::new(io::ErrorKind::NotFound, "no such agent"));
            };
            agents.remove(pos).1
        };
        let port = old.port;
        stop(old).await;
        tokio::time::sleep(down_for).await;
        let listener = bind_again(port).await?;
        let server = serve(
            listener,
            http::agent_router(self.shared.clone(), id.to_string()),
        )
        .await;
        lock(&self.agents).push((id.to_string(), server));
        self.shared.with_core(|core, now| core.agent_up(id, now));
        Ok(())
    }

    /// Fault injection: the agent dies for good (its processes are killed; its tasks become
    /// TASK_UNREACHABLE for PARTITION_AWARE frameworks, TASK_LOST for others).
    pub async fn kill_agent(&self, id: &str) {
        self.shared.with_core(|core, now| core.kill_agent(id, now));
        let server = {
            let mut agents = lock(&self.agents);
            agents
                .iter()
                .position(|(a, _)| a == id)
                .map(|pos| agents.remove(pos).1)
        };
        if let Some(s) = server {
            stop(s).await;
        }
    }

    /// Fault injection: an operator marks the agent gone (it is killed first if needed):
    /// PARTITION_AWARE frameworks get TASK_GONE_BY_OPERATOR for its tasks.
    pub async fn mark_agent_gone(&self, id: &str) {
        self.kill_agent(id).await;
        self.shared
            .with_core(|core, now| core.mark_agent_gone(id, now));
    }

    /// Fault injection: a second master takes over; the old one answers 307 with
    /// `Location: //127.0.0.1:<new>/master/api/v1/scheduler` and its streams break.
    /// Returns the new leader's URL.
    pub async fn failover_master(&self) -> io::Result<String> {
        if self.cfg.standby_masters > 0 {
            let count = lock(&self.masters).len();
            let recovery = self.cfg.failover_recovery;
            self.shared.with_core(|core, now| {
                let next = (core.leader() + 1) % count;
                core.promote_standby(next, recovery, now)
            });
            return Ok(self.master_url());
        }
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let mut mcfg = self.cfg.master.clone();
        mcfg.port = listener.local_addr()?.port();
        let index = self
            .shared
            .with_core(|core, now| core.failover_master(mcfg, now));
        let server = serve(listener, http::master_router(self.shared.clone(), index)).await;
        lock(&self.masters).push(server);
        Ok(self.master_url())
    }

    /// Fault injection: break a framework's subscription stream (no chunk terminator).
    /// Returns false if it has none.
    pub fn cut_stream(&self, framework_id: &str) -> bool {
        self.shared
            .with_core(|core, now| core.cut_framework_stream(framework_id, now))
    }

    /// Fault injection: the master loses the agent (TASK_UNREACHABLE / TASK_LOST to the
    /// frameworks) while the agent and its executors keep running. False if unknown.
    pub fn partition_agent(&self, id: &str) -> bool {
        self.shared
            .with_core(|core, now| core.partition_agent(id, now))
    }

    /// Fault injection: the partition heals and the agent re-registers with its tasks.
    pub fn heal_agent(&self, id: &str) -> bool {
        self.shared.with_core(|core, now| core.heal_agent(id, now))
    }

    /// Fault injection: a framework's stream goes silent (no heartbeats, no events) while the
    /// TCP connection stays open. False if the framework has no stream.
    pub fn stall_stream(&self, framework_id: &str) -> bool {
        self.shared
            .with_core(|core, _| core.stall_framework_stream(framework_id))
    }

    /// Fault injection: SIGKILL the process of one executor. False if it is not running.
    pub fn kill_executor(&self, agent_id: &str, framework_id: &str, executor_id: &str) -> bool {
        self.shared
            .with_core(|core, _| core.kill_executor(agent_id, framework_id, executor_id))
    }

    /// Every task launch the masters sent to agents, in order (a task id appearing twice
    /// was launched twice).
    pub fn launch_history(&self) -> Vec<crate::LaunchRecord> {
        self.shared.lock().core.launch_history().to_vec()
    }

    /// Stops everything and kills every executor process.
    pub async fn shutdown(self) {
        self.shared.lock().kill_all();
        let masters: Vec<Server> = lock(&self.masters).drain(..).collect();
        let agents: Vec<Server> = lock(&self.agents).drain(..).map(|(_, s)| s).collect();
        for s in masters.into_iter().chain(agents) {
            stop(s).await;
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.shared.lock().kill_all();
        if self.cfg.remove_work_dir {
            let _ = std::fs::remove_dir_all(&self.cfg.work_dir);
        }
        self.ticker.abort();
        for s in lock(&self.masters)
            .iter()
            .chain(lock(&self.agents).iter().map(|(_, s)| s))
        {
            s.task.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn stop(mut s: Server) {
    if let Some(tx) = s.stop.take() {
        let _ = tx.send(());
    }
    if tokio::time::timeout(Duration::from_secs(2), &mut s.task)
        .await
        .is_err()
    {
        s.task.abort();
    }
}

/// Binds the port an agent had before its restart (executors know only that address).
async fn bind_again(port: u16) -> io::Result<TcpListener> {
    let mut last = None;
    for _ in 0..50 {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last.unwrap_or_else(|| io::Error::other("bind failed")))
}

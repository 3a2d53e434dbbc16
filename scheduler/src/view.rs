//! The `/api/state` document (field names fixed by the issue), built from the reducer's
//! state at `now`. Hashrates are H/s; a task whose last report is older than three report
//! intervals counts 0 in the cluster and agent sums (its own row still shows the last one).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proto::framework::TaskKind;
use proto::v1::TaskState;
use serde::{Deserialize, Serialize};

use crate::config::ServerConfig;
use crate::core::State;
use crate::core::task::Task;
pub use crate::history::changes::ChangeView;

/// `GET /api/state`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StateView {
    /// Our framework id, once Mesos gave one.
    pub framework_id: Option<String>,
    /// Whether a subscription is live.
    pub subscribed: bool,
    /// The master holding (or last holding) the subscription.
    pub master: Option<String>,
    /// The pool server.
    pub server: ServerView,
    /// Cluster totals.
    pub cluster: ClusterView,
    /// Per agent, by agent id.
    pub agents: Vec<AgentView>,
    /// Every task we track, server first.
    pub tasks: Vec<TaskView>,
    /// The last task state changes, newest first (at most 100).
    #[serde(default)]
    pub changes: Vec<ChangeView>,
}

/// The pool server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerView {
    /// `builtin`, `p2pool` or `external`.
    pub kind: String,
    /// The current server task (or the latest that ended).
    pub task_id: Option<String>,
    /// Its Mesos state.
    pub state: Option<String>,
    /// The Stratum URL workers use.
    pub url: Option<String>,
    /// Open Stratum connections (builtin server reports).
    pub connections: Option<u64>,
    /// Blocks found by every server task of this framework.
    pub blocks_found: u64,
    /// The height the builtin server mines on (none in demo mode or before a template).
    #[serde(default)]
    pub node_height: Option<u64>,
    /// The node's state as the builtin server reports it (`ok`, `connecting`, `error: …`,
    /// `demo`).
    #[serde(default)]
    pub node: Option<String>,
}

/// Cluster totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterView {
    /// Sum over workers with a fresh report, H/s.
    pub hashrate_10s: f64,
    /// See `hashrate_10s`.
    pub hashrate_1m: f64,
    /// See `hashrate_10s`.
    pub hashrate_15m: f64,
    /// Shares accepted (cumulative, including ended tasks).
    pub shares_accepted: u64,
    /// Shares rejected (cumulative).
    pub shares_rejected: u64,
    /// Stale shares (cumulative).
    pub shares_stale: u64,
    /// Worker tasks RUNNING.
    pub workers: usize,
}

/// One agent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentView {
    /// Agent id.
    pub agent_id: String,
    /// Its host name.
    pub hostname: String,
    /// Sum of its workers' fresh 10 s hashrates.
    pub hashrate_10s: f64,
    /// Tasks of ours there.
    pub tasks: usize,
}

/// One task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    /// Task id.
    pub task_id: String,
    /// `server` or `worker`.
    pub kind: TaskKind,
    /// Our executor's id (none for the p2pool Docker task).
    pub executor_id: Option<String>,
    /// Agent id.
    pub agent_id: String,
    /// Agent host name.
    pub hostname: String,
    /// Mesos state name.
    pub state: String,
    /// Latest `healthy` flag.
    pub healthy: Option<bool>,
    /// Search threads (from reports).
    pub threads: Option<u64>,
    /// Kernel (from reports).
    pub kernel: Option<String>,
    /// Last reported 10 s hashrate.
    pub hashrate_10s: f64,
    /// Last reported 1 min hashrate.
    pub hashrate_1m: f64,
    /// Shares accepted by this task.
    pub shares_accepted: u64,
    /// Shares rejected for this task.
    pub shares_rejected: u64,
    /// Seconds since its last report.
    pub last_report_age_s: Option<f64>,
}

fn task_view(task: &Task, now: Instant) -> TaskView {
    let sample = task.sample.as_ref();
    TaskView {
        task_id: task.rec.task_id.clone(),
        kind: task.rec.kind,
        executor_id: task.rec.executor_id.clone(),
        agent_id: task.rec.agent_id.clone(),
        hostname: task.rec.hostname.clone(),
        state: task.state.as_str_name().to_owned(),
        healthy: task.healthy,
        threads: sample.map(|s| s.threads),
        kernel: sample.map(|s| s.kernel.to_string()),
        hashrate_10s: sample.map_or(0.0, |s| s.hashrate[0]),
        hashrate_1m: sample.map_or(0.0, |s| s.hashrate[1]),
        shares_accepted: sample.map_or(0, |s| s.shares[0]),
        shares_rejected: sample.map_or(0, |s| s.shares[1]),
        last_report_age_s: task
            .sample_at
            .map(|t| now.saturating_duration_since(t).as_secs_f64()),
    }
}

impl State {
    /// Whether `task`'s report is recent enough to count in sums.
    pub fn fresh(&self, task: &Task, now: Instant) -> bool {
        let limit = Duration::from_millis(self.cfg.report_interval_ms.saturating_mul(3));
        task.sample_at
            .is_some_and(|t| now.saturating_duration_since(t) <= limit)
    }

    /// The `/api/state` document at `now`.
    pub fn view(&self, now: Instant) -> StateView {
        let mut tasks: Vec<&Task> = self.tasks.values().map(|t| &**t).collect();
        tasks.sort_by(|a, b| {
            (a.rec.kind == TaskKind::Worker, &a.rec.task_id)
                .cmp(&(b.rec.kind == TaskKind::Worker, &b.rec.task_id))
        });
        let mut cluster = ClusterView::default();
        let [acc, rej, stale] = &mut self.retired.shares.clone();
        let mut agents: BTreeMap<&str, AgentView> = BTreeMap::new();
        for task in &tasks {
            let agent = agents
                .entry(&task.rec.agent_id)
                .or_insert_with(|| AgentView {
                    agent_id: task.rec.agent_id.clone(),
                    hostname: task.rec.hostname.clone(),
                    ..AgentView::default()
                });
            agent.tasks += 1;
            if task.rec.kind != TaskKind::Worker {
                continue;
            }
            if task.state == TaskState::TaskRunning {
                cluster.workers += 1;
            }
            let Some(sample) = &task.sample else { continue };
            *acc += sample.shares[0];
            *rej += sample.shares[1];
            *stale += sample.shares[2];
            if self.fresh(task, now) {
                cluster.hashrate_10s += sample.hashrate[0];
                cluster.hashrate_1m += sample.hashrate[1];
                cluster.hashrate_15m += sample.hashrate[2];
                agent.hashrate_10s += sample.hashrate[0];
            }
        }
        (
            cluster.shares_accepted,
            cluster.shares_rejected,
            cluster.shares_stale,
        ) = (*acc, *rej, *stale);
        StateView {
            framework_id: self.framework_id().map(str::to_owned),
            subscribed: self.subscribed,
            master: self.master.clone(),
            server: self.server_view(),
            cluster,
            agents: agents.into_values().collect(),
            tasks: tasks.iter().map(|t| task_view(t, now)).collect(),
            changes: self.changes.view(now),
        }
    }

    /// Blocks found and accepted by every server task so far.
    pub fn blocks(&self) -> [u64; 2] {
        let mut blocks = self.retired.blocks;
        for task in self.tasks.values() {
            if let Some(server) = task.sample.as_ref().and_then(|s| s.server.as_ref()) {
                blocks[0] += server.blocks_found;
                blocks[1] += server.blocks_accepted;
            }
        }
        blocks
    }

    fn server_view(&self) -> ServerView {
        let mut view = ServerView {
            kind: self.cfg.server.kind_name().to_owned(),
            blocks_found: self.blocks()[0],
            ..ServerView::default()
        };
        if let ServerConfig::External { pool_url } = &self.cfg.server {
            view.url = Some(pool_url.clone());
            return view;
        }
        match self.server.as_deref().and_then(|id| self.tasks.get(id)) {
            Some(task) => {
                view.task_id = Some(task.rec.task_id.clone());
                view.state = Some(task.state.as_str_name().to_owned());
                view.url = Some(task.rec.pool_url.clone());
                let server = task.sample.as_ref().and_then(|s| s.server.as_ref());
                view.connections = server.map(|s| s.connections);
                view.node_height = server.and_then(|s| s.height);
                view.node = server.map(|s| s.node.to_string());
            }
            None => {
                if let Some((id, state)) = &self.last_server {
                    view.task_id = Some(id.clone());
                    view.state = Some(state.as_str_name().to_owned());
                }
            }
        }
        view
    }
}

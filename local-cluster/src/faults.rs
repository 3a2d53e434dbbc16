//! Fault injection the framework tests need beyond restarts and loss (issue: standby
//! masters, partitions, half-open streams, one executor killed), as inputs of [`Core`], and
//! the launch history that lets a test prove no task was launched twice.

use std::time::{Duration, Instant};

use crate::core::{Core, LaunchRecord, MASTER_STREAM_SHIFT, Out};
use crate::master::{Master, MasterConfig};
use crate::msg::ToAgent;

impl Core {
    /// Stream numbers for the next master created.
    pub(crate) fn next_master_base(&mut self) -> u64 {
        self.masters_created += 1;
        self.masters_created << MASTER_STREAM_SHIFT
    }

    /// A fresh master with its own stream numbers and id source.
    pub(crate) fn new_master(&mut self, cfg: MasterConfig) -> Master {
        let base = self.next_master_base();
        let ids = self.ids.fork();
        Master::new(cfg, base, self.wall, ids)
    }

    /// Every non-leading master answers 307 to the leader, as a standby behind ZooKeeper
    /// does (`3n-redirect-307-non-leader.txt`).
    pub(crate) fn point_standbys_at_leader(&mut self) {
        let leader = &self.masters[self.leader].cfg;
        let addr = format!("{}:{}", leader.hostname, leader.port);
        for (i, m) in self.masters.iter_mut().enumerate() {
            if i != self.leader {
                m.demote(&addr);
            }
        }
    }

    /// Adds a standby master (listening on `cfg.port`, redirecting to the leader); returns
    /// its index for the driver's router.
    pub(crate) fn add_standby(&mut self, cfg: MasterConfig) -> usize {
        let master = self.new_master(cfg);
        self.masters.push(master);
        self.point_standbys_at_leader();
        self.masters.len() - 1
    }

    /// Fault injection: the leader dies and standby `index` takes over with a fresh master
    /// state; it answers 503 "Master has not finished recovery" for `recovery`, then serves.
    /// Agents re-register with their tasks; frameworks must re-subscribe.
    pub(crate) fn promote_standby(
        &mut self,
        index: usize,
        recovery: Duration,
        now: Instant,
    ) -> bool {
        if index == self.leader || index >= self.masters.len() {
            return false;
        }
        for stream in self.masters[self.leader].open_streams() {
            self.out.push(Out::Abort { stream });
        }
        let cfg = self.masters[index].cfg.clone();
        let mut fresh = self.new_master(cfg);
        fresh.recovering_until = Some(now + recovery);
        self.masters[index] = fresh;
        self.leader = index;
        self.point_standbys_at_leader();
        let running: Vec<String> = self
            .agents
            .iter()
            .filter(|(id, a)| {
                a.phase() == crate::agent::Phase::Running && !self.partitioned.contains(*id)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in running {
            self.reregister(&id, now);
        }
        self.pump(now);
        true
    }

    /// Fault injection: the network between the master and an agent breaks. The master marks
    /// it unreachable (TASK_UNREACHABLE for PARTITION_AWARE frameworks, TASK_LOST otherwise);
    /// the agent and its executors keep running and mining.
    pub(crate) fn partition_agent(&mut self, agent_id: &str, now: Instant) -> bool {
        if !self.agents.contains_key(agent_id) || !self.partitioned.insert(agent_id.into()) {
            return false;
        }
        self.masters[self.leader].agent_lost(agent_id, now);
        self.pump(now);
        true
    }

    /// Fault injection: the partition heals; the agent re-registers with its tasks, which are
    /// RUNNING again (a scheduler learns it by reconciling, spec §5 "Agent failure").
    pub(crate) fn heal_agent(&mut self, agent_id: &str, now: Instant) -> bool {
        if !self.partitioned.remove(agent_id) {
            return false;
        }
        self.reregister(agent_id, now);
        self.pump(now);
        true
    }

    /// Fault injection: the framework's stream goes silent (no events, no heartbeats, no
    /// chunk terminator) while its TCP connection stays open: a half-open connection.
    pub(crate) fn stall_framework_stream(&mut self, framework_id: &str) -> bool {
        match self.masters[self.leader].stream_of(framework_id) {
            Some(stream) => self.stalled.insert(stream),
            None => false,
        }
    }

    /// The container running `executor_id` of `framework_id` on `agent_id`, if any.
    pub(crate) fn container_of(
        &self,
        agent_id: &str,
        framework_id: &str,
        executor_id: &str,
    ) -> Option<String> {
        let agent = self.agents.get(agent_id)?;
        let key = crate::keys::ExecutorKey::new(framework_id, executor_id);
        agent.executors.get(&key).map(|e| e.container.clone())
    }

    /// Fault injection: SIGKILL one executor's process; the agent reports it as it would
    /// any executor exit.
    pub(crate) fn kill_executor(
        &mut self,
        agent_id: &str,
        framework_id: &str,
        executor_id: &str,
    ) -> bool {
        match self.container_of(agent_id, framework_id, executor_id) {
            Some(container) => {
                self.out.push(Out::Signal {
                    container,
                    kill: true,
                });
                true
            }
            None => false,
        }
    }

    /// Every task launch sent to an agent so far, in order.
    pub(crate) fn launch_history(&self) -> &[LaunchRecord] {
        &self.launches
    }

    pub(crate) fn record_launches(&mut self, agent_id: &str, msg: &ToAgent) {
        let (framework, tasks) = match msg {
            ToAgent::RunTask { framework, task } => (framework, std::slice::from_ref(task)),
            ToAgent::RunTaskGroup {
                framework, group, ..
            } => (framework, group.tasks.as_slice()),
            _ => return,
        };
        let framework_id = framework.id.as_ref().map(|i| i.value.clone());
        for task in tasks {
            self.launches.push(LaunchRecord {
                framework_id: framework_id.clone().unwrap_or_default(),
                task_id: task.task_id.value.clone(),
                agent_id: agent_id.to_string(),
                task: task.clone(),
            });
        }
    }
}

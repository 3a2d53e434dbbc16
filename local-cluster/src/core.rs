//! The whole cluster as one sans-IO state machine: masters (one leading), agents, and the
//! routing of their messages. The driver feeds it requests, process events and `now`, and
//! executes the [`Out`]puts. Fault injection (agent restart or loss, master failover) are
//! inputs too, so every scenario can be tested without sockets.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::agent::{Agent, AgentConfig, AgentOut, LaunchSpec};
use crate::ids::{Ids, Wall};
use crate::master::{Master, MasterConfig, MasterOut};
use crate::pb::{exec, sched};
use crate::wire::{Reply, Request};

/// Stream numbers of master `i` start at `(i + 1) << 40`, agents' at `(n + 1) << 48`.
pub(crate) const MASTER_STREAM_SHIFT: u32 = 40;
const AGENT_CONN_SHIFT: u32 = 48;

/// What the driver must do.
#[derive(Clone, Debug)]
pub(crate) enum Out {
    /// An event on a scheduler subscription stream.
    SchedEvent { stream: u64, event: sched::Event },
    /// An event on an executor subscription stream.
    ExecEvent { conn: u64, event: exec::Event },
    /// End a stream with the chunk terminator.
    Close { stream: u64 },
    /// Break a stream without terminator (the peer process "died").
    Abort { stream: u64 },
    /// Fetch and start a container's process.
    Launch { container: String, spec: LaunchSpec },
    /// Signal a container's process.
    Signal { container: String, kill: bool },
}

/// One task the masters sent to an agent to launch (for "launched twice" checks).
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchRecord {
    /// The framework that launched the task.
    pub framework_id: String,
    /// The task's id.
    pub task_id: String,
    /// The agent it was sent to.
    pub agent_id: String,
    /// The TaskInfo as the master passed it on (what a test checks a launch against).
    pub task: crate::pb::v1::TaskInfo,
}

/// The cluster state machine.
pub(crate) struct Core {
    pub(crate) masters: Vec<Master>,
    pub(crate) leader: usize,
    pub(crate) agents: BTreeMap<String, Agent>,
    next_agent: u64,
    pub(crate) out: Vec<Out>,
    /// Agents cut off from the master (their messages to it are lost; processes run on).
    pub(crate) partitioned: BTreeSet<String>,
    /// Scheduler streams that get nothing more although their TCP connection stays open.
    pub(crate) stalled: BTreeSet<u64>,
    /// Every task launch sent to an agent, in order, across master failovers.
    pub(crate) launches: Vec<LaunchRecord>,
    /// Masters created so far (keeps stream numbers of replaced masters apart).
    pub(crate) masters_created: u64,
    /// Agent ids, and the sources handed to each new master and agent.
    pub(crate) ids: Ids,
    pub(crate) wall: Wall,
}

impl Core {
    /// A cluster with one leading master and no agents; every id comes from `ids`, every
    /// wall-clock reading from `wall` (see [`crate::ids`]).
    pub(crate) fn new(master: MasterConfig, wall: Wall, mut ids: Ids) -> Core {
        let first = Master::new(master, 1 << MASTER_STREAM_SHIFT, wall, ids.fork());
        Core {
            masters: vec![first],
            leader: 0,
            agents: BTreeMap::new(),
            next_agent: 0,
            out: Vec::new(),
            partitioned: BTreeSet::new(),
            stalled: BTreeSet::new(),
            launches: Vec::new(),
            masters_created: 1,
            ids,
            wall,
        }
    }

    /// Outputs produced since the last call.
    pub(crate) fn take_outputs(&mut self) -> Vec<Out> {
        std::mem::take(&mut self.out)
    }

    pub(crate) fn leader(&self) -> usize {
        self.leader
    }

    pub(crate) fn agent(&self, id: &str) -> Option<&Agent> {
        self.agents.get(id)
    }

    /// A fresh agent id in Mesos' style (`<uuid>-S<n>`).
    pub(crate) fn new_agent_id(&mut self) -> String {
        let id = format!("{}-S{}", self.ids.uuid(), self.next_agent);
        self.next_agent += 1;
        id
    }

    /// Adds a running agent and registers it with the leading master.
    pub(crate) fn add_agent(&mut self, cfg: AgentConfig, now: Instant) {
        let base = (self.agents.len() as u64 + 1) << AGENT_CONN_SHIFT;
        let agent = Agent::new(cfg, base, self.wall, self.ids.fork());
        let reg = agent.registration();
        self.agents.insert(agent.id().to_string(), agent);
        self.masters[self.leader].register_agent(reg);
        self.pump(now);
    }

    /// A request to master `i`'s scheduler endpoint.
    pub(crate) fn scheduler_request(&mut self, i: usize, req: &Request, now: Instant) -> Reply {
        let Some(m) = self.masters.get_mut(i) else {
            return Reply::text(503, "No leader elected");
        };
        let reply = m.handle_request(req, now);
        self.pump(now);
        reply
    }

    /// A request to an agent's executor endpoint.
    pub(crate) fn executor_request(
        &mut self,
        agent_id: &str,
        req: &Request,
        now: Instant,
    ) -> Reply {
        let Some(a) = self.agents.get_mut(agent_id) else {
            return Reply::text(503, "Agent has not finished recovery");
        };
        let reply = a.handle_request(req, now);
        self.pump(now);
        reply
    }

    /// A subscription stream's client went away (scheduler or executor side).
    pub(crate) fn stream_closed(&mut self, stream: u64, now: Instant) {
        if stream >> AGENT_CONN_SHIFT > 0 {
            for a in self.agents.values_mut() {
                a.stream_closed(stream);
            }
        } else {
            for m in self.masters.iter_mut() {
                m.stream_closed(stream, now);
            }
        }
        self.pump(now);
    }

    pub(crate) fn process_started(&mut self, container: &str, now: Instant) {
        self.with_container(container, now, |a, c, n| a.process_started(c, n));
    }

    pub(crate) fn process_exited(&mut self, container: &str, status: i32, now: Instant) {
        self.with_container(container, now, |a, c, n| a.process_exited(c, status, n));
    }

    pub(crate) fn launch_failed(&mut self, container: &str, message: &str, now: Instant) {
        self.with_container(container, now, |a, c, n| a.launch_failed(c, message, n));
    }

    fn with_container(
        &mut self,
        container: &str,
        now: Instant,
        f: impl FnOnce(&mut Agent, &str, Instant),
    ) {
        if let Some(a) = self
            .agents
            .values_mut()
            .find(|a| a.has_container(container))
        {
            f(a, container, now);
        }
        self.pump(now);
    }

    /// Time passed: every due timer of every master and agent fires (the driver calls this
    /// every tick; `now` is an input like any request).
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        let leader = self.leader;
        let mut newly_running = Vec::new();
        for (id, a) in self.agents.iter_mut() {
            let was = a.phase();
            a.handle_timeout(now);
            if was != a.phase() && a.phase() == crate::agent::Phase::Running {
                newly_running.push(id.clone());
            }
        }
        for id in newly_running {
            self.reregister(&id, now);
        }
        self.masters[leader].handle_timeout(now);
        self.pump(now);
    }

    pub(crate) fn reregister(&mut self, agent_id: &str, now: Instant) {
        if let Some(a) = self.agents.get_mut(agent_id) {
            let reg = a.registration();
            self.masters[self.leader].register_agent(reg);
            a.registered(now);
        }
    }

    /// Fault injection: the agent stops (its executors' streams break); see [`Core::agent_up`].
    pub(crate) fn agent_down(&mut self, agent_id: &str, now: Instant) {
        let Some(a) = self.agents.get_mut(agent_id) else {
            return;
        };
        for conn in a.open_conns() {
            self.out.push(Out::Abort { stream: conn });
        }
        a.go_down();
        self.masters[self.leader].agent_disconnected(agent_id);
        self.pump(now);
    }

    /// Fault injection: the restarted agent listens again and recovers.
    pub(crate) fn agent_up(&mut self, agent_id: &str, now: Instant) {
        if let Some(a) = self.agents.get_mut(agent_id) {
            a.come_up(now);
        }
        self.pump(now);
    }

    /// Fault injection: the agent dies for good; its processes are killed and the master
    /// marks it unreachable.
    pub(crate) fn kill_agent(&mut self, agent_id: &str, now: Instant) {
        let Some(mut a) = self.agents.remove(agent_id) else {
            return;
        };
        for conn in a.open_conns() {
            self.out.push(Out::Abort { stream: conn });
        }
        a.go_down();
        for container in a.containers() {
            self.out.push(Out::Signal {
                container,
                kill: true,
            });
        }
        let _ = a.take_outputs();
        self.masters[self.leader].agent_lost(agent_id, now);
        self.pump(now);
    }

    /// Fault injection: an operator marks an agent gone (killing it first if it still runs).
    pub(crate) fn mark_agent_gone(&mut self, agent_id: &str, now: Instant) {
        if self.agents.contains_key(agent_id) {
            self.kill_agent(agent_id, now);
        }
        self.masters[self.leader].agent_gone(agent_id, now);
        self.pump(now);
    }

    /// Fault injection: a new master takes over on `cfg.port`; the old one answers 307 and
    /// its streams break. Agents re-register with their tasks (checkpointed tasks survive).
    pub(crate) fn failover_master(&mut self, cfg: MasterConfig, now: Instant) -> usize {
        let leader_addr = format!("{}:{}", cfg.hostname, cfg.port);
        let old = self.leader;
        for stream in self.masters[old].open_streams() {
            self.out.push(Out::Abort { stream });
        }
        self.masters[old].demote(&leader_addr);
        let master = self.new_master(cfg);
        self.masters.push(master);
        self.leader = self.masters.len() - 1;
        self.point_standbys_at_leader();
        let ids: Vec<String> = self.agents.keys().cloned().collect();
        for id in ids {
            if self
                .agents
                .get(&id)
                .is_some_and(|a| a.phase() == crate::agent::Phase::Running)
            {
                self.reregister(&id, now);
            }
        }
        self.pump(now);
        self.leader
    }

    /// Fault injection: break a framework's subscription stream at the leading master.
    pub(crate) fn cut_framework_stream(&mut self, framework_id: &str, now: Instant) -> bool {
        let Some(stream) = self.masters[self.leader].stream_of(framework_id) else {
            return false;
        };
        self.out.push(Out::Abort { stream });
        self.masters[self.leader].stream_closed(stream, now);
        self.pump(now);
        true
    }

    /// Routes master ↔ agent messages until quiet; collects the driver's outputs.
    pub(crate) fn pump(&mut self, now: Instant) {
        for _ in 0..64 {
            let from_masters = self.route_master_outputs(now);
            let from_agents = self.route_agent_outputs();
            if !from_masters && !from_agents {
                return;
            }
        }
    }

    /// Master outputs: events to the driver (unless the stream is stalled), commands to the
    /// agents. Whether there were any.
    fn route_master_outputs(&mut self, now: Instant) -> bool {
        let mut any = false;
        for i in 0..self.masters.len() {
            for o in self.masters[i].take_outputs() {
                any = true;
                match o {
                    MasterOut::Event { stream, .. } | MasterOut::Close { stream }
                        if self.stalled.contains(&stream) => {}
                    MasterOut::Event { stream, event } => {
                        self.out.push(Out::SchedEvent { stream, event })
                    }
                    MasterOut::Close { stream } => self.out.push(Out::Close { stream }),
                    MasterOut::ToAgent { agent_id, msg } => {
                        self.record_launches(&agent_id, &msg);
                        if let Some(a) = self.agents.get_mut(&agent_id) {
                            a.handle_master_message(msg, now);
                        }
                    }
                }
            }
        }
        any
    }

    /// Agent outputs: events, launches and signals to the driver, messages to the leading
    /// master. Whether there were any.
    fn route_agent_outputs(&mut self) -> bool {
        let mut any = false;
        let leader = self.leader;
        for (id, a) in self.agents.iter_mut() {
            for o in a.take_outputs() {
                any = true;
                let out = match o {
                    AgentOut::Event { conn, event } => Out::ExecEvent { conn, event },
                    AgentOut::Close { conn } => Out::Close { stream: conn },
                    AgentOut::Launch { container, spec } => Out::Launch { container, spec },
                    AgentOut::Signal { container, kill } => Out::Signal { container, kill },
                    // A partitioned agent's messages never arrive; its status update
                    // manager retries them after the heal.
                    AgentOut::ToMaster(_) if self.partitioned.contains(id) => continue,
                    AgentOut::ToMaster(msg) => {
                        self.masters[leader].handle_agent_message(id, msg);
                        continue;
                    }
                };
                self.out.push(out);
            }
        }
        any
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;

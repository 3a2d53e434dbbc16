//! The status-update manager (spec §3.5, recorded in `recovery/2-status-update-retry.txt`):
//! per task an ordered stream; only the oldest unacknowledged update is in flight; it is
//! resent after 10 s, then 20 s, 40 s … up to 10 min, until the scheduler acknowledges it;
//! a (re)subscribing framework gets every pending update at once and the backoff restarts.

use std::time::Instant;

use super::{Agent, AgentOut, Phase, UpdateStream};
use crate::keys::TaskKey;
use crate::msg::ToMaster;
use crate::pb::v1::TaskStatus;

impl Agent {
    /// Stamps an update the agent made itself (agent or command-executor source) with the
    /// time and a fresh uuid: it is reliable, so the scheduler acknowledges it by that uuid.
    pub(crate) fn stamp(&mut self, mut status: TaskStatus, now: Instant) -> TaskStatus {
        status.timestamp = Some(self.wall.secs(now));
        status.uuid = Some(self.ids.uuid().as_bytes().to_vec());
        status
    }

    /// Stamps and takes an update the agent made itself.
    pub(crate) fn enqueue_own(&mut self, framework_id: &str, status: TaskStatus, now: Instant) {
        let status = self.stamp(status, now);
        self.enqueue_update(framework_id, status, now);
    }

    /// Takes a reliable update (from an executor or made by the agent) into its task's stream.
    pub(crate) fn enqueue_update(
        &mut self,
        framework_id: &str,
        mut status: TaskStatus,
        now: Instant,
    ) {
        status.agent_id = Some(crate::pb::v1::AgentId {
            value: self.cfg.id.clone(),
        });
        let task_id = status.task_id.value.clone();
        for e in self
            .executors
            .values_mut()
            .filter(|e| e.framework_id == framework_id)
        {
            if let Some(t) = e.tasks.get_mut(&task_id) {
                t.1 = status.state();
            }
        }
        let min = self.cfg.update_retry_min;
        let stream = self
            .updates
            .entry(TaskKey::new(framework_id, task_id))
            .or_default();
        stream.pending.push_back(status.clone());
        if stream.pending.len() == 1 {
            stream.backoff = min;
            stream.next_retry = Some(now + min);
            self.forward(framework_id, status);
        } else if self.phase == Phase::Running {
            let key = TaskKey::new(framework_id, status.task_id.value.clone());
            self.report_latest(&key);
        }
    }

    /// Whether an update with this uuid is still pending for the task.
    pub(crate) fn has_pending(&self, framework_id: &str, task_id: &str, uuid: &[u8]) -> bool {
        self.updates
            .get(&TaskKey::new(framework_id, task_id))
            .is_some_and(|s| s.pending.iter().any(|p| p.uuid.as_deref() == Some(uuid)))
    }

    fn forward(&mut self, framework_id: &str, status: TaskStatus) {
        if self.phase != Phase::Running {
            return;
        }
        let key = TaskKey::new(framework_id, status.task_id.value.clone());
        self.push(AgentOut::ToMaster(ToMaster::StatusUpdate {
            framework_id: framework_id.into(),
            status,
        }));
        self.report_latest(&key);
    }

    /// Tells the master the newest state of a task whose older updates still wait for
    /// acknowledgement (spec §3.5 step 3: the master accounts resources on it).
    fn report_latest(&mut self, key: &TaskKey) {
        let Some(newest) = self
            .updates
            .get(key)
            .filter(|s| s.pending.len() > 1)
            .and_then(|s| s.pending.back())
        else {
            return;
        };
        let msg = ToMaster::LatestState {
            framework_id: key.framework_id.clone(),
            task_id: key.task_id.clone(),
            state: newest.state(),
        };
        self.push(AgentOut::ToMaster(msg));
    }

    /// The scheduler acknowledged `uuid`: the head is done; the next update goes out.
    pub(crate) fn acknowledge(
        &mut self,
        framework_id: &str,
        task_id: &str,
        uuid: &[u8],
        now: Instant,
    ) {
        let key = TaskKey::new(framework_id, task_id);
        let Some(stream) = self.updates.get_mut(&key) else {
            return;
        };
        if stream.pending.front().and_then(|s| s.uuid.as_deref()) != Some(uuid) {
            return;
        }
        let acked = stream.pending.pop_front();
        let next = stream.pending.front().cloned();
        match next {
            Some(status) => {
                stream.backoff = self.cfg.update_retry_min;
                stream.next_retry = Some(now + self.cfg.update_retry_min);
                self.forward(framework_id, status);
            }
            None => {
                self.updates.remove(&key);
            }
        }
        // A terminal update acknowledged: the agent forgets the task (Mesos moves it to
        // completed tasks); reconciliation then answers TASK_GONE.
        if acked.is_some_and(|s| s.state().is_terminal()) && !self.updates.contains_key(&key) {
            for e in self
                .executors
                .values_mut()
                .filter(|e| e.framework_id == framework_id)
            {
                e.tasks.remove(task_id);
            }
        }
    }

    /// Resends every pending head of a framework now, restarting the backoff.
    pub(crate) fn resend(&mut self, framework_id: &str, now: Instant) {
        let min = self.cfg.update_retry_min;
        let mut heads = Vec::new();
        for (key, s) in self
            .updates
            .iter_mut()
            .filter(|(k, _)| k.framework_id == framework_id)
        {
            if let Some(head) = s.pending.front() {
                s.backoff = min;
                s.next_retry = Some(now + min);
                heads.push((key.framework_id.clone(), head.clone()));
            }
        }
        for (fid, status) in heads {
            self.forward(&fid, status);
        }
    }

    /// Resends every pending head of every framework (after (re)registering with a master).
    pub(crate) fn resend_all(&mut self, now: Instant) {
        let fids: Vec<String> = self
            .updates
            .keys()
            .map(|k| k.framework_id.clone())
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for fid in fids {
            if seen.insert(fid.clone()) {
                self.resend(&fid, now);
            }
        }
    }

    /// Retries heads whose timer ran out, doubling the interval up to the maximum.
    pub(crate) fn retry_updates(&mut self, now: Instant) {
        let max = self.cfg.update_retry_max;
        let mut due = Vec::new();
        for (key, s) in self.updates.iter_mut() {
            let UpdateStream {
                pending,
                next_retry,
                backoff,
            } = s;
            if let (Some(head), Some(at)) = (pending.front(), *next_retry)
                && at <= now
            {
                *backoff = (*backoff * 2).min(max);
                *next_retry = Some(now + *backoff);
                due.push((key.framework_id.clone(), head.clone()));
            }
        }
        for (fid, status) in due {
            self.forward(&fid, status);
        }
    }
}

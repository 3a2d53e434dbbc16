//! The subscription half of the core: SUBSCRIBE with everything unacknowledged, the
//! re-subscription schedule after a lost stream (spec §3.4, recorded in
//! `recovery/exec-ar-exec.log.txt`: TCP EOF, refused connections, 503 "Agent has not
//! finished recovery", then 200 + SUBSCRIBED + an ACKNOWLEDGED per carried update), the
//! acknowledgement bookkeeping, and the exit rule.

use std::time::{Duration, Instant};

use proto::executor::event::Subscribed;
use proto::v1::{TaskId, TaskStatus, framework_info::capability};
use tracing::{debug, info, warn};

use super::{Action, Conn, Core, ExitReason};

/// First re-subscription pause after the immediate retry; it doubles up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Retry budget of the very first SUBSCRIBE without checkpointing (the agent's default
/// executor registration timeout is 1 min).
const REGISTRATION_WINDOW: Duration = Duration::from_secs(60);

impl Core {
    /// Sends SUBSCRIBE carrying the unacknowledged tasks and updates.
    pub(super) fn subscribe(&mut self, _now: Instant, out: &mut Vec<Action>) {
        let call = proto::calls::executor::subscribe(
            &self.config.executor_id,
            &self.config.framework_id,
            self.unacked_tasks.values().cloned().collect(),
            self.unacked_updates.clone(),
        );
        let sent = self
            .unacked_updates
            .iter()
            .filter_map(|s| s.uuid.clone())
            .collect();
        let attempt = match self.conn {
            Conn::Waiting { attempt, .. } => attempt,
            _ => 0,
        };
        debug!(
            tasks = self.unacked_tasks.len(),
            updates = self.unacked_updates.len(),
            attempt,
            "SUBSCRIBE"
        );
        self.conn = Conn::Subscribing { sent, attempt };
        out.push(Action::Subscribe(Box::new(call)));
    }

    pub(super) fn on_subscribed(
        &mut self,
        subscribed: Option<Subscribed>,
        _now: Instant,
        out: &mut Vec<Action>,
    ) {
        let sent = match std::mem::replace(&mut self.conn, Conn::Subscribed) {
            Conn::Subscribing { sent, .. } => sent,
            _ => Vec::new(),
        };
        if let Some(s) = subscribed {
            self.agent_id = s.agent_info.id.clone().or(self.agent_id.take());
            self.agent_hostname = Some(s.agent_info.hostname.clone());
            self.killing_state = proto::calls::offer::has_capability(
                &s.framework_info,
                capability::Type::TaskKillingState,
            );
        }
        if self.recovery_deadline.take().is_some() {
            info!("re-subscribed to the agent");
        } else {
            info!("subscribed to the agent");
        }
        self.ever_subscribed = true;
        // Updates made while the SUBSCRIBE was in flight were not in it: post them now.
        for status in &self.unacked_updates {
            if !status.uuid.as_ref().is_some_and(|u| sent.contains(u)) {
                out.push(self.update_call(status.clone()));
            }
        }
    }

    /// The stream is gone (or never came): retry, or stop.
    pub(super) fn lost(&mut self, now: Instant, out: &mut Vec<Action>) {
        // Failures in a row: a lost stream retries at once, a failed SUBSCRIBE backs off.
        let attempt = match self.conn {
            Conn::Subscribed => 0,
            Conn::Subscribing { attempt, .. } => attempt + 1,
            Conn::Waiting { attempt, .. } => attempt,
        };
        let can_retry = self.config.checkpoint || !self.ever_subscribed;
        if !can_retry {
            warn!("lost the agent and the framework does not checkpoint: stopping");
            self.exit(ExitReason::Disconnected, out);
            return;
        }
        let window = if self.ever_subscribed {
            self.config.recovery_timeout
        } else {
            REGISTRATION_WINDOW.max(self.config.recovery_timeout)
        };
        let deadline = *self.recovery_deadline.get_or_insert(now + window);
        if now >= deadline {
            self.exit(ExitReason::RecoveryTimeout, out);
            return;
        }
        let pause = self.backoff(attempt);
        debug!(
            attempt,
            pause_ms = pause.as_millis() as u64,
            "SUBSCRIBE again"
        );
        self.conn = Conn::Waiting {
            at: now + pause,
            attempt,
        };
    }

    /// At once for the first retry (the agent destroys executors that do not re-subscribe
    /// within its re-registration timeout, which is the backoff cap), then jittered
    /// exponential pauses in [½, 1] × min(100 ms × 2^n, cap).
    fn backoff(&mut self, attempt: u32) -> Duration {
        if attempt == 0 {
            return Duration::ZERO;
        }
        let full = FIRST_BACKOFF
            .saturating_mul(2u32.saturating_pow(attempt.min(20) - 1))
            .min(self.config.backoff_max);
        full.mul_f64(0.5 + 0.5 * self.entropy.jitter().clamp(0.0, 1.0))
    }

    pub(super) fn on_acknowledged(&mut self, task_id: &TaskId, uuid: &[u8]) {
        let before = self.unacked_updates.len();
        self.unacked_updates
            .retain(|s| s.uuid.as_deref() != Some(uuid));
        if self.unacked_updates.len() == before {
            debug!(task = %task_id, "ACKNOWLEDGED for an update we do not hold");
        }
        // The agent has an update of this task: it knows the task now.
        self.unacked_tasks.remove(&task_id.value);
    }

    /// Keeps `status` until acknowledged and posts it if a stream is up; otherwise it goes
    /// with the next SUBSCRIBE (recorded: "queued (unsent) TASK_RUNNING update while
    /// disconnected").
    pub(super) fn send_update(&mut self, status: TaskStatus, out: &mut Vec<Action>) {
        self.unacked_updates.push(status.clone());
        if self.is_subscribed() {
            out.push(self.update_call(status));
        }
    }

    fn update_call(&self, status: TaskStatus) -> Action {
        let call = proto::calls::executor::update(
            &self.config.executor_id,
            &self.config.framework_id,
            status,
        );
        Action::Post(Box::new(call))
    }

    /// Exits once every task is done and every update acknowledged, or at the deadline.
    pub(super) fn check_exit(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.exited {
            return;
        }
        let all_done = !self.tasks.is_empty() && self.tasks.values().all(|t| t.is_done());
        if !(all_done || self.shutting_down) {
            return;
        }
        if all_done && self.unacked_updates.is_empty() {
            self.exit(ExitReason::Done, out);
            return;
        }
        let grace = self.config.shutdown_grace;
        let deadline = *self.exit_deadline.get_or_insert(now + grace);
        if now >= deadline {
            warn!(
                unacknowledged = self.unacked_updates.len(),
                "giving up waiting for acknowledgements"
            );
            self.exit(ExitReason::AckTimeout, out);
        }
    }
}

//! Framework MESSAGEs from our executors: hashrate reports (`proto::framework::Report`),
//! parsed with a size limit, checked against the task and executor they claim, and kept
//! only if newer (higher `seq`) than the one we have. A bad message is counted, never fatal.

use std::time::Instant;

use proto::framework::Report;
use proto::scheduler::event;

use super::State;
use super::task::Sample;

impl State {
    pub(crate) fn on_message(&mut self, message: &event::Message, now: Instant) {
        self.stats.messages += 1;
        let Ok(report) = Report::parse(&message.data) else {
            self.stats.bad_messages += 1;
            return;
        };
        let Some(task) = self.tasks.get_mut(&report.task_id) else {
            self.stats.bad_messages += 1;
            return;
        };
        if task.rec.executor_id.as_deref() != Some(message.executor_id.value.as_str()) {
            self.stats.bad_messages += 1;
            return;
        }
        if task.sample.as_ref().is_some_and(|s| report.seq <= s.seq) {
            return;
        }
        task.sample = Some(Sample::from_report(&report));
        task.sample_at = Some(now);
    }
}

//! Facts about task states that every scheduler and executor needs (spec §4.4 table).

use crate::v1::TaskState;

impl TaskState {
    /// Terminal in Mesos's `isTerminalState`: the task's resources are freed. TASK_LOST and
    /// TASK_GONE_BY_OPERATOR are terminal in code even though the task may still run;
    /// TASK_UNREACHABLE and TASK_UNKNOWN are not terminal.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::TaskFinished
                | TaskState::TaskFailed
                | TaskState::TaskKilled
                | TaskState::TaskError
                | TaskState::TaskLost
                | TaskState::TaskDropped
                | TaskState::TaskGone
                | TaskState::TaskGoneByOperator
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_follow_the_spec_table() {
        let non_terminal = [
            TaskState::TaskStaging,
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskKilling,
            TaskState::TaskUnreachable,
            TaskState::TaskUnknown,
        ];
        for state in non_terminal {
            assert!(!state.is_terminal(), "{state:?}");
        }
        let terminal = (0..=13)
            .filter_map(|n| TaskState::try_from(n).ok())
            .filter(|s| !non_terminal.contains(s));
        assert_eq!(terminal.clone().count(), 8);
        for state in terminal {
            assert!(state.is_terminal(), "{state:?}");
        }
    }
}

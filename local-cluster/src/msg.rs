//! Messages between the master and the agents. In real Mesos these travel as libprocess
//! messages; here master and agents live in one process, so they are plain values routed by
//! [`crate::core::Core`]. They are not part of the public wire protocol.

use crate::keys::ExecutorKey;
use crate::pb::v1::{
    ExecutorInfo, FrameworkInfo, KillPolicy, TaskGroupInfo, TaskInfo, TaskState, TaskStatus,
};
use crate::resources::Res;

/// Master → agent.
#[derive(Clone, Debug)]
pub(crate) enum ToAgent {
    /// Launch one task (command task, or on a custom executor).
    RunTask {
        framework: FrameworkInfo,
        task: TaskInfo,
    },
    /// Launch a task group on an executor.
    RunTaskGroup {
        framework: FrameworkInfo,
        executor: ExecutorInfo,
        group: TaskGroupInfo,
    },
    /// Kill one task, with the KILL call's policy override if any.
    KillTask {
        framework_id: String,
        task_id: String,
        kill_policy: Option<KillPolicy>,
    },
    /// Shut an executor down (scheduler `SHUTDOWN`).
    ShutdownExecutor {
        framework_id: String,
        executor_id: String,
    },
    /// The framework is removed: shut down all its executors and forget it.
    ShutdownFramework { framework_id: String },
    /// Scheduler `MESSAGE` for an executor.
    FrameworkMessage {
        framework_id: String,
        executor_id: String,
        data: Vec<u8>,
    },
    /// Scheduler `ACKNOWLEDGE` of a status update.
    Acknowledge {
        framework_id: String,
        task_id: String,
        uuid: Vec<u8>,
    },
    /// The framework (re)subscribed: resend every pending status update at once.
    ResendUpdates { framework_id: String },
    /// The framework info changed (re-subscription or UPDATE_FRAMEWORK).
    UpdateFramework { framework: FrameworkInfo },
}

/// Agent → master.
#[derive(Clone, Debug)]
pub(crate) enum ToMaster {
    /// A status update to forward (reliable ones carry a uuid and are retried by the agent).
    StatusUpdate {
        framework_id: String,
        status: TaskStatus,
    },
    /// A task's latest state while older updates still wait for acknowledgement.
    LatestState {
        framework_id: String,
        task_id: String,
        state: TaskState,
    },
    /// An executor's `MESSAGE` for its scheduler.
    ExecutorMessage {
        framework_id: String,
        executor_id: String,
        data: Vec<u8>,
    },
    /// An executor process ended; `status` is the raw wait status. `generated` marks the
    /// executors the agent made up for command tasks (no FAILURE event for those).
    ExecutorExited {
        framework_id: String,
        executor_id: String,
        status: i32,
        generated: bool,
    },
}

/// What an agent tells a master when it (re)registers.
#[derive(Clone, Debug)]
pub(crate) struct Registration {
    pub agent_id: String,
    pub hostname: String,
    pub port: u16,
    pub total: Res,
    /// Live tasks: framework id, task, latest state, latest status.
    pub tasks: Vec<(String, TaskInfo, TaskState, Option<TaskStatus>)>,
    /// Running executors and their own resources.
    pub executors: Vec<(ExecutorKey, Res)>,
    /// Framework infos of the frameworks with tasks here.
    pub frameworks: Vec<FrameworkInfo>,
}

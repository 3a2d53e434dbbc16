//! Calls as pure values (the mesos-go `calls` style): each function returns a complete
//! `Call` for the scheduler API (spec §2.1) or the executor API (spec §3.1), with the
//! `type` and the one matching sub-message set. Nothing here sends anything.

/// Scheduler calls (`mesos.v1.scheduler.Call`). Every call but SUBSCRIBE carries the
/// framework id (spec §2.1: mandatory for all non-SUBSCRIBE calls).
pub mod scheduler {
    use crate::scheduler::{Call, call};
    use crate::v1::{
        AgentId, ExecutorId, FrameworkId, FrameworkInfo, KillPolicy, OfferId, TaskId, TaskStatus,
        offer::Operation,
    };

    fn base(framework_id: &FrameworkId, kind: call::Type) -> Call {
        Call {
            framework_id: Some(framework_id.clone()),
            r#type: Some(kind as i32),
            ..Call::default()
        }
    }

    /// SUBSCRIBE. `Call.framework_id` is copied from `framework_info.id`: on a re-subscribe
    /// both must hold the stored id, on the first one neither (spec §5).
    pub fn subscribe(framework_info: FrameworkInfo) -> Call {
        subscribe_suppressed(framework_info, Vec::new())
    }

    /// SUBSCRIBE with some roles suppressed from the start (subset of `roles`).
    pub fn subscribe_suppressed(
        framework_info: FrameworkInfo,
        suppressed_roles: Vec<String>,
    ) -> Call {
        Call {
            framework_id: framework_info.id.clone(),
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info,
                suppressed_roles,
                offer_constraints: None,
            }),
            ..Call::default()
        }
    }

    /// TEARDOWN: kill everything and remove the framework; its id can never be reused.
    pub fn teardown(framework_id: &FrameworkId) -> Call {
        base(framework_id, call::Type::Teardown)
    }

    /// ACCEPT offers (all of one agent) with operations; unused resources are declined
    /// with `filters`.
    pub fn accept(
        framework_id: &FrameworkId,
        offer_ids: Vec<OfferId>,
        operations: Vec<Operation>,
        filters: Option<crate::v1::Filters>,
    ) -> Call {
        Call {
            accept: Some(call::Accept {
                offer_ids,
                operations,
                filters,
            }),
            ..base(framework_id, call::Type::Accept)
        }
    }

    /// DECLINE offers; `filters` (default refuse_seconds 5) keeps them away for a while.
    pub fn decline(
        framework_id: &FrameworkId,
        offer_ids: Vec<OfferId>,
        filters: Option<crate::v1::Filters>,
    ) -> Call {
        Call {
            decline: Some(call::Decline { offer_ids, filters }),
            ..base(framework_id, call::Type::Decline)
        }
    }

    /// REVIVE: clear filters and unsuppress; empty `roles` means all subscribed roles.
    pub fn revive(framework_id: &FrameworkId, roles: Vec<String>) -> Call {
        Call {
            revive: Some(call::Revive { roles }),
            ..base(framework_id, call::Type::Revive)
        }
    }

    /// SUPPRESS offers; empty `roles` means all subscribed roles.
    pub fn suppress(framework_id: &FrameworkId, roles: Vec<String>) -> Call {
        Call {
            suppress: Some(call::Suppress { roles }),
            ..base(framework_id, call::Type::Suppress)
        }
    }

    /// KILL a task; `kill_policy` overrides the task's own.
    pub fn kill(
        framework_id: &FrameworkId,
        task_id: TaskId,
        agent_id: Option<AgentId>,
        kill_policy: Option<KillPolicy>,
    ) -> Call {
        Call {
            kill: Some(call::Kill {
                task_id,
                agent_id,
                kill_policy,
            }),
            ..base(framework_id, call::Type::Kill)
        }
    }

    /// SHUTDOWN a custom executor and all its tasks.
    pub fn shutdown(
        framework_id: &FrameworkId,
        executor_id: ExecutorId,
        agent_id: AgentId,
    ) -> Call {
        Call {
            shutdown: Some(call::Shutdown {
                executor_id,
                agent_id,
            }),
            ..base(framework_id, call::Type::Shutdown)
        }
    }

    /// ACKNOWLEDGE one status update by its raw 16-byte uuid.
    pub fn acknowledge(
        framework_id: &FrameworkId,
        agent_id: AgentId,
        task_id: TaskId,
        uuid: Vec<u8>,
    ) -> Call {
        Call {
            acknowledge: Some(call::Acknowledge {
                agent_id,
                task_id,
                uuid,
            }),
            ..base(framework_id, call::Type::Acknowledge)
        }
    }

    /// The ACKNOWLEDGE an UPDATE needs, or `None` when it must not be acknowledged: no uuid
    /// (master-generated, spec §3.5 step 4) or no agent id to address it to.
    pub fn acknowledge_status(framework_id: &FrameworkId, status: &TaskStatus) -> Option<Call> {
        let uuid = status.uuid.clone().filter(|uuid| !uuid.is_empty())?;
        let agent_id = status.agent_id.clone()?;
        Some(acknowledge(
            framework_id,
            agent_id,
            status.task_id.clone(),
            uuid,
        ))
    }

    /// RECONCILE: explicit for the listed tasks, implicit (every known task) when empty.
    pub fn reconcile(framework_id: &FrameworkId, tasks: Vec<(TaskId, Option<AgentId>)>) -> Call {
        let tasks = tasks
            .into_iter()
            .map(|(task_id, agent_id)| call::reconcile::Task { task_id, agent_id })
            .collect();
        Call {
            reconcile: Some(call::Reconcile { tasks }),
            ..base(framework_id, call::Type::Reconcile)
        }
    }

    /// MESSAGE to an executor (best effort, spec §5).
    pub fn message(
        framework_id: &FrameworkId,
        agent_id: AgentId,
        executor_id: ExecutorId,
        data: Vec<u8>,
    ) -> Call {
        Call {
            message: Some(call::Message {
                agent_id,
                executor_id,
                data,
            }),
            ..base(framework_id, call::Type::Message)
        }
    }

    /// REQUEST resources (ignored by the default allocator).
    pub fn request(framework_id: &FrameworkId, requests: Vec<crate::v1::Request>) -> Call {
        Call {
            request: Some(call::Request { requests }),
            ..base(framework_id, call::Type::Request)
        }
    }

    /// UPDATE_FRAMEWORK (answered 200); cannot change principal, user or checkpoint.
    pub fn update_framework(framework_info: FrameworkInfo, suppressed_roles: Vec<String>) -> Call {
        Call {
            framework_id: framework_info.id.clone(),
            r#type: Some(call::Type::UpdateFramework as i32),
            update_framework: Some(call::UpdateFramework {
                framework_info,
                suppressed_roles,
                offer_constraints: None,
            }),
            ..Call::default()
        }
    }
}

/// Offer operations, `FrameworkInfo` and `Filters` helpers for the scheduler.
pub mod offer {
    use crate::v1::framework_info::{Capability, capability};
    use crate::v1::offer::{Operation, operation};
    use crate::v1::{ExecutorInfo, Filters, FrameworkInfo, TaskGroupInfo, TaskInfo};

    /// LAUNCH tasks. No operation id: Mesos fails every task of a LAUNCH that has one.
    pub fn launch(task_infos: Vec<TaskInfo>) -> Operation {
        Operation {
            r#type: Some(operation::Type::Launch as i32),
            launch: Some(operation::Launch { task_infos }),
            ..Operation::default()
        }
    }

    /// LAUNCH_GROUP: tasks of one group on one executor (`executor.type` must be set).
    pub fn launch_group(executor: ExecutorInfo, task_group: TaskGroupInfo) -> Operation {
        Operation {
            r#type: Some(operation::Type::LaunchGroup as i32),
            launch_group: Some(operation::LaunchGroup {
                executor,
                task_group,
            }),
            ..Operation::default()
        }
    }

    /// `Filters { refuse_seconds }`.
    pub fn refuse_for(seconds: f64) -> Filters {
        Filters {
            refuse_seconds: Some(seconds),
        }
    }

    /// A FrameworkInfo with `user`, `name` and the given capabilities; everything else unset.
    pub fn framework_info(
        user: impl Into<String>,
        name: impl Into<String>,
        capabilities: &[capability::Type],
    ) -> FrameworkInfo {
        FrameworkInfo {
            user: user.into(),
            name: name.into(),
            capabilities: capabilities
                .iter()
                .map(|kind| Capability {
                    r#type: Some(*kind as i32),
                })
                .collect(),
            ..FrameworkInfo::default()
        }
    }

    /// Whether a FrameworkInfo asks for a capability (e.g. TASK_KILLING_STATE, which an
    /// executor must check before sending TASK_KILLING).
    pub fn has_capability(info: &FrameworkInfo, wanted: capability::Type) -> bool {
        info.capabilities
            .iter()
            .any(|cap| cap.r#type == Some(wanted as i32))
    }
}

/// Executor calls (`mesos.v1.executor.Call`); both ids are required on every call.
pub mod executor {
    use crate::executor::{Call, call};
    use crate::v1::{
        ExecutorId, FrameworkId, TaskId, TaskInfo, TaskState, TaskStatus, task_status,
    };

    fn base(executor_id: &ExecutorId, framework_id: &FrameworkId, kind: call::Type) -> Call {
        Call {
            executor_id: executor_id.clone(),
            framework_id: framework_id.clone(),
            r#type: Some(kind as i32),
            ..Call::default()
        }
    }

    /// SUBSCRIBE, carrying what the agent has not acknowledged yet (spec §3.4).
    pub fn subscribe(
        executor_id: &ExecutorId,
        framework_id: &FrameworkId,
        unacknowledged_tasks: Vec<TaskInfo>,
        unacknowledged_updates: Vec<TaskStatus>,
    ) -> Call {
        let unacknowledged_updates = unacknowledged_updates
            .into_iter()
            .map(|status| call::Update { status })
            .collect();
        Call {
            subscribe: Some(call::Subscribe {
                unacknowledged_tasks,
                unacknowledged_updates,
            }),
            ..base(executor_id, framework_id, call::Type::Subscribe)
        }
    }

    /// UPDATE with a task status (see [`status`] for one the agent accepts).
    pub fn update(
        executor_id: &ExecutorId,
        framework_id: &FrameworkId,
        status: TaskStatus,
    ) -> Call {
        Call {
            update: Some(call::Update { status }),
            ..base(executor_id, framework_id, call::Type::Update)
        }
    }

    /// MESSAGE to the scheduler (best effort).
    pub fn message(executor_id: &ExecutorId, framework_id: &FrameworkId, data: Vec<u8>) -> Call {
        Call {
            message: Some(call::Message { data }),
            ..base(executor_id, framework_id, call::Type::Message)
        }
    }

    /// HEARTBEAT (answered 202 without validation).
    pub fn heartbeat(executor_id: &ExecutorId, framework_id: &FrameworkId) -> Call {
        base(executor_id, framework_id, call::Type::Heartbeat)
    }

    /// A TaskStatus as the agent requires from an executor (spec §3.5 step 1): source
    /// SOURCE_EXECUTOR, our executor id, a fresh random 16-byte `uuid` supplied by the
    /// caller, and the time in seconds since the epoch. The agent rejects TASK_STAGING.
    pub fn status(
        executor_id: &ExecutorId,
        task_id: TaskId,
        state: TaskState,
        uuid: [u8; 16],
        timestamp: f64,
    ) -> TaskStatus {
        TaskStatus {
            task_id,
            state: state as i32,
            source: Some(task_status::Source::Executor as i32),
            executor_id: Some(executor_id.clone()),
            uuid: Some(uuid.to_vec()),
            timestamp: Some(timestamp),
            ..TaskStatus::default()
        }
    }
}

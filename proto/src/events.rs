//! Events as pure values, the counterpart of [`crate::calls`]: what a master sends a
//! scheduler (spec §2.2) and what an agent sends an executor (spec §3.2), each with its
//! `type` and the one matching sub-message. Used by the local cluster to speak, and by
//! scheduler and executor tests to feed their state machines.

/// Scheduler events (`mesos.v1.scheduler.Event`).
pub mod scheduler {
    use crate::scheduler::{Event, event};
    use crate::v1::{
        AgentId, ExecutorId, FrameworkId, InverseOffer, MasterInfo, Offer, OfferId,
        OperationStatus, TaskStatus,
    };

    fn of(kind: event::Type) -> Event {
        Event {
            r#type: Some(kind as i32),
            ..Event::default()
        }
    }

    /// SUBSCRIBED: the first event of a successful subscription.
    pub fn subscribed(
        framework_id: FrameworkId,
        heartbeat_interval_seconds: f64,
        master_info: Option<MasterInfo>,
    ) -> Event {
        Event {
            subscribed: Some(event::Subscribed {
                framework_id,
                heartbeat_interval_seconds: Some(heartbeat_interval_seconds),
                master_info,
            }),
            ..of(event::Type::Subscribed)
        }
    }

    /// HEARTBEAT (no payload; `08 08` on the wire).
    pub fn heartbeat() -> Event {
        of(event::Type::Heartbeat)
    }

    /// OFFERS.
    pub fn offers(offers: Vec<Offer>) -> Event {
        Event {
            offers: Some(event::Offers { offers }),
            ..of(event::Type::Offers)
        }
    }

    /// INVERSE_OFFERS (maintenance).
    pub fn inverse_offers(inverse_offers: Vec<InverseOffer>) -> Event {
        Event {
            inverse_offers: Some(event::InverseOffers { inverse_offers }),
            ..of(event::Type::InverseOffers)
        }
    }

    /// RESCIND: the offer is void.
    pub fn rescind(offer_id: OfferId) -> Event {
        Event {
            rescind: Some(event::Rescind { offer_id }),
            ..of(event::Type::Rescind)
        }
    }

    /// RESCIND_INVERSE_OFFER.
    pub fn rescind_inverse_offer(inverse_offer_id: OfferId) -> Event {
        Event {
            rescind_inverse_offer: Some(event::RescindInverseOffer { inverse_offer_id }),
            ..of(event::Type::RescindInverseOffer)
        }
    }

    /// UPDATE: a task status (acknowledge it iff it has a uuid).
    pub fn update(status: TaskStatus) -> Event {
        Event {
            update: Some(event::Update { status }),
            ..of(event::Type::Update)
        }
    }

    /// UPDATE_OPERATION_STATUS.
    pub fn update_operation_status(status: OperationStatus) -> Event {
        Event {
            update_operation_status: Some(event::UpdateOperationStatus { status }),
            ..of(event::Type::UpdateOperationStatus)
        }
    }

    /// MESSAGE from an executor.
    pub fn message(agent_id: AgentId, executor_id: ExecutorId, data: Vec<u8>) -> Event {
        Event {
            message: Some(event::Message {
                agent_id,
                executor_id,
                data,
            }),
            ..of(event::Type::Message)
        }
    }

    /// FAILURE: an agent was lost (only `agent_id`) or an executor exited (with its raw wait
    /// `status`).
    pub fn failure(
        agent_id: Option<AgentId>,
        executor_id: Option<ExecutorId>,
        status: Option<i32>,
    ) -> Event {
        Event {
            failure: Some(event::Failure {
                agent_id,
                executor_id,
                status,
            }),
            ..of(event::Type::Failure)
        }
    }

    /// ERROR, e.g. "Framework failed over"; the stream ends after it.
    pub fn error(message: impl Into<String>) -> Event {
        Event {
            error: Some(event::Error {
                message: message.into(),
            }),
            ..of(event::Type::Error)
        }
    }
}

/// Executor events (`mesos.v1.executor.Event`).
pub mod executor {
    use crate::executor::{Event, event};
    use crate::v1::{
        AgentInfo, ContainerId, ExecutorInfo, FrameworkInfo, KillPolicy, TaskGroupInfo, TaskId,
        TaskInfo,
    };

    fn of(kind: event::Type) -> Event {
        Event {
            r#type: Some(kind as i32),
            ..Event::default()
        }
    }

    /// SUBSCRIBED: the first event on the executor's stream.
    pub fn subscribed(
        executor_info: ExecutorInfo,
        framework_info: FrameworkInfo,
        agent_info: AgentInfo,
        container_id: Option<ContainerId>,
    ) -> Event {
        Event {
            subscribed: Some(event::Subscribed {
                executor_info,
                framework_info,
                agent_info,
                container_id,
            }),
            ..of(event::Type::Subscribed)
        }
    }

    /// LAUNCH one task.
    pub fn launch(task: TaskInfo) -> Event {
        Event {
            launch: Some(event::Launch { task }),
            ..of(event::Type::Launch)
        }
    }

    /// LAUNCH_GROUP.
    pub fn launch_group(task_group: TaskGroupInfo) -> Event {
        Event {
            launch_group: Some(event::LaunchGroup { task_group }),
            ..of(event::Type::LaunchGroup)
        }
    }

    /// KILL; `kill_policy` only when the scheduler's KILL overrode the task's own (as a real
    /// agent does, recordings recovery/exec-kill-*).
    pub fn kill(task_id: TaskId, kill_policy: Option<KillPolicy>) -> Event {
        Event {
            kill: Some(event::Kill {
                task_id,
                kill_policy,
            }),
            ..of(event::Type::Kill)
        }
    }

    /// ACKNOWLEDGED: the agent has the update with this uuid.
    pub fn acknowledged(task_id: TaskId, uuid: Vec<u8>) -> Event {
        Event {
            acknowledged: Some(event::Acknowledged { task_id, uuid }),
            ..of(event::Type::Acknowledged)
        }
    }

    /// MESSAGE from the scheduler.
    pub fn message(data: Vec<u8>) -> Event {
        Event {
            message: Some(event::Message { data }),
            ..of(event::Type::Message)
        }
    }

    /// ERROR.
    pub fn error(message: impl Into<String>) -> Event {
        Event {
            error: Some(event::Error {
                message: message.into(),
            }),
            ..of(event::Type::Error)
        }
    }

    /// SHUTDOWN (no payload).
    pub fn shutdown() -> Event {
        of(event::Type::Shutdown)
    }

    /// HEARTBEAT (no payload).
    pub fn heartbeat() -> Event {
        of(event::Type::Heartbeat)
    }
}

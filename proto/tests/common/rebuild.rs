//! Rebuilding recorded calls with the `proto::calls` builders (shared by the tests).

use proto::calls::{executor as ec, offer, scheduler as sc};
use proto::scheduler::call::Type as SType;
use proto::v1::offer::operation;
use proto::{executor, scheduler};

pub(crate) fn rebuild_scheduler(call: &scheduler::Call) -> Option<scheduler::Call> {
    let fid = call.framework_id.as_ref();
    let c = call.clone();
    Some(match call.r#type() {
        SType::Subscribe => {
            let s = c.subscribe?;
            sc::subscribe_suppressed(s.framework_info, s.suppressed_roles)
        }
        SType::Teardown => sc::teardown(fid?),
        SType::Accept => {
            let a = c.accept?;
            sc::accept(
                fid?,
                a.offer_ids,
                a.operations.into_iter().map(rebuild_operation).collect(),
                a.filters,
            )
        }
        SType::Decline => {
            let d = c.decline?;
            sc::decline(fid?, d.offer_ids, d.filters)
        }
        SType::Revive => sc::revive(fid?, c.revive?.roles),
        SType::Suppress => sc::suppress(fid?, c.suppress?.roles),
        SType::Kill => {
            let k = c.kill?;
            sc::kill(fid?, k.task_id, k.agent_id, k.kill_policy)
        }
        SType::Shutdown => {
            let s = c.shutdown?;
            sc::shutdown(fid?, s.executor_id, s.agent_id)
        }
        SType::Acknowledge => {
            let a = c.acknowledge?;
            sc::acknowledge(fid?, a.agent_id, a.task_id, a.uuid)
        }
        SType::Reconcile => {
            let tasks = c
                .reconcile?
                .tasks
                .into_iter()
                .map(|t| (t.task_id, t.agent_id))
                .collect();
            sc::reconcile(fid?, tasks)
        }
        SType::Message => {
            let m = c.message?;
            sc::message(fid?, m.agent_id, m.executor_id, m.data)
        }
        SType::Request => sc::request(fid?, c.request?.requests),
        SType::UpdateFramework => {
            let u = c.update_framework?;
            sc::update_framework(u.framework_info, u.suppressed_roles)
        }
        _ => return None,
    })
}

/// LAUNCH / LAUNCH_GROUP operations rebuilt with `offer::launch*`; others passed through.
fn rebuild_operation(op: proto::v1::offer::Operation) -> proto::v1::offer::Operation {
    match (op.r#type(), op.id.is_none()) {
        (operation::Type::Launch, true) => match op.launch.clone() {
            Some(launch) => offer::launch(launch.task_infos),
            None => op,
        },
        (operation::Type::LaunchGroup, true) => match op.launch_group.clone() {
            Some(group) => offer::launch_group(group.executor, group.task_group),
            None => op,
        },
        _ => op,
    }
}

pub(crate) fn rebuild_executor(call: &executor::Call) -> Option<executor::Call> {
    let (eid, fid) = (&call.executor_id, &call.framework_id);
    let c = call.clone();
    Some(match call.r#type() {
        executor::call::Type::Subscribe => {
            let s = c.subscribe?;
            let updates = s
                .unacknowledged_updates
                .into_iter()
                .map(|u| rebuild_status(u.status))
                .collect();
            ec::subscribe(eid, fid, s.unacknowledged_tasks, updates)
        }
        executor::call::Type::Update => ec::update(eid, fid, rebuild_status(c.update?.status)),
        executor::call::Type::Message => ec::message(eid, fid, c.message?.data),
        executor::call::Type::Heartbeat => ec::heartbeat(eid, fid),
        _ => return None,
    })
}

/// A recorded executor status rebuilt with `ec::status` when it has exactly the fields the
/// builder sets (then the bytes must match), else returned as it is.
fn rebuild_status(status: proto::v1::TaskStatus) -> proto::v1::TaskStatus {
    let (Some(eid), Some(uuid), Some(ts)) = (&status.executor_id, &status.uuid, status.timestamp)
    else {
        return status;
    };
    let Ok(uuid) = <[u8; 16]>::try_from(uuid.as_slice()) else {
        return status;
    };
    let mut rebuilt = ec::status(eid, status.task_id.clone(), status.state(), uuid, ts);
    rebuilt.message.clone_from(&status.message);
    rebuilt.data.clone_from(&status.data);
    if rebuilt == status {
        STATUSES_BUILT.with(|n| n.set(n.get() + 1));
        rebuilt
    } else {
        status
    }
}

thread_local! {
    /// How many recorded statuses `ec::status` reproduced exactly.
    pub static STATUSES_BUILT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A recorded scheduler event rebuilt with `proto::events::scheduler`.
pub(crate) fn rebuild_scheduler_event(e: &scheduler::Event) -> Option<scheduler::Event> {
    use proto::events::scheduler as ev;
    use proto::scheduler::event::Type;
    let e = e.clone();
    Some(match e.r#type() {
        Type::Subscribed => {
            let s = e.subscribed?;
            let mut built =
                ev::subscribed(s.framework_id, s.heartbeat_interval_seconds?, s.master_info);
            built.subscribed.as_mut()?.heartbeat_interval_seconds = s.heartbeat_interval_seconds;
            built
        }
        Type::Heartbeat => ev::heartbeat(),
        Type::Offers => ev::offers(e.offers?.offers),
        Type::InverseOffers => ev::inverse_offers(e.inverse_offers?.inverse_offers),
        Type::Rescind => ev::rescind(e.rescind?.offer_id),
        Type::RescindInverseOffer => {
            ev::rescind_inverse_offer(e.rescind_inverse_offer?.inverse_offer_id)
        }
        Type::Update => ev::update(e.update?.status),
        Type::UpdateOperationStatus => {
            ev::update_operation_status(e.update_operation_status?.status)
        }
        Type::Message => {
            let m = e.message?;
            ev::message(m.agent_id, m.executor_id, m.data)
        }
        Type::Failure => {
            let f = e.failure?;
            ev::failure(f.agent_id, f.executor_id, f.status)
        }
        Type::Error => ev::error(e.error?.message),
        Type::Unknown => return None,
    })
}

/// A recorded executor event rebuilt with `proto::events::executor`.
pub(crate) fn rebuild_executor_event(e: &executor::Event) -> Option<executor::Event> {
    use proto::events::executor as ev;
    use proto::executor::event::Type;
    let e = e.clone();
    Some(match e.r#type() {
        Type::Subscribed => {
            let s = e.subscribed?;
            ev::subscribed(
                s.executor_info,
                s.framework_info,
                s.agent_info,
                s.container_id,
            )
        }
        Type::Launch => ev::launch(e.launch?.task),
        Type::LaunchGroup => ev::launch_group(e.launch_group?.task_group),
        Type::Kill => {
            let k = e.kill?;
            ev::kill(k.task_id, k.kill_policy)
        }
        Type::Acknowledged => {
            let a = e.acknowledged?;
            ev::acknowledged(a.task_id, a.uuid)
        }
        Type::Message => ev::message(e.message?.data),
        Type::Error => ev::error(e.error?.message),
        Type::Shutdown => ev::shutdown(),
        Type::Heartbeat => ev::heartbeat(),
        Type::Unknown => return None,
    })
}

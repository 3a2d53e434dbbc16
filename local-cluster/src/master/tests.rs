//! Master core tests: no sockets, time passed in, texts as recorded.

use std::time::{Duration, Instant};

use prost::Message;

use super::*;
use crate::ids::{Ids, Wall};
use crate::keys::TaskKey;
use crate::msg::Registration;
use crate::pb::sched::{Call, call, event::Type as Ev};
use crate::pb::v1::framework_info::capability::Type as Cap;
use crate::wire::{PROTOBUF, Reply, Request};

fn master() -> (Master, Instant) {
    let now = Instant::now();
    let mut m = new_master(MasterConfig::default(), now);
    m.register_agent(Registration {
        agent_id: "A".into(),
        hostname: "127.0.0.1".into(),
        port: 5051,
        total: Res::new(2.0, 1024.0, 100.0, &[(31000, 32000)]),
        tasks: vec![],
        executors: vec![],
        frameworks: vec![],
    });
    (m, now)
}

/// A master with reproducible ids and a fixed wall clock.
fn new_master(cfg: MasterConfig, now: Instant) -> Master {
    let wall = Wall::anchored(now, Duration::from_secs(1_700_000_000));
    Master::new(cfg, 0, wall, Ids::seeded(1))
}

fn req(call: &Call, stream_id: Option<&str>) -> Request {
    Request {
        method: "POST".into(),
        path_and_query: "/api/v1/scheduler".into(),
        content_type: Some(PROTOBUF.into()),
        accept: Some(PROTOBUF.into()),
        stream_id: stream_id.map(String::from),
        authorization: None,
        body: call.encode_to_vec().into(),
    }
}

fn info(pa: bool) -> v1::FrameworkInfo {
    let caps = if pa {
        vec![Cap::PartitionAware]
    } else {
        vec![]
    };
    proto::calls::offer::framework_info("root", "t", &caps)
}

/// Subscribes; returns (framework id, Mesos-Stream-Id, stream number, events).
fn subscribe(
    m: &mut Master,
    info: v1::FrameworkInfo,
    now: Instant,
) -> (v1::FrameworkId, String, u64, Vec<sched::Event>) {
    let reply = m.handle_request(&req(&proto::calls::scheduler::subscribe(info), None), now);
    let Reply::Stream {
        id,
        mesos_stream_id: Some(sid),
        ..
    } = reply
    else {
        panic!("not a stream: {reply:?}")
    };
    let events = events_of(m, id);
    let fid = events[0]
        .subscribed
        .clone()
        .expect("subscribed")
        .framework_id;
    (fid, sid, id, events)
}

fn events_of(m: &mut Master, stream: u64) -> Vec<sched::Event> {
    m.take_outputs()
        .into_iter()
        .filter_map(|o| match o {
            MasterOut::Event { stream: s, event } if s == stream => Some(event),
            _ => None,
        })
        .collect()
}

fn kinds(events: &[sched::Event]) -> Vec<i32> {
    events.iter().map(|e| e.r#type.unwrap_or(0)).collect()
}

fn text(reply: Reply) -> (u16, String) {
    match reply {
        Reply::Plain { code, body, .. } => (code, body),
        Reply::Stream { .. } => (200, String::new()),
    }
}

#[test]
fn subscribe_gives_subscribed_heartbeat_offers_in_order() {
    let (mut m, now) = master();
    let (_, sid, _, events) = subscribe(&mut m, info(true), now);
    assert!(!sid.is_empty());
    assert_eq!(
        kinds(&events),
        vec![
            Ev::Subscribed as i32,
            Ev::Heartbeat as i32,
            Ev::Offers as i32
        ]
    );
    let offer = &events[2].offers.as_ref().expect("offers").offers[0];
    assert_eq!(offer.agent_id.value, "A");
    assert_eq!(
        Res::from_pb(&offer.resources).expect("valid"),
        Res::new(2.0, 1024.0, 100.0, &[(31000, 32000)])
    );
}

#[test]
fn checks_come_in_mesos_order() {
    let (mut m, now) = master();
    let (fid, sid, stream, _) = subscribe(&mut m, info(true), now);
    let no_sub = Call {
        framework_id: Some(fid.clone()),
        r#type: Some(call::Type::Reconcile as i32),
        ..Default::default()
    };
    // Validation first, even without a stream id.
    assert_eq!(
        text(m.handle_request(&req(&no_sub, None), now)),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'reconcile' to be present".into()
        )
    );
    let rec = proto::calls::scheduler::reconcile(&fid, vec![]);
    assert_eq!(
        text(m.handle_request(&req(&rec, None), now)),
        (
            400,
            "All non-subscribe calls should include the 'Mesos-Stream-Id' header".into()
        )
    );
    let (code, body) = text(m.handle_request(&req(&rec, Some("x")), now));
    assert_eq!(code, 400);
    assert_eq!(
        body,
        format!(
            "The stream ID 'x' included in this request didn't match the stream ID currently associated with framework ID {}",
            fid.value
        )
    );
    assert_eq!(text(m.handle_request(&req(&rec, Some(&sid)), now)).0, 202);
    let sub_with_id = req(&proto::calls::scheduler::subscribe(info(true)), Some(&sid));
    assert_eq!(
        text(m.handle_request(&sub_with_id, now)).1,
        "Subscribe calls should not include the 'Mesos-Stream-Id' header"
    );
    let other = proto::calls::scheduler::reconcile(
        &v1::FrameworkId {
            value: "nope".into(),
        },
        vec![],
    );
    assert_eq!(
        text(m.handle_request(&req(&other, Some(&sid)), now)),
        (400, "Framework cannot be found".into())
    );
    // Client went away: 403 until the failover timeout (0 s here) removes it: then 400.
    m.stream_closed(stream, now);
    assert_eq!(
        text(m.handle_request(&req(&rec, Some(&sid)), now)),
        (403, "Framework is not subscribed".into())
    );
    m.handle_timeout(now + Duration::from_millis(1));
    assert_eq!(
        text(m.handle_request(&req(&rec, Some(&sid)), now)),
        (400, "Framework cannot be found".into())
    );
}

#[test]
fn unknown_call_type_is_501_not_a_crash() {
    let (mut m, now) = master();
    let (fid, sid, _, _) = subscribe(&mut m, info(true), now);
    let unknown = Call {
        framework_id: Some(fid),
        r#type: Some(0),
        ..Default::default()
    };
    assert_eq!(
        text(m.handle_request(&req(&unknown, Some(&sid)), now)).0,
        501
    );
}

#[test]
fn decline_filter_holds_offers_back_until_it_expires() {
    let (mut m, now) = master();
    let (fid, sid, stream, events) = subscribe(&mut m, info(true), now);
    let offer = events[2].offers.clone().expect("offers").offers[0]
        .id
        .clone();
    let decline = proto::calls::scheduler::decline(
        &fid,
        vec![offer],
        Some(proto::calls::offer::refuse_for(2.0)),
    );
    assert_eq!(
        text(m.handle_request(&req(&decline, Some(&sid)), now)).0,
        202
    );
    m.handle_timeout(now + Duration::from_secs(1));
    assert!(!kinds(&events_of(&mut m, stream)).contains(&(Ev::Offers as i32)));
    m.handle_timeout(now + Duration::from_millis(2100));
    assert!(kinds(&events_of(&mut m, stream)).contains(&(Ev::Offers as i32)));
}

#[test]
fn heartbeats_follow_the_interval() {
    let (mut m, now) = master();
    let (_, _, stream, _) = subscribe(&mut m, info(true), now);
    m.handle_timeout(now + Duration::from_secs(14));
    assert!(events_of(&mut m, stream).is_empty());
    m.handle_timeout(now + Duration::from_secs(15));
    assert_eq!(
        kinds(&events_of(&mut m, stream)),
        vec![Ev::Heartbeat as i32]
    );
}

#[test]
fn invalid_offer_drops_tasks_and_reconcile_answers_as_recorded() {
    let (mut m, now) = master();
    for (pa, dropped) in [
        (true, v1::TaskState::TaskDropped),
        (false, v1::TaskState::TaskLost),
    ] {
        let (fid, sid, stream, _) = subscribe(&mut m, info(pa), now);
        let task = v1::TaskInfo {
            name: "x".into(),
            task_id: v1::TaskId {
                value: "bogus-offer-task".into(),
            },
            agent_id: v1::AgentId { value: "A".into() },
            command: Some(v1::CommandInfo {
                value: Some("true".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let op = proto::calls::offer::launch(vec![task]);
        let accept = proto::calls::scheduler::accept(
            &fid,
            vec![v1::OfferId {
                value: "bogus-offer".into(),
            }],
            vec![op],
            None,
        );
        assert_eq!(
            text(m.handle_request(&req(&accept, Some(&sid)), now)).0,
            202
        );
        let ev = events_of(&mut m, stream);
        let st = ev
            .iter()
            .find_map(|e| e.update.clone())
            .expect("update")
            .status;
        assert_eq!(st.state, dropped as i32);
        assert_eq!(
            st.message.as_deref(),
            Some("Task launched with invalid offers: Offer bogus-offer is no longer valid")
        );
        assert_eq!(st.uuid, None);
        let rec = proto::calls::scheduler::reconcile(
            &fid,
            vec![
                (
                    v1::TaskId {
                        value: "gone".into(),
                    },
                    Some(v1::AgentId { value: "A".into() }),
                ),
                (
                    v1::TaskId {
                        value: "unknown".into(),
                    },
                    None,
                ),
            ],
        );
        m.handle_request(&req(&rec, Some(&sid)), now);
        let answers: Vec<(i32, Option<String>)> = events_of(&mut m, stream)
            .into_iter()
            .filter_map(|e| e.update)
            .map(|u| (u.status.state, u.status.message))
            .collect();
        let (gone, unknown) = if pa {
            (v1::TaskState::TaskGone, v1::TaskState::TaskUnknown)
        } else {
            (v1::TaskState::TaskLost, v1::TaskState::TaskLost)
        };
        assert_eq!(
            answers,
            vec![
                (
                    gone as i32,
                    Some("Reconciliation: Task is unknown to the agent".into())
                ),
                (
                    unknown as i32,
                    Some("Reconciliation: Task is unknown".into())
                ),
            ]
        );
    }
}

#[test]
fn resubscribe_fails_over_old_stream_and_teardown_is_final() {
    let (mut m, now) = master();
    let mut i = info(true);
    i.failover_timeout = Some(60.0);
    let (fid, _, old_stream, _) = subscribe(&mut m, i.clone(), now);
    i.id = Some(fid.clone());
    let mut again = proto::calls::scheduler::subscribe(i.clone());
    again.framework_id = Some(fid.clone());
    let Reply::Stream {
        mesos_stream_id: Some(sid2),
        ..
    } = m.handle_request(&req(&again, None), now)
    else {
        panic!("stream")
    };
    let outs = m.take_outputs();
    let old: Vec<_> = outs
        .iter()
        .filter_map(|o| match o {
            MasterOut::Event { stream, event } if *stream == old_stream => {
                event.error.clone().map(|e| e.message)
            }
            _ => None,
        })
        .collect();
    assert_eq!(old, vec!["Framework failed over".to_string()]);
    assert!(
        outs.iter()
            .any(|o| matches!(o, MasterOut::Close { stream } if *stream == old_stream))
    );
    let teardown = proto::calls::scheduler::teardown(&fid);
    assert_eq!(
        text(m.handle_request(&req(&teardown, Some(&sid2)), now)).0,
        202
    );
    let Reply::Stream { id, .. } = m.handle_request(&req(&again, None), now) else {
        panic!("stream")
    };
    let ev = events_of(&mut m, id);
    assert_eq!(
        ev[0].error.clone().map(|e| e.message),
        Some("Framework has been removed".into())
    );
}

#[test]
fn basic_auth_is_enforced_with_recorded_answers() {
    let cfg = MasterConfig {
        credentials: vec![("bars".into(), "barsecret".into())],
        ..MasterConfig::default()
    };
    let now = Instant::now();
    let mut m = new_master(cfg, now);
    let mut r = req(&proto::calls::scheduler::subscribe(info(true)), None);
    assert_eq!(
        text(m.handle_request(&r, now)),
        (401, "401 Unauthorized.".into())
    );
    r.authorization = Some("Basic YmFyczp3cm9uZw==".into()); // bars:wrong
    assert_eq!(text(m.handle_request(&r, now)).0, 401);
    r.authorization = Some("Basic YmFyczpiYXJzZWNyZXQ=".into()); // bars:barsecret
    assert_eq!(m.handle_request(&r, now).code(), 200);
    let mut other = info(true);
    other.principal = Some("other".into());
    let mut r2 = req(&proto::calls::scheduler::subscribe(other), None);
    r2.authorization = r.authorization.clone();
    assert_eq!(
        text(m.handle_request(&r2, now)),
        (400, "Failed to validate scheduler::Call: Authenticated principal 'bars' does not match principal 'other' set in `FrameworkInfo`".into())
    );
}

/// Subscribes and launches task `t` on all of agent A's cpus and mem; returns the framework
/// id and stream.
fn launch_on_all_of_a(m: &mut Master, now: Instant) -> (v1::FrameworkId, u64) {
    let (fid, sid, stream, events) = subscribe(m, info(true), now);
    let offer = events[2].offers.clone().expect("offers").offers[0].clone();
    let task = v1::TaskInfo {
        name: "t".into(),
        task_id: v1::TaskId { value: "t".into() },
        agent_id: offer.agent_id.clone(),
        resources: Res::new(2.0, 1024.0, 0.0, &[]).to_pb(None),
        command: Some(v1::CommandInfo {
            value: Some("true".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let accept = proto::calls::scheduler::accept(
        &fid,
        vec![offer.id],
        vec![proto::calls::offer::launch(vec![task])],
        Some(proto::calls::offer::refuse_for(0.0)),
    );
    assert_eq!(
        text(m.handle_request(&req(&accept, Some(&sid)), now)).0,
        202
    );
    assert!(m.free("A").is_empty(), "all cpus and mem used by the task");
    (fid, stream)
}

#[test]
fn latest_state_frees_resources_before_the_old_update_is_acknowledged() {
    use crate::msg::ToMaster;
    let (mut m, now) = master();
    let (fid, _) = launch_on_all_of_a(&mut m, now);
    let latest = ToMaster::LatestState {
        framework_id: fid.value.clone(),
        task_id: "t".into(),
        state: v1::TaskState::TaskFinished,
    };
    m.handle_agent_message("A", latest);
    assert_eq!(
        m.free("A").scalars[0],
        2000,
        "cpus back although no update was acknowledged"
    );
}

#[test]
fn unknown_wire_state_is_forwarded_and_held_as_staging() {
    use crate::msg::ToMaster;
    let (mut m, now) = master();
    let (fid, stream) = launch_on_all_of_a(&mut m, now);
    events_of(&mut m, stream);
    let mut status = crate::status::master_status(
        "t",
        Some("A"),
        v1::TaskState::TaskRunning,
        v1::task_status::Reason::Reconciliation,
        "",
        0.0,
    );
    status.state = 99;
    let update = ToMaster::StatusUpdate {
        framework_id: fid.value.clone(),
        status,
    };
    m.handle_agent_message("A", update);
    let forwarded: Vec<i32> = events_of(&mut m, stream)
        .into_iter()
        .filter_map(|e| e.update)
        .map(|u| u.status.state)
        .collect();
    assert_eq!(forwarded, [99], "the scheduler sees the number as sent");
    // proto2 reads an unknown enum number as the default (TASK_STAGING, listed first).
    assert_eq!(
        m.tasks[&TaskKey::new(&fid.value, "t")].state,
        v1::TaskState::TaskStaging
    );
    assert!(
        m.free("A").is_empty(),
        "not terminal: the resources stay used"
    );
}

#[test]
fn two_frameworks_both_get_offers() {
    let (mut m, now) = master();
    m.register_agent(Registration {
        agent_id: "B".into(),
        hostname: "127.0.0.1".into(),
        port: 5052,
        total: Res::new(1.0, 512.0, 0.0, &[]),
        tasks: vec![],
        executors: vec![],
        frameworks: vec![],
    });
    let (_, _, s1, e1) = subscribe(&mut m, info(true), now);
    let (_, _, s2, e2) = subscribe(&mut m, info(true), now);
    // The first framework took both agents; once it declines, the second one gets offers.
    let offers1: Vec<v1::Offer> = e1
        .iter()
        .filter_map(|e| e.offers.clone())
        .flat_map(|o| o.offers)
        .collect();
    assert_eq!(offers1.len(), 2);
    assert!(e2.iter().all(|e| e.offers.is_none()));
    let _ = s1;
    let fid1 = offers1[0].framework_id.clone();
    let ids = offers1.iter().map(|o| o.id.clone()).collect();
    let sid1 = match m.frameworks.get(&fid1.value).and_then(|f| f.conn.clone()) {
        Some(c) => c.stream_id,
        None => panic!("subscribed"),
    };
    let decline =
        proto::calls::scheduler::decline(&fid1, ids, Some(proto::calls::offer::refuse_for(30.0)));
    assert_eq!(
        text(m.handle_request(&req(&decline, Some(&sid1)), now)).0,
        202
    );
    m.handle_timeout(now + Duration::from_secs(1));
    let got: Vec<v1::Offer> = events_of(&mut m, s2)
        .into_iter()
        .filter_map(|e| e.offers)
        .flat_map(|o| o.offers)
        .collect();
    assert_eq!(got.len(), 2, "the other framework gets both agents");
}

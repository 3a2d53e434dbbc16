//! Properties: every message we build encodes and decodes back to itself (and re-encodes
//! to the same bytes), RecordIO streams of arbitrary records survive arbitrary cuts, and
//! the port helpers only ever hand out offered ports.

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proto::calls::{executor as ec, offer, scheduler as sc};
use proto::v1::{self, resource::AllocationInfo, value};
use proto::{Message, executor, recordio, resources, scheduler};

fn id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._-]{1,40}"
}

fn label() -> impl Strategy<Value = v1::Label> {
    (id(), option::of(".{0,20}")).prop_map(|(key, value)| v1::Label { key, value })
}

fn labels() -> impl Strategy<Value = Option<v1::Labels>> {
    option::of(vec(label(), 0..3).prop_map(|labels| v1::Labels { labels }))
}

/// Finite scalars: NaN never equals itself, so it cannot take part in `==` round trips.
fn finite() -> impl Strategy<Value = f64> {
    -1.0e12..1.0e12f64
}

fn resource() -> impl Strategy<Value = v1::Resource> {
    let scalar = (id(), finite()).prop_map(|(name, v)| resources::scalar(&name, v));
    let ranges = (id(), vec((0..70_000u64, 0..100u64), 0..4)).prop_map(|(name, rs)| {
        let rs: Vec<_> = rs.into_iter().map(|(b, w)| b..=b + w).collect();
        resources::ranges(&name, &rs)
    });
    let set = (id(), vec(id(), 0..4)).prop_map(|(name, item)| v1::Resource {
        name,
        r#type: value::Type::Set as i32,
        set: Some(value::Set { item }),
        ..Default::default()
    });
    (prop_oneof![scalar, ranges, set], option::of(id())).prop_map(|(mut r, role)| {
        r.allocation_info = role.map(|role| AllocationInfo { role: Some(role) });
        r
    })
}

fn command() -> impl Strategy<Value = v1::CommandInfo> {
    (
        option::of(".{0,30}"),
        option::of(any::<bool>()),
        vec(id(), 0..3),
        vec(id(), 0..2),
    )
        .prop_map(|(value, shell, arguments, uris)| v1::CommandInfo {
            value,
            shell,
            arguments,
            uris: uris
                .into_iter()
                .map(|value| v1::command_info::Uri {
                    value,
                    executable: Some(true),
                    extract: Some(false),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
}

fn task_info() -> impl Strategy<Value = v1::TaskInfo> {
    let limits = btree_map(
        id(),
        finite().prop_map(|value| v1::value::Scalar { value }),
        0..3,
    );
    (
        id(),
        id(),
        id(),
        vec(resource(), 0..4),
        command(),
        option::of(vec(any::<u8>(), 0..32)),
        labels(),
        limits,
    )
        .prop_map(
            |(name, task, agent, resources, command, data, labels, limits)| {
                let executor = v1::ExecutorInfo {
                    r#type: Some(v1::executor_info::Type::Custom as i32),
                    executor_id: v1::ExecutorId::new(format!("{task}-exec")),
                    command: Some(command),
                    ..Default::default()
                };
                v1::TaskInfo {
                    name,
                    task_id: task.into(),
                    agent_id: agent.into(),
                    resources,
                    executor: Some(executor),
                    data,
                    labels,
                    limits,
                    ..Default::default()
                }
            },
        )
}

fn task_status() -> impl Strategy<Value = v1::TaskStatus> {
    let ids = (id(), option::of(id()), option::of(id()));
    let enums = (0..14i32, option::of(0..3i32), option::of(0..35i32));
    let extra = (
        option::of(".{0,40}"),
        option::of(vec(any::<u8>(), 0..40)),
        option::of(finite()),
    );
    (
        ids,
        enums,
        extra,
        option::of(any::<[u8; 16]>()),
        option::of(any::<bool>()),
        labels(),
    )
        .prop_map(
            |(
                (task, agent, exec),
                (state, source, reason),
                (message, data, timestamp),
                uuid,
                healthy,
                labels,
            )| {
                v1::TaskStatus {
                    task_id: task.into(),
                    state,
                    source,
                    reason,
                    agent_id: agent.map(Into::into),
                    executor_id: exec.map(Into::into),
                    message,
                    data,
                    timestamp,
                    uuid: uuid.map(|u| u.to_vec()),
                    healthy,
                    labels,
                    ..Default::default()
                }
            },
        )
}

fn offer_msg() -> impl Strategy<Value = v1::Offer> {
    (id(), id(), id(), id(), vec(resource(), 0..6)).prop_map(|(o, f, a, host, resources)| {
        v1::Offer {
            id: o.into(),
            framework_id: f.into(),
            agent_id: a.into(),
            hostname: host,
            resources,
            ..Default::default()
        }
    })
}

fn scheduler_event() -> impl Strategy<Value = scheduler::Event> {
    use scheduler::event::{self, Type};
    prop_oneof![
        Just(scheduler::Event {
            r#type: Some(Type::Heartbeat as i32),
            ..Default::default()
        }),
        vec(offer_msg(), 0..3).prop_map(|offers| scheduler::Event {
            r#type: Some(Type::Offers as i32),
            offers: Some(event::Offers { offers }),
            ..Default::default()
        }),
        task_status().prop_map(|status| scheduler::Event {
            r#type: Some(Type::Update as i32),
            update: Some(event::Update { status }),
            ..Default::default()
        }),
        (id(), id(), vec(any::<u8>(), 0..64)).prop_map(|(a, e, data)| scheduler::Event {
            r#type: Some(Type::Message as i32),
            message: Some(event::Message {
                agent_id: a.into(),
                executor_id: e.into(),
                data
            }),
            ..Default::default()
        }),
        (option::of(id()), any::<i32>()).prop_map(|(a, status)| scheduler::Event {
            r#type: Some(Type::Failure as i32),
            failure: Some(event::Failure {
                agent_id: a.map(Into::into),
                executor_id: None,
                status: Some(status)
            }),
            ..Default::default()
        }),
    ]
}

fn scheduler_call() -> impl Strategy<Value = scheduler::Call> {
    let fid = || id().prop_map(v1::FrameworkId::new);
    prop_oneof![
        (id(), id(), option::of(id()), finite()).prop_map(|(user, name, fid, failover)| {
            let mut info = offer::framework_info(
                user,
                name,
                &[v1::framework_info::capability::Type::PartitionAware],
            );
            info.id = fid.map(Into::into);
            info.failover_timeout = Some(failover);
            sc::subscribe(info)
        }),
        (
            fid(),
            vec(id(), 1..3),
            vec(task_info(), 0..3),
            option::of(0.0..1000.0f64)
        )
            .prop_map(|(f, offers, tasks, refuse)| {
                let ids = offers.into_iter().map(Into::into).collect();
                sc::accept(
                    &f,
                    ids,
                    vec![offer::launch(tasks)],
                    refuse.map(offer::refuse_for),
                )
            }),
        (fid(), id(), id(), any::<[u8; 16]>()).prop_map(|(f, a, t, u)| sc::acknowledge(
            &f,
            a.into(),
            t.into(),
            u.to_vec()
        )),
        (fid(), vec((id(), option::of(id())), 0..4)).prop_map(|(f, ts)| {
            sc::reconcile(
                &f,
                ts.into_iter()
                    .map(|(t, a)| (t.into(), a.map(Into::into)))
                    .collect(),
            )
        }),
        (fid(), id(), option::of(id())).prop_map(|(f, t, a)| sc::kill(
            &f,
            t.into(),
            a.map(Into::into),
            None
        )),
        (fid(), vec(id(), 0..3)).prop_map(|(f, roles)| sc::suppress(&f, roles)),
        fid().prop_map(|f| sc::teardown(&f)),
    ]
}

fn executor_call() -> impl Strategy<Value = executor::Call> {
    let ids = || (id(), id()).prop_map(|(e, f)| (v1::ExecutorId::new(e), v1::FrameworkId::new(f)));
    prop_oneof![
        (ids(), vec(task_info(), 0..2), vec(task_status(), 0..3))
            .prop_map(|((e, f), tasks, updates)| ec::subscribe(&e, &f, tasks, updates)),
        (ids(), task_status()).prop_map(|((e, f), s)| ec::update(&e, &f, s)),
        (ids(), vec(any::<u8>(), 0..100)).prop_map(|((e, f), d)| ec::message(&e, &f, d)),
        ids().prop_map(|(e, f)| ec::heartbeat(&e, &f)),
    ]
}

fn executor_event() -> impl Strategy<Value = executor::Event> {
    use executor::event::{self, Type};
    prop_oneof![
        task_info().prop_map(|task| executor::Event {
            r#type: Some(Type::Launch as i32),
            launch: Some(event::Launch { task }),
            ..Default::default()
        }),
        (id(), any::<[u8; 16]>()).prop_map(|(t, u)| executor::Event {
            r#type: Some(Type::Acknowledged as i32),
            acknowledged: Some(event::Acknowledged {
                task_id: t.into(),
                uuid: u.to_vec()
            }),
            ..Default::default()
        }),
        (id(), option::of(any::<i64>())).prop_map(|(t, grace)| executor::Event {
            r#type: Some(Type::Kill as i32),
            kill: Some(event::Kill {
                task_id: t.into(),
                kill_policy: grace.map(|nanoseconds| v1::KillPolicy {
                    grace_period: Some(v1::DurationInfo { nanoseconds }),
                }),
            }),
            ..Default::default()
        }),
        Just(executor::Event {
            r#type: Some(Type::Shutdown as i32),
            ..Default::default()
        }),
    ]
}

/// decode(encode(m)) == m, and encoding the decoded value gives the same bytes again.
fn assert_round_trip<M: Message + Default + PartialEq + std::fmt::Debug>(
    message: &M,
) -> Result<(), TestCaseError> {
    let bytes = message.encode_to_vec();
    let back = M::decode(bytes.as_slice()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, message);
    prop_assert_eq!(back.encode_to_vec(), bytes);
    Ok(())
}

proptest! {
    #[test]
    fn scheduler_events_round_trip(event in scheduler_event()) {
        assert_round_trip(&event)?;
    }

    #[test]
    fn scheduler_calls_round_trip(call in scheduler_call()) {
        assert_round_trip(&call)?;
    }

    #[test]
    fn executor_calls_round_trip(call in executor_call()) {
        assert_round_trip(&call)?;
    }

    #[test]
    fn executor_events_round_trip(event in executor_event()) {
        assert_round_trip(&event)?;
    }

    #[test]
    fn recordio_survives_any_cuts(
        records in vec(vec(any::<u8>(), 0..300), 0..8),
        cuts in vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut stream = Vec::new();
        for r in &records {
            recordio::encode_into(r, &mut stream);
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.sort_unstable();
        let mut decoder = recordio::Decoder::new(1024);
        let mut got = Vec::new();
        let mut last = 0;
        for p in points.into_iter().chain([stream.len()]) {
            decoder.feed(&stream[last..p]);
            last = p;
            while let Some(r) = decoder.decode().map_err(|e| TestCaseError::fail(e.to_string()))? {
                got.push(r.to_vec());
            }
        }
        prop_assert!(decoder.finish().is_ok());
        prop_assert_eq!(got, records);
    }

    #[test]
    fn recordio_never_panics_on_junk(junk in vec(any::<u8>(), 0..200), max in 0..100usize) {
        let mut decoder = recordio::Decoder::new(max);
        decoder.feed(&junk);
        while let Ok(Some(r)) = decoder.decode() {
            prop_assert!(r.len() <= max);
        }
    }

    #[test]
    fn taken_ports_are_offered_distinct_and_lowest(
        offered in vec((30_000..40_000u64, 0..50u64), 0..5),
        n in 0..120usize,
    ) {
        let rs: Vec<_> = offered.iter().map(|(b, w)| *b..=b + w).collect();
        let merged = resources::port_ranges(&[resources::ranges("ports", &rs)]);
        let total: u64 = merged.iter().map(|r| r.end() - r.start() + 1).sum();
        match resources::take_ports(&merged, n) {
            None => prop_assert!((n as u64) > total),
            Some(ports) => {
                prop_assert_eq!(ports.len(), n);
                prop_assert!(ports.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(ports.iter().all(|p| merged.iter().any(|r| r.contains(p))));
                let taken = resources::port_ranges(&[resources::ports(&ports)]);
                let rebuilt: Vec<u64> = taken.iter().flat_map(|r| r.clone()).collect();
                prop_assert_eq!(rebuilt, ports);
            }
        }
    }
}

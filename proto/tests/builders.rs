//! The call builders against the recordings: every protobuf call that a real Mesos accepted
//! (2xx, or no recorded refusal) is rebuilt from its decoded parts with `proto::calls` and
//! must encode to the very same bytes. So the builders set exactly the fields real clients
//! set, with the right type and sub-message, and nothing more.

use crate::common;

use common::rebuild::{STATUSES_BUILT, rebuild_executor, rebuild_scheduler};
use common::{Recorded, recorded_requests};
use proto::scheduler::call::Type as SType;
use proto::{Message, executor, scheduler};

fn accepted(recorded: &Recorded) -> bool {
    recorded
        .response
        .as_ref()
        .is_none_or(|r| (200..300).contains(&r.status()))
}

#[test]
fn builders_reproduce_every_accepted_recorded_call() {
    let mut failures = Vec::new();
    let (mut scheduler_calls, mut executor_calls) = (0, 0);
    for recorded in recorded_requests().iter().filter(|r| accepted(r)) {
        let body = &recorded.request.body;
        if body.first() == Some(&b'{') {
            continue;
        }
        let path = recorded.request.path();
        let rebuilt = if path.contains("/api/v1/executor") {
            let call = executor::Call::decode(body.as_slice()).expect("recorded call decodes");
            executor_calls += 1;
            rebuild_executor(&call).map(|c| c.encode_to_vec())
        } else {
            let call = scheduler::Call::decode(body.as_slice()).expect("recorded call decodes");
            if call.r#type() == SType::Unknown {
                // Recorded only to show that it crashes a real master (3h*): no builder on
                // purpose, so nothing can send it.
                continue;
            }
            scheduler_calls += 1;
            rebuild_scheduler(&call).map(|c| c.encode_to_vec())
        };
        match rebuilt {
            Some(bytes) if &bytes == body => {}
            Some(bytes) => failures.push(format!(
                "{}: recorded {}\n  built    {}",
                recorded.origin,
                hex::encode(body),
                hex::encode(bytes)
            )),
            None => failures.push(format!("{}: no builder for this call", recorded.origin)),
        }
    }
    let statuses = STATUSES_BUILT.with(|n| n.get());
    println!(
        "{scheduler_calls} scheduler and {executor_calls} executor calls rebuilt byte for byte ({statuses} statuses by calls::executor::status)"
    );
    assert!(
        statuses >= 7,
        "calls::executor::status reproduced only {statuses} recorded statuses"
    );
    assert!(
        failures.is_empty(),
        "{} calls differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        scheduler_calls >= 28 && executor_calls >= 10,
        "too few accepted calls found"
    );
}

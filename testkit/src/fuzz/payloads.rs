//! Targets for what the executor and scheduler read besides Mesos messages: the executor's
//! `MESOS_*` environment (`executor_env`, `executor::from_env` with a getter) and the JSON
//! payloads in Mesos messages (`scheduler_report`: the executors' reports as the scheduler
//! reads them, `proto::framework::Report`, and the `TaskSpec` in `TaskInfo.data` as the
//! executor plans it).

use std::collections::HashMap;
use std::time::Duration;

use proto::framework::{Report, TaskSpec};
use proto::v1::TaskInfo;
use scheduler::core::task::Sample;

/// The variables `executor_env` seeds with; any other name in the input is passed on too.
const TOKEN: &str = "MESOS_EXECUTOR_AUTHENTICATION_TOKEN";

/// Duration variables: the text of each that parses must survive `format` → `parse`.
const DURATIONS: [&str; 3] = [
    "MESOS_RECOVERY_TIMEOUT",
    "MESOS_SUBSCRIPTION_BACKOFF_MAX",
    "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
];

/// `executor_env`. Input: `NAME=value` lines (text; later lines win). Checks: the parser
/// never panics; a set authentication token never shows in the error text or the config's
/// `Debug` (the token is swapped for a marker found in no other text, so a token that
/// happens to be part of a variable name does not count); every duration it reads comes
/// back from the agent's format within a nanosecond per 10^14.
pub fn executor_env(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut vars: HashMap<&str, &str> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .collect();
    let shown = |vars: &HashMap<&str, &str>| match executor::from_env(&|name| {
        vars.get(name).map(|v| v.to_string())
    }) {
        Ok(config) => format!("{config:?}"),
        Err(e) => format!("{e} {e:?}"),
    };
    let _ = shown(&vars);
    for name in DURATIONS {
        if let Some(Ok(d)) = vars.get(name).map(|v| proto::duration::parse(v)) {
            duration_round_trip(d);
        }
    }
    let marker_elsewhere = text.contains(MARKER);
    if vars.get(TOKEN).is_some_and(|t| !t.is_empty()) && !marker_elsewhere {
        vars.insert(TOKEN, MARKER);
        let text = shown(&vars);
        assert!(!text.contains(MARKER), "the token shows: {text}");
    }
}

/// Stands in for the token: in no variable name or message (the check is skipped for an
/// input that itself contains it).
const MARKER: &str = "\u{1}token-marker\u{1}";

fn duration_round_trip(d: Duration) {
    let text = proto::duration::format(d);
    let back = proto::duration::parse(&text)
        .unwrap_or_else(|e| panic!("the agent's text {text:?} for {d:?} does not parse: {e}"));
    let diff = back.abs_diff(d);
    let slack = Duration::from_nanos(1 + (d.as_nanos() / 100_000_000_000_000) as u64);
    assert!(
        diff <= slack,
        "{d:?} came back as {back:?} through {text:?}"
    );
}

/// `scheduler_report`. Input: the JSON bytes of a framework message or of `TaskInfo.data`.
/// Checks: a report or task spec that parses re-parses equal from its own bytes; the
/// scheduler's sample of a report has finite, non-negative rates and a kernel name of at
/// most 32 bytes; the executor's plan of a task with these bytes never panics.
pub fn scheduler_report(data: &[u8]) {
    if let Ok(report) = Report::parse(data) {
        let bytes = report.to_bytes();
        match Report::parse(&bytes) {
            Ok(back) => assert_eq!(back, report, "report round trip"),
            Err(e) => panic!("own report bytes fail: {e}"),
        }
        let sample = Sample::from_report(&report);
        let sane = sample.hashrate.iter().all(|r| r.is_finite() && *r >= 0.0);
        assert!(sane, "sample rates {:?}", sample.hashrate);
        assert!(
            sample.kernel.len() <= 32,
            "kernel name of {}",
            sample.kernel.len()
        );
    }
    if let Ok(spec) = TaskSpec::parse(data) {
        match TaskSpec::parse(&spec.to_bytes()) {
            Ok(back) => assert_eq!(back, spec, "task spec round trip"),
            Err(e) => panic!("own task spec bytes fail: {e}"),
        }
    }
    let task = TaskInfo {
        name: "fuzz".into(),
        task_id: "fuzz".into(),
        agent_id: "agent".into(),
        data: Some(data.to_vec()),
        ..TaskInfo::default()
    };
    let _ = executor::plan::plan(&task);
}

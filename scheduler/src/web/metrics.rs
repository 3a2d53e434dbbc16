//! `GET /metrics`: Prometheus text format (version 0.0.4) with the metric names the issue
//! fixes, plus a few counters of our own.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Instant;

use crate::core::State;

/// `Content-Type` of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Escapes a label value (backslash, double quote, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The whole exposition at `now`.
pub fn render(state: &State, now: Instant) -> String {
    let view = state.view(now);
    let stats = state.stats();
    let mut out = String::with_capacity(1024 + view.tasks.len() * 128);
    let name = "mesos_miner_cluster_hashrate_hashes_per_second";
    head(
        &mut out,
        name,
        "gauge",
        "Cluster hashrate (workers with a fresh report).",
    );
    let c = &view.cluster;
    for (window, value) in [
        ("10s", c.hashrate_10s),
        ("1m", c.hashrate_1m),
        ("15m", c.hashrate_15m),
    ] {
        let _ = writeln!(out, "{name}{{window=\"{window}\"}} {value}");
    }
    let name = "mesos_miner_task_hashrate_hashes_per_second";
    head(
        &mut out,
        name,
        "gauge",
        "Last reported 10 s hashrate of a task.",
    );
    for t in &view.tasks {
        let _ = writeln!(
            out,
            "{name}{{task_id=\"{}\",agent_id=\"{}\"}} {}",
            label(&t.task_id),
            label(&t.agent_id),
            t.hashrate_10s
        );
    }
    let name = "mesos_miner_shares_total";
    head(
        &mut out,
        name,
        "counter",
        "Shares reported by workers, by result.",
    );
    for (result, n) in [
        ("accepted", c.shares_accepted),
        ("rejected", c.shares_rejected),
        ("stale", c.shares_stale),
    ] {
        let _ = writeln!(out, "{name}{{result=\"{result}\"}} {n}");
    }
    let blocks = state.blocks();
    head(
        &mut out,
        "mesos_miner_blocks_found_total",
        "counter",
        "Blocks found by the pool server.",
    );
    let _ = writeln!(out, "mesos_miner_blocks_found_total {}", blocks[0]);
    head(
        &mut out,
        "mesos_miner_blocks_accepted_total",
        "counter",
        "Blocks the node accepted.",
    );
    let _ = writeln!(out, "mesos_miner_blocks_accepted_total {}", blocks[1]);
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for t in &view.tasks {
        let kind = serde_json::to_value(t.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        *counts
            .entry((kind.unwrap_or_default(), t.state.clone()))
            .or_default() += 1;
    }
    head(
        &mut out,
        "mesos_miner_tasks",
        "gauge",
        "Tasks tracked, by kind and Mesos state.",
    );
    for ((kind, st), n) in counts {
        let _ = writeln!(
            out,
            "mesos_miner_tasks{{kind=\"{kind}\",state=\"{st}\"}} {n}"
        );
    }
    let name = "mesos_miner_offers_total";
    head(&mut out, name, "counter", "Offers, by what became of them.");
    for (outcome, n) in [
        ("accepted", stats.offers_accepted),
        ("declined", stats.offers_declined),
        ("rescinded", stats.offers_rescinded),
    ] {
        let _ = writeln!(out, "{name}{{outcome=\"{outcome}\"}} {n}");
    }
    head(
        &mut out,
        "mesos_miner_subscribed",
        "gauge",
        "1 while subscribed to a master.",
    );
    let _ = writeln!(out, "mesos_miner_subscribed {}", u8::from(view.subscribed));
    let counters = [
        (
            "mesos_miner_subscriptions_total",
            "SUBSCRIBED events, re-subscriptions included.",
            stats.subscriptions,
        ),
        (
            "mesos_miner_status_updates_total",
            "Status updates received.",
            stats.updates,
        ),
        (
            "mesos_miner_framework_messages_total",
            "Framework messages received.",
            stats.messages,
        ),
        (
            "mesos_miner_bad_messages_total",
            "Framework messages dropped as unusable.",
            stats.bad_messages,
        ),
        (
            "mesos_miner_task_errors_total",
            "Tasks that ended TASK_ERROR.",
            stats.task_errors,
        ),
    ];
    for (name, help, n) in counters {
        head(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {n}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

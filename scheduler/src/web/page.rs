//! `GET /`: one plain HTML page (no scripts, no external assets) with the cluster hashrate
//! and a table of tasks; it refreshes itself every few seconds.

use std::fmt::Write;

use crate::view::StateView;

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A hashrate with an SI prefix: `12.3 MH/s`.
pub fn rate(hps: f64) -> String {
    let units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s"];
    let mut value = if hps.is_finite() { hps.max(0.0) } else { 0.0 };
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.2} {}", units[unit])
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#eee}";

/// The page.
pub fn render(view: &StateView) -> String {
    let mut out = String::with_capacity(2048 + view.tasks.len() * 256);
    let _ = write!(
        out,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" \
         content=\"5\"><title>mesos-miner</title><style>{STYLE}</style></head><body>\
         <h1>mesos-miner</h1><p>Cluster hashrate: <b>{}</b> (1 min {}, 15 min {}) · workers \
         {} · shares {} accepted, {} rejected, {} stale</p>",
        rate(view.cluster.hashrate_10s),
        rate(view.cluster.hashrate_1m),
        rate(view.cluster.hashrate_15m),
        view.cluster.workers,
        view.cluster.shares_accepted,
        view.cluster.shares_rejected,
        view.cluster.shares_stale,
    );
    let s = &view.server;
    let _ = write!(
        out,
        "<p>Framework {} · {} · master {} · server ({}) {} {} · blocks found {}</p>",
        escape(view.framework_id.as_deref().unwrap_or("(none yet)")),
        if view.subscribed {
            "subscribed"
        } else {
            "not subscribed"
        },
        escape(view.master.as_deref().unwrap_or("-")),
        escape(&s.kind),
        escape(s.url.as_deref().unwrap_or("-")),
        escape(s.state.as_deref().unwrap_or("")),
        s.blocks_found,
    );
    out.push_str(
        "<table><tr><th>task</th><th>kind</th><th>host</th><th>state</th><th>healthy</th>\
         <th>threads</th><th>kernel</th><th>10 s</th><th>1 min</th><th>accepted</th>\
         <th>rejected</th><th>report age</th></tr>",
    );
    for t in &view.tasks {
        let kind = if t.kind == proto::framework::TaskKind::Server {
            "server"
        } else {
            "worker"
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{kind}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&t.task_id),
            escape(&t.hostname),
            escape(&t.state),
            t.healthy.map_or("-", |h| if h { "yes" } else { "no" }),
            t.threads.map_or("-".into(), |n| n.to_string()),
            escape(t.kernel.as_deref().unwrap_or("-")),
            rate(t.hashrate_10s),
            rate(t.hashrate_1m),
            t.shares_accepted,
            t.shares_rejected,
            t.last_report_age_s
                .map_or("-".into(), |a| format!("{a:.0} s")),
        );
    }
    out.push_str("</table></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_rates() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(rate(0.0), "0.00 H/s");
        assert_eq!(rate(12_345_678.0), "12.35 MH/s");
        assert_eq!(rate(f64::NAN), "0.00 H/s");
    }

    #[test]
    fn page_has_no_external_assets() {
        let html = render(&StateView::default());
        assert!(html.contains("Cluster hashrate"));
        assert!(
            !html.contains("http://") && !html.contains("https://") && !html.contains("<script")
        );
    }
}

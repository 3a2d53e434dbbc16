//! The routes, without a port: the router is called as a service.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use proto::v1::framework_info::capability::Type as Cap;
use tower::ServiceExt;

use super::{Shared, page, router};
use crate::config::SchedulerConfig;
use crate::core::{CoreConfig, Persisted, State};
use crate::history::{CAPACITY, HistoryView};
use crate::view::{AgentView, StateView};

fn shared(interval: Duration) -> Arc<Shared> {
    let info = proto::calls::offer::framework_info("miner", "mesos-miner", &[Cap::MultiRole]);
    let command = crate::core::launch::executor_command("http://sched/executor/x/mesos-miner");
    let cfg = CoreConfig::new(&SchedulerConfig::default(), info, command);
    let core = State::new(cfg, Persisted::default(), Instant::now());
    Shared::new(core, None, interval)
}

/// GET `uri`: status, content type, body.
async fn get(shared: &Arc<Shared>, uri: &str) -> (StatusCode, String, String) {
    let req = Request::get(uri).body(Body::empty()).expect("request");
    let resp = router(shared.clone())
        .oneshot(req)
        .await
        .expect("infallible");
    let status = resp.status();
    let kind = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .expect("body");
    (status, kind, String::from_utf8_lossy(&bytes).into_owned())
}

fn sample(hps: f64) -> StateView {
    let mut v = StateView::default();
    v.cluster.hashrate_10s = hps;
    v.agents.push(AgentView {
        agent_id: "a1".into(),
        hostname: "node1".into(),
        hashrate_10s: hps,
        tasks: 2,
    });
    v
}

#[tokio::test]
async fn history_route_serves_the_ring_and_since() {
    let s = shared(Duration::from_secs(1));
    let (code, kind, body) = get(&s, "/api/history").await;
    assert_eq!(code, StatusCode::OK);
    assert!(kind.starts_with("application/json"), "{kind}");
    let empty: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        empty,
        serde_json::json!({"interval_ms": 1000, "capacity": 2160, "cluster": [], "agents": []})
    );
    for i in 0..CAPACITY as u64 + 3 {
        s.history().record(1_000 + i, &sample(i as f64));
    }
    let (_, _, body) = get(&s, "/api/history").await;
    let all: HistoryView = serde_json::from_str(&body).expect("history");
    assert_eq!(all.cluster.len(), CAPACITY, "bounded");
    assert_eq!(all.cluster[0], (1_003, 3.0));
    assert_eq!(all.agents.len(), 1);
    assert_eq!(all.agents[0].hostname, "node1");
    assert_eq!(all.agents[0].points.len(), CAPACITY);
    let newest = all.cluster[CAPACITY - 2].0;
    let (_, _, body) = get(&s, &format!("/api/history?since={newest}")).await;
    let tail: HistoryView = serde_json::from_str(&body).expect("history");
    assert_eq!(tail.cluster, vec![all.cluster[CAPACITY - 1]]);
    let (code, _, _) = get(&s, "/api/history?since=yesterday").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_page_is_self_contained_and_small() {
    let s = shared(Duration::from_secs(10));
    let (code, kind, html) = get(&s, "/").await;
    assert_eq!(code, StatusCode::OK);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(html.contains("Cluster hashrate") && html.contains("<svg id=\"chart\""));
    assert!(
        page::static_weight() < 200 * 1024,
        "{} bytes",
        page::static_weight()
    );
    // Nothing leaves the scheduler: no absolute or protocol-relative URL anywhere.
    for needle in [
        "http:",
        "https:",
        "//cdn",
        "src=\"//",
        "href=\"//",
        "url(",
        "@import",
    ] {
        assert!(!html.contains(needle), "the page has {needle:?}");
    }
    // Every src/href is relative to the page (works behind a proxy path too).
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let value = &html[i + attr.len()..];
            let value = &value[..value.find('"').unwrap_or(0)];
            assert!(
                value.starts_with("api/") || value == "metrics" || value == "data:,",
                "{attr}{value}"
            );
        }
    }
    // The state of the moment is embedded, so the first paint already has the tasks.
    let start = html.find("application/json\">").expect("embedded state") + 18;
    let end = start + html[start..].find("</script>").expect("end of state");
    let embedded: StateView = serde_json::from_str(&html[start..end]).expect("state JSON");
    assert_eq!(embedded, s.view());
}

#[tokio::test]
async fn the_state_route_has_the_page_fields() {
    let s = shared(Duration::from_secs(10));
    let (code, _, body) = get(&s, "/api/state").await;
    assert_eq!(code, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert!(
        json["changes"].as_array().is_some_and(Vec::is_empty),
        "{json}"
    );
    let server = &json["server"];
    assert!(
        server.get("node_height").is_some() && server.get("node").is_some(),
        "{server}"
    );
    // The fields that were there before stay, with their names.
    for field in [
        "framework_id",
        "subscribed",
        "master",
        "server",
        "cluster",
        "agents",
        "tasks",
    ] {
        assert!(json.get(field).is_some(), "{field} missing: {json}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_sampler_records_one_point_per_interval() {
    let s = shared(Duration::from_secs(10));
    let stop = tokio_util::sync::CancellationToken::new();
    let task = crate::history::spawn(s.clone(), stop.clone());
    // Paused time: the runtime jumps over the sleeps, so this is exact, not a timing.
    tokio::time::sleep(Duration::from_secs(35)).await;
    assert_eq!(s.history().len(), 4, "at 0, 10, 20 and 30 s");
    stop.cancel();
    task.await.expect("sampler ends");
    let v = s.history().view(None);
    assert!(v.cluster.windows(2).all(|w| w[0].0 < w[1].0), "{v:?}");
}

//! Difficulty: suggestions, per-job difficulty, BIP310 configure, vardiff.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;

#[test]
fn shares_of_older_jobs_keep_their_difficulty() {
    let t = Instant::now();
    let mut pool = FakePool::default();
    let mut s = ready(fixed(), t, &mut pool);
    s.handle_line(
        r#"{"id":3,"method":"mining.suggest_difficulty","params":[2]}"#,
        t,
        &mut pool,
    );
    assert_eq!(
        sent(&mut s),
        vec![json!({"id":3,"result":true,"error":null})],
        "applies with the next job"
    );
    s.send_job(&job("j2", false), t);
    let out = sent(&mut s);
    assert_eq!(
        out[0],
        json!({"id":null,"method":"mining.set_difficulty","params":[2]})
    );
    assert_eq!(out[1]["params"][0], json!("j2"));
    s.handle_line(
        &submit_line(4, "w1", "j1", "00000000", 1_000_000, 1, None),
        t,
        &mut pool,
    );
    s.handle_line(
        &submit_line(5, "w1", "j2", "00000000", 1_000_000, 1, None),
        t,
        &mut pool,
    );
    let diffs: Vec<f64> = pool.checked.iter().map(|c| c.difficulty.value()).collect();
    assert_eq!(diffs, vec![0.01, 2.0]);
    sent(&mut s);
    // Suggestions are clamped to the limits.
    s.handle_line(
        r#"{"id":6,"method":"mining.suggest_difficulty","params":[1e-9]}"#,
        t,
        &mut pool,
    );
    s.send_job(&job("j3", false), t);
    assert_eq!(sent(&mut s)[1]["params"], json!([0.0001]));
}

#[test]
fn configure_version_rolling_and_minimum_difficulty() {
    let t = Instant::now();
    let mut pool = FakePool::default();
    let mut s = ServerSession::new(fixed(), t);
    let line = r#"{"id":1,"method":"mining.configure","params":[["version-rolling","minimum-difficulty","subscribe-extranonce"],{"version-rolling.mask":"ffffffff","version-rolling.min-bit-count":2,"minimum-difficulty.value":0.5}]}"#;
    s.handle_line(line, t, &mut pool);
    let result = json!({"version-rolling":true,"version-rolling.mask":"1fffe000","minimum-difficulty":true,"subscribe-extranonce":true});
    assert_eq!(
        sent(&mut s),
        vec![json!({"id":1,"result":result,"error":null})]
    );
    assert_eq!(s.version_mask(), Some(VersionMask::BIP320));
    s.handle_line(
        r#"{"id":2,"method":"mining.subscribe","params":[]}"#,
        t,
        &mut pool,
    );
    s.handle_line(
        r#"{"id":3,"method":"mining.authorize","params":["w1","x"]}"#,
        t,
        &mut pool,
    );
    s.send_job(&job("j1", true), t);
    let out = sent(&mut s);
    assert_eq!(out[2]["params"], json!([0.5]), "minimum difficulty applies");
    let n = 1_000_000;
    s.handle_line(
        &submit_line(4, "w1", "j1", "00000000", n, 1, Some(0x1fff_e000)),
        t,
        &mut pool,
    );
    s.handle_line(
        &submit_line(5, "w1", "j1", "00000000", n, 1, Some(0x0000_0001)),
        t,
        &mut pool,
    );
    let out = sent(&mut s);
    assert_eq!(out[0]["result"], json!(true));
    assert_eq!(
        out[1]["error"],
        json!([20, "Version bits outside mask", null])
    );
    assert_eq!(pool.checked[0].version, 0x3fff_e000);
    // Not enough bits left for the miner: refused.
    let mut s = ServerSession::new(
        ServerConfig {
            version_rolling_mask: Some(VersionMask(0x6000)),
            ..fixed()
        },
        t,
    );
    let line = r#"{"id":1,"method":"mining.configure","params":[["version-rolling"],{"version-rolling.mask":"1fffe000","version-rolling.min-bit-count":3}]}"#;
    s.handle_line(line, t, &mut pool);
    assert_eq!(sent(&mut s)[0]["result"], json!({"version-rolling": false}));
    assert_eq!(s.version_mask(), None);
}

#[test]
fn vardiff_raises_difficulty_for_a_fast_miner() {
    let t = Instant::now();
    let mut pool = FakePool::default();
    let mut s = ready(
        ServerConfig {
            extranonce2_size: 4,
            ..ServerConfig::default()
        },
        t,
        &mut pool,
    );
    // 20 accepted shares within 10 s: due early, ×4.
    for i in 0..20u32 {
        let line = submit_line(
            10 + u64::from(i),
            "w1",
            "j1",
            "00000000",
            1_000_000,
            i,
            None,
        );
        s.handle_line(
            &line,
            t + Duration::from_millis(500 * u64::from(i)),
            &mut pool,
        );
    }
    s.send_job(&job("j2", false), t + Duration::from_secs(10));
    let out = sent(&mut s);
    assert_eq!(
        out[20],
        json!({"id":null,"method":"mining.set_difficulty","params":[0.04]})
    );
    assert_eq!(s.difficulty().value(), 0.04);
    // Silence for the retarget interval: back down.
    s.send_job(&job("j3", false), t + Duration::from_secs(80));
    assert_eq!(sent(&mut s)[0]["params"], json!([0.01]));
}

#[test]
fn vardiff_does_not_go_below_a_suggested_difficulty() {
    let t = Instant::now();
    let mut pool = FakePool::default();
    let cfg = ServerConfig {
        extranonce2_size: 4,
        ..ServerConfig::default()
    };
    let mut s = ready(cfg, t, &mut pool);
    s.handle_line(
        r#"{"id":3,"method":"mining.suggest_difficulty","params":[2]}"#,
        t,
        &mut pool,
    );
    sent(&mut s);
    s.send_job(&job("j2", false), t);
    assert_eq!(sent(&mut s)[0]["params"], json!([2]));
    // No share for ten minutes: vardiff would fall by its maximum step each job.
    for (i, minutes) in [2u64, 4, 6, 8, 10].into_iter().enumerate() {
        let at = t + Duration::from_secs(60 * minutes);
        s.send_job(&job(&format!("k{i}"), false), at);
        let out = sent(&mut s);
        assert!(
            out.iter().all(|m| m["method"] != "mining.set_difficulty"),
            "{out:?}"
        );
    }
    assert_eq!(s.difficulty().value(), 2.0);
}

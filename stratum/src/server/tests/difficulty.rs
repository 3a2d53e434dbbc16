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
fn vardiff_moves_at_once_with_the_job_under_an_alias() {
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
    let at = |ms: u64| t + Duration::from_millis(ms);
    // A share every 0.1 s at 0.01 for a 10 s target: at the 20th (1.9 s) the estimate is
    // precise, 20 shares / 0.19 expected, and the move goes out at once.
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
        s.handle_line(&line, at(100 * u64::from(i)), &mut pool);
    }
    let out = sent(&mut s);
    assert_eq!(out.len(), 22, "{out:?}");
    assert!(
        out[..20].iter().all(|r| r["result"] == json!(true)),
        "{out:?}"
    );
    assert_eq!(
        out[20],
        json!({"id":null,"method":"mining.set_difficulty","params":[1.05]})
    );
    // The same job as a new one: alias id, ntime one second on, not clean.
    let p = &out[21]["params"];
    assert_eq!(out[21]["method"], "mining.notify");
    assert_eq!(p[0], json!("j10001"));
    assert_eq!(p[7], json!(format!("{:08x}", 1_000_001)));
    assert_eq!(p[8], json!(false));
    assert_eq!(s.difficulty().value(), 1.05);

    // A share of the alias reaches the pool as job j1 at the new difficulty; one of j1
    // itself still counts at the old one.
    let line = submit_line(20, "w1", "j10001", "00000000", 1_000_001, 7, None);
    s.handle_line(&line, at(2000), &mut pool);
    let check = pool.checked.last().unwrap();
    assert_eq!(
        (check.job_id.as_str(), check.difficulty.value()),
        ("j1", 1.05)
    );
    let line = submit_line(21, "w1", "j1", "00000000", 1_000_000, 100, None);
    s.handle_line(&line, at(2100), &mut pool);
    let check = pool.checked.last().unwrap();
    assert_eq!(
        (check.job_id.as_str(), check.difficulty.value()),
        ("j1", 0.01)
    );
    let out = sent(&mut s);
    assert!(out.iter().all(|r| r["result"] == json!(true)), "{out:?}");
    // An alias's ntime is its own: an earlier one is out of range.
    let line = submit_line(22, "w1", "j10001", "00000000", 1_000_000, 9, None);
    s.handle_line(&line, at(2200), &mut pool);
    assert_eq!(sent(&mut s)[0]["error"][0], json!(20));

    // Then silence: the timer says when one share since the move is implausibly few; the
    // move down goes out at once, as a second alias.
    let due = s.next_timer().expect("vardiff is timed");
    assert!(due > at(2000) && due < at(120_000), "{due:?}");
    s.on_timer(due - Duration::from_millis(1));
    assert!(sent(&mut s).is_empty(), "not before it is due");
    s.on_timer(due);
    let out = sent(&mut s);
    assert_eq!(out[0]["method"], "mining.set_difficulty");
    assert!(out[0]["params"][0].as_f64().unwrap() < 1.05, "{out:?}");
    assert_eq!(out[1]["params"][0], json!("j10002"));
    assert_eq!(out[1]["params"][7], json!(format!("{:08x}", 1_000_002)));
    // A new job from the pool goes out under its own id again.
    s.send_job(&job("j2", false), due + Duration::from_secs(1));
    let out = sent(&mut s);
    assert_eq!(out.last().unwrap()["params"][0], json!("j2"));
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

#[test]
fn share_difficulty_is_capped_at_the_blocks() {
    let t = Instant::now();
    let mut pool = FakePool::default();
    let mut s = ready(
        ServerConfig {
            initial_difficulty: Difficulty::new(5.0).unwrap(),
            ..fixed()
        },
        t,
        &mut pool,
    );
    assert_eq!(s.difficulty().value(), 5.0);
    // A difficulty-1 block (0x1d00ffff): shares of 5 would hide blocks; held to 1.
    let block_1 = Notify {
        nbits: 0x1d00_ffff,
        ..job("b1", false)
    };
    s.send_job(&block_1, t);
    assert_eq!(sent(&mut s)[0]["params"][0].as_f64(), Some(1.0));
    // Regtest (0x207fffff, 4.7e-10): every share is a block; the pool's minimum stays.
    let regtest = Notify {
        nbits: 0x207f_ffff,
        ..job("b2", false)
    };
    s.send_job(&regtest, t);
    assert_eq!(sent(&mut s)[0]["params"][0].as_f64(), Some(0.0001));
    // A miner's suggestion is its floor, above the block's difficulty too.
    s.handle_line(
        r#"{"id":3,"method":"mining.suggest_difficulty","params":[50]}"#,
        t,
        &mut pool,
    );
    sent(&mut s);
    s.send_job(&job("b3", false), t);
    assert_eq!(sent(&mut s)[0]["params"], json!([50]));
}

//! The Mesos framework secret never reaches a log (issue 11 hole 7): a scheduler with
//! `--principal`/`--secret-file` subscribes to a local cluster that requires it, both at
//! `RUST_LOG=trace`, and neither output holds the secret or its HTTP Basic token.

use std::time::{Duration, Instant};

use crate::support::{Proc, free_addr, get_json, temp_dir, wait_listening};

#[test]
fn the_mesos_secret_is_in_no_log_at_trace() {
    let dir = temp_dir("mesos-secret");
    let secret = "Mesos-S3cret-Value-91";
    let creds = dir.join("credentials.json");
    let body = format!(r#"{{"credentials":[{{"principal":"miner","secret":"{secret}"}}]}}"#);
    std::fs::write(&creds, body).unwrap();
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();

    let master = free_addr();
    let port = master.port().to_string();
    let work = dir.join("work");
    let cluster = Proc::spawn_logging(
        &[
            "local",
            "--cluster-only",
            "--port",
            &port,
            "--credentials",
            creds.to_str().unwrap(),
            "--work-dir",
            work.to_str().unwrap(),
        ],
        dir.join("cluster.log"),
        "trace",
    );
    wait_listening(master, &cluster);
    let web = free_addr();
    let scheduler = Proc::spawn_logging(
        &[
            "scheduler",
            "--master",
            &format!("http://{master}"),
            "--principal",
            "miner",
            "--secret-file",
            secret_file.to_str().unwrap(),
            "--web-bind",
            &web.to_string(),
            "--state-dir",
            dir.join("state").to_str().unwrap(),
            "--demo",
        ],
        dir.join("scheduler.log"),
        "trace",
    );
    wait_listening(web, &scheduler);
    let deadline = Instant::now() + Duration::from_secs(60);
    while get_json(web, "/api/state")["subscribed"] != true {
        assert!(
            Instant::now() < deadline,
            "subscribed with the secret:\n{}",
            scheduler.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Let both run a little with calls going back and forth, then read everything.
    std::thread::sleep(Duration::from_secs(3));
    // base64("miner:Mesos-S3cret-Value-91"), the Authorization: Basic token.
    let token = "bWluZXI6TWVzb3MtUzNjcmV0LVZhbHVlLTkx";
    for (name, p) in [("scheduler", &scheduler), ("cluster", &cluster)] {
        let out = p.output();
        assert!(
            out.contains("TRACE") || out.contains("DEBUG"),
            "{name} logged at trace"
        );
        assert!(!out.contains(secret), "the secret in the {name} log");
        assert!(!out.contains(token), "the Basic token in the {name} log");
    }
}

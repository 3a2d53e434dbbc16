//! Load figures for the pool (issue 11): N concurrent Stratum connections on 127.0.0.1 (10,000
//! by default), each subscribed and authorized, each submitting one share a second, against the
//! pool in demo mode in this process. Prints the submit → reply latency (p50/p99), the spread
//! of each new job's `mining.notify` over all connections (first to last arrival: the fan-out),
//! and RSS per connection (client and pool together, so an upper bound for the pool's share).
//!
//! `cargo bench -p pool --bench connections [-- CONNECTIONS SECONDS]` (under `cargo test`: a
//! 50-connection smoke run). Needs an open-files limit above 2 × CONNECTIONS (raised to the
//! hard limit here).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pool::{Backend, Pool, PoolConfig};
use serde_json::{Value, json};
use stratum::Difficulty;
use testkit::stratum::header::{meets_difficulty, nonce_where, work};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Share difficulty: a handful of hashes per share, so the clients cost little CPU.
const DIFF: f64 = 1e-9;

#[derive(Default)]
struct Figures {
    latencies: Vec<Duration>,
    accepted: u64,
    rejected: u64,
    /// job id → (first, last) notify arrival over all connections, and the count.
    notifies: HashMap<String, (Instant, Instant, usize)>,
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
    lim.rlim_cur
}

/// One miner: handshake, then a share a second until `until`; every notify and reply timed.
async fn miner(
    addr: SocketAddr,
    n: usize,
    start: Instant,
    until: Instant,
    figures: Arc<Mutex<Figures>>,
    connected: Arc<Semaphore>,
) {
    let Ok(stream) = TcpStream::connect(addr).await else {
        return;
    };
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let worker = format!("w{n}");
    let hello = format!(
        "{}\n{}\n",
        json!({"id": 1, "method": "mining.subscribe", "params": ["load/1"]}),
        json!({"id": 2, "method": "mining.authorize", "params": [worker, "x"]})
    );
    if write.write_all(hello.as_bytes()).await.is_err() {
        return;
    }
    let mut en1 = Vec::new();
    let mut job: Option<Value> = None;
    let mut sent: HashMap<u64, Instant> = HashMap::new();
    let mut next_id = 10u64;
    let mut en2 = (n as u64) << 32;
    // Spread the first shares over the first second.
    let mut next_share = start + Duration::from_micros((n as u64 * 7919) % 1_000_000);
    let mut counted = false;
    loop {
        let wait = tokio::time::sleep_until(next_share.max(Instant::now()).into());
        tokio::select! {
            line = lines.next_line() => {
                let Ok(Some(line)) = line else { return };
                let now = Instant::now();
                let Ok(msg) = serde_json::from_str::<Value>(&line) else { continue };
                if msg["method"] == "mining.notify" {
                    let id = msg["params"][0].as_str().unwrap_or_default().to_string();
                    let mut f = figures.lock().unwrap();
                    let e = f.notifies.entry(id).or_insert((now, now, 0));
                    e.1 = e.1.max(now);
                    e.0 = e.0.min(now);
                    e.2 += 1;
                    drop(f);
                    job = Some(msg["params"].clone());
                    if !counted {
                        counted = true;
                        connected.add_permits(1);
                    }
                } else if msg["id"] == 1 {
                    en1 = hex::decode(msg["result"][1].as_str().unwrap_or_default()).unwrap_or_default();
                } else if let Some(id) = msg["id"].as_u64()
                    && let Some(at) = sent.remove(&id)
                {
                    let mut f = figures.lock().unwrap();
                    f.latencies.push(now - at);
                    if msg["result"] == json!(true) { f.accepted += 1 } else { f.rejected += 1 }
                }
            }
            _ = wait => {
                if Instant::now() >= until {
                    return;
                }
                next_share += Duration::from_secs(1);
                let Some(params) = job.as_ref() else { continue };
                en2 += 1;
                let en2_bytes = en2.to_be_bytes();
                let w = work(params, &en1, &en2_bytes);
                let (nonce, _) = nonce_where(&w.header, |h| meets_difficulty(h, DIFF));
                next_id += 1;
                let submit = json!({"id": next_id, "method": "mining.submit", "params": [
                    format!("w{n}"), params[0], hex::encode(en2_bytes),
                    format!("{:08x}", w.ntime), format!("{nonce:08x}")]});
                sent.insert(next_id, Instant::now());
                if write.write_all(format!("{submit}\n").as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    // `cargo test --all-targets` runs this without `--bench`: a small smoke run then.
    let full = std::env::args().any(|a| a == "--bench");
    let conns = args
        .first()
        .copied()
        .unwrap_or(if full { 10_000 } else { 50 });
    let seconds = args.get(1).copied().unwrap_or(if full { 30 } else { 2 }) as u64;
    let nofile = raise_nofile();
    println!(
        "connections {conns}, {seconds} s of one share a second each, open-files limit {nofile}"
    );
    let rss0 = rss_mb();

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let data = std::env::temp_dir().join(format!("pool-load-{}", std::process::id()));
    let mut config = PoolConfig::new(Backend::Demo, None, data.clone());
    config.session.vardiff = None;
    config.session.initial_difficulty = Difficulty::new(DIFF).expect("difficulty");
    config.session.min_difficulty = Difficulty::new(DIFF).expect("difficulty");
    config.max_connections = conns + 16;
    config.max_connections_per_ip = 0;
    config.limits.handshake_timeout = Duration::from_secs(120);
    config.job_refresh = Duration::from_secs(5);
    let pool = Pool::start(listener, config).await.expect("pool starts");
    let addr = pool.local_addr();

    let figures = Arc::new(Mutex::new(Figures::default()));
    let connected = Arc::new(Semaphore::new(0));
    let t = Instant::now();
    let ramp = Duration::from_secs(conns as u64 / 500 + 5);
    let start = t + ramp;
    let until = start + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..conns {
        tasks.spawn(miner(
            addr,
            n,
            start,
            until,
            figures.clone(),
            connected.clone(),
        ));
        if n % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let ready = tokio::time::timeout(
        ramp + Duration::from_secs(60),
        connected.acquire_many(conns as u32),
    )
    .await;
    let ready_secs = t.elapsed().as_secs_f64();
    let rss_conn = rss_mb();
    match ready {
        Ok(_) => {
            println!("all {conns} subscribed, authorized and notified after {ready_secs:.1} s")
        }
        Err(_) => println!(
            "only {} of {conns} got a job",
            connected.available_permits()
        ),
    }
    println!(
        "RSS {rss_conn:.0} MB: {:.1} KB per connection (pool and client together)",
        (rss_conn - rss0) * 1024.0 / conns as f64
    );
    while tasks.join_next().await.is_some() {}
    let status = pool.status();
    let mut f = std::mem::take(&mut *figures.lock().unwrap());
    f.latencies.sort_unstable();
    println!(
        "shares: {} answered ({} accepted, {} rejected; pool counts {} accepted), submit→reply p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        f.latencies.len(),
        f.accepted,
        f.rejected,
        status.shares_accepted,
        percentile(&f.latencies, 0.5),
        percentile(&f.latencies, 0.99),
        percentile(&f.latencies, 1.0),
    );
    let mut spreads: Vec<f64> = f
        .notifies
        .values()
        .filter(|(_, _, count)| *count >= conns * 9 / 10)
        .map(|(first, last, _)| (*last - *first).as_secs_f64() * 1000.0)
        .collect();
    spreads.sort_by(f64::total_cmp);
    println!(
        "notify fan-out over the connections (first to last arrival), {} jobs: median {:.0} ms, max {:.0} ms",
        spreads.len(),
        spreads.get(spreads.len() / 2).copied().unwrap_or(0.0),
        spreads.last().copied().unwrap_or(0.0),
    );
    pool.shutdown().await;
    let _ = std::fs::remove_dir_all(data);
}

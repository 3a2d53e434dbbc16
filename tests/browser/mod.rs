//! The scheduler's web page in a real browser: Debian's `chromium`, headless, loads the page
//! of a running `mesos-miner local` (and of a scheduler that never subscribes), runs its
//! script, and the test reads the DOM it leaves (`--dump-dom`) and a screenshot (PNG). The
//! browser is installed with apt when missing; the test is skipped, saying why, only where
//! apt cannot install it. Chromium is kept on loopback: every other host resolves to
//! nothing and goes to a closed proxy port, and its background services are off.
//!
//! Ports: 39100–39199, outside the ranges the framework tests' clusters offer (36000 +
//! k·200, 50 ports each), probed before use; each test has its own part of it, as the two
//! run side by side (the unsubscribed one must never find `local`'s master).

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

mod chrome;

use chrome::{browse, chromium};

use crate::support::{Proc, get_json, temp_dir, wait_listening};

/// A free loopback port in `range`.
fn free_port(range: std::ops::Range<u16>) -> u16 {
    range
        .into_iter()
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port in 39100..39200")
}

/// Bytes of the page's body, by a raw HTTP/1.1 GET.
fn page_bytes(web: SocketAddr) -> usize {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(web) else {
        return 0;
    };
    let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let head = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw.len(), |i| i + 4);
    raw.len() - head
}

/// Every value of attribute `name` in `dom`.
fn attr_values<'a>(dom: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!(" {name}=\"");
    dom.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &dom[i + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// Attribute `name` of the element whose id is `id`.
fn attr_of<'a>(dom: &'a str, id: &str, name: &str) -> Option<&'a str> {
    let at = dom.find(&format!(" id=\"{id}\""))?;
    let start = dom[..at].rfind('<')?;
    let end = at + dom[at..].find('>')?;
    attr_values(&dom[start..=end], name).first().copied()
}

fn number(dom: &str, id: &str, name: &str) -> f64 {
    attr_of(dom, id, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {name} on #{id} in the DOM"))
}

/// Polls `/api/state` and `/api/history` until the server and `workers` workers run and
/// mine, and the history has 3 points, one of them non-zero.
fn wait_mining(web: SocketAddr, workers: usize, local: &Proc) -> Value {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let state = get_json(web, "/api/state");
        let history = get_json(web, "/api/history");
        let tasks = state["tasks"].as_array().map_or(&[][..], Vec::as_slice);
        let mining = tasks.iter().filter(|t| {
            t["kind"] == "worker"
                && t["state"] == "TASK_RUNNING"
                && t["hashrate_10s"].as_f64() > Some(0.0)
        });
        let points = history["cluster"].as_array().map_or(&[][..], Vec::as_slice);
        let hashing = points.iter().any(|p| p[1].as_f64() > Some(0.0));
        if state["server"]["state"] == "TASK_RUNNING"
            && mining.count() == workers
            && points.len() >= 3
            && hashing
        {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "not mining after 240 s: {state}\n{}",
            local.output()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Decodes the PNG: (width, height, RGB pixels).
fn pixels(path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("screenshot"));
    let mut decoder = png::Decoder::new(file);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let step = info.color_type.samples();
    assert!(step >= 3, "a colour screenshot, got {:?}", info.color_type);
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(step)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, rgb)
}

/// `mesos-miner local` with 2 agents and 1 s history points, listening; its web address.
fn start_local(dir: &Path) -> (Proc, SocketAddr) {
    let master = free_port(39100..39125).to_string();
    let web = SocketAddr::from(([127, 0, 0, 1], free_port(39125..39150)));
    let web_s = web.to_string();
    let work = dir.join("work");
    let args = [
        "local",
        "--port",
        &master,
        "--web-bind",
        &web_s,
        "--agents",
        "2",
        "--cpus",
        "1",
        "--history-interval",
        "1",
        "--report-interval",
        "1",
        "--status-interval",
        "0",
        "--kernel",
        "portable",
        "--work-dir",
        work.to_str().expect("utf-8 path"),
    ];
    let local = Proc::spawn(&args, dir.join("local.log"));
    wait_listening(web, &local);
    (local, web)
}

/// The DOM the script left: it polled, the chart has 3 points, the hashrate is not 0, one
/// row per task of `state`.
fn check_dom(dom: &str, state: &Value) {
    // The embedded state alone sets no data-updates: only an answered poll does.
    assert!(
        number(dom, "page", "data-updates") >= 1.0,
        "no poll answered in the browser"
    );
    assert!(
        number(dom, "chart", "data-points") >= 3.0,
        "fewer than 3 chart points"
    );
    assert!(
        dom.contains("class=\"cluster\" d=\"M"),
        "no cluster line in the SVG"
    );
    assert!(
        number(dom, "cluster-rate", "data-hps") > 0.0,
        "the hashrate shows 0"
    );
    let mut rows: Vec<&str> = attr_values(dom, "data-task-id");
    let mut ids: Vec<&str> = state["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["task_id"].as_str())
        .collect();
    rows.sort_unstable();
    ids.sort_unstable();
    assert_eq!(rows, ids, "one row per task");
    assert_eq!(rows.len(), 3, "the server and two workers");
    assert!(dom.contains("data-agent-id="), "no per-agent row");
    assert!(dom.contains("class=\"change\""), "no state change listed");
    assert_eq!(attr_of(dom, "page", "data-subscribed"), Some("true"));
}

/// The screenshot is not blank: many colours (text, lines, pills), no one colour nearly
/// everywhere, and the chart's blue line (#1f6feb, anti-aliased) over many pixels.
fn check_screenshot(shot: &Path) {
    let (w, h, rgb) = pixels(shot);
    assert_eq!((w, h), (1280, 1400));
    let mut colours = std::collections::HashMap::new();
    for p in &rgb {
        *colours.entry(*p).or_insert(0usize) += 1;
    }
    let commonest = colours.values().max().copied().unwrap_or(0);
    let blue = rgb
        .iter()
        .filter(|p| p[0] < 80 && (90..=140).contains(&p[1]) && p[2] > 200)
        .count();
    eprintln!(
        "browser test: screenshot {} ({w}x{h}, {} bytes): {} colours, commonest {:.1} %, {blue} chart-blue pixels",
        shot.display(),
        std::fs::metadata(shot).map_or(0, |m| m.len()),
        colours.len(),
        100.0 * commonest as f64 / rgb.len() as f64,
    );
    if let Some(copy) = std::env::var_os("MESOS_MINER_SCREENSHOT") {
        let _ = std::fs::copy(shot, copy);
    }
    assert!(colours.len() >= 32, "{} colours: blank", colours.len());
    assert!(
        commonest * 100 < rgb.len() * 90,
        "one colour covers over 90 %"
    );
    assert!(
        blue >= 500,
        "the chart line is missing ({blue} blue pixels)"
    );
}

#[test]
fn the_page_in_headless_chromium_shows_the_chart_and_the_tasks() {
    let chromium = match chromium() {
        Ok(path) => path,
        Err(why) => {
            eprintln!("SKIPPED the_page_in_headless_chromium: {why}");
            return;
        }
    };
    let dir = temp_dir("browser");
    let (mut local, web) = start_local(&dir);
    let state = wait_mining(web, 2, &local);
    let url = format!("http://{web}/");
    let dom = browse(&chromium, &dir.join("profile"), &url, &["--dump-dom"]);
    check_dom(&dom, &state);
    // Printed, never asserted: a shared machine makes any timing noise.
    eprintln!(
        "browser test: page {} bytes, first contentful paint {} ms (headless, virtual time)",
        page_bytes(web),
        attr_of(&dom, "page", "data-first-paint-ms").unwrap_or("not reported"),
    );
    let shot = dir.join("page.png");
    let flag = format!("--screenshot={}", shot.display());
    let extra = [
        flag.as_str(),
        "--window-size=1280,1400",
        "--hide-scrollbars",
    ];
    browse(&chromium, &dir.join("profile"), &url, &extra);
    check_screenshot(&shot);
    // Ctrl-C's path: the framework is torn down and no executor outlives `local`.
    assert!(
        local.terminate(Duration::from_secs(60)).is_some(),
        "local did not stop:\n{}",
        local.output()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unsubscribed_scheduler_page_says_so_and_keeps_sampling() {
    let chromium = match chromium() {
        Ok(path) => path,
        Err(why) => {
            eprintln!("SKIPPED an_unsubscribed_scheduler_page: {why}");
            return;
        }
    };
    let dir = temp_dir("browser-unsub");
    // A master address where nothing listens: the scheduler never subscribes.
    let nobody = free_port(39150..39175);
    let web_port = free_port(39175..39200);
    let web = SocketAddr::from(([127, 0, 0, 1], web_port));
    let (master, web_s) = (format!("http://127.0.0.1:{nobody}"), web.to_string());
    let state_dir = dir.join("state");
    let args = [
        "scheduler",
        "--master",
        &master,
        "--web-bind",
        &web_s,
        "--demo",
        "--history-interval",
        "1",
        "--state-dir",
        state_dir.to_str().expect("utf-8 path"),
    ];
    let mut sched = Proc::spawn(&args, dir.join("scheduler.log"));
    wait_listening(web, &sched);
    let deadline = Instant::now() + Duration::from_secs(60);
    while get_json(web, "/api/history")["cluster"]
        .as_array()
        .map_or(0, Vec::len)
        < 2
    {
        assert!(
            Instant::now() < deadline,
            "no history points:\n{}",
            sched.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let url = format!("http://{web}/");
    let dom = browse(&chromium, &dir.join("profile"), &url, &["--dump-dom"]);
    assert_eq!(attr_of(&dom, "page", "data-subscribed"), Some("false"));
    assert!(
        number(&dom, "page", "data-updates") >= 1.0,
        "the page stopped polling"
    );
    assert!(
        dom.contains("Not subscribed to a Mesos master"),
        "no banner:\n{dom}"
    );
    assert!(
        number(&dom, "chart", "data-points") >= 2.0,
        "sampling stopped"
    );
    assert!(attr_values(&dom, "data-task-id").is_empty());
    assert!(
        sched.terminate(Duration::from_secs(30)).is_some(),
        "scheduler did not stop"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

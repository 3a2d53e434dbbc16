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
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Proc, get_json, temp_dir, wait_listening};

/// A free loopback port in `range`.
fn free_port(range: std::ops::Range<u16>) -> u16 {
    range
        .into_iter()
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port in 39100..39200")
}

fn run(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Debian's chromium, installed with apt (through `sudo -n` when not root) if missing;
/// `Err` says why it cannot be had.
fn chromium() -> Result<PathBuf, String> {
    let found = || {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    };
    if let Some(path) = found() {
        return Ok(path);
    }
    if !Path::new("/usr/bin/apt-get").exists() {
        return Err("no chromium, and no apt-get to install it".into());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let (program, mut prefix): (&str, Vec<&str>) = if root {
        ("apt-get", vec![])
    } else {
        ("sudo", vec!["-n", "apt-get"])
    };
    // Another apt may be running on a shared machine: wait for its lock.
    prefix.extend(["-o", "DPkg::Lock::Timeout=600"]);
    let install = [&prefix[..], &["install", "-y", "chromium"]].concat();
    let update = [&prefix[..], &["update"]].concat();
    eprintln!("browser test: installing Debian's chromium with apt");
    // The package lists may be empty or old on a fresh machine: update once, then retry.
    let installed = run(program, &install) || (run(program, &update) && run(program, &install));
    if !installed {
        return Err(format!(
            "apt-get could not install chromium (as {})",
            if root { "root" } else { "sudo -n" }
        ));
    }
    found().ok_or_else(|| "apt-get installed chromium, but no /usr/bin/chromium".into())
}

/// Headless chromium on `url` with `extra` flags (a dump or a screenshot); stdout.
fn browse(chromium: &Path, profile: &Path, url: &str, extra: &[&str]) -> String {
    let profile = format!("--user-data-dir={}", profile.display());
    let mut args = vec![
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-pings",
        // Only loopback: nothing else resolves, and the proxy for it is a closed port.
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        // Virtual time: the page's 2 s polls run as fast as the fetches answer.
        "--virtual-time-budget=7000",
        profile.as_str(),
    ];
    args.extend_from_slice(extra);
    args.push(url);
    let out = Command::new(chromium)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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
    let master = free_port(39100..39125);
    let web_port = free_port(39125..39150);
    let web = SocketAddr::from(([127, 0, 0, 1], web_port));
    let (master_s, web_s) = (master.to_string(), web.to_string());
    let work = dir.join("work");
    let args = [
        "local",
        "--port",
        &master_s,
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
    let mut local = Proc::spawn(&args, dir.join("local.log"));
    wait_listening(web, &local);
    let state = wait_mining(web, 2, &local);
    let url = format!("http://{web}/");
    let dom = browse(&chromium, &dir.join("profile"), &url, &["--dump-dom"]);

    // The script ran and polled (the embedded state alone sets no data-updates).
    let updates = number(&dom, "page", "data-updates");
    assert!(updates >= 1.0, "no poll answered in the browser");
    assert!(
        number(&dom, "chart", "data-points") >= 3.0,
        "fewer than 3 chart points"
    );
    assert!(
        dom.contains("class=\"cluster\" d=\"M"),
        "no cluster line in the SVG"
    );
    assert!(
        number(&dom, "cluster-rate", "data-hps") > 0.0,
        "the hashrate shows 0"
    );
    // One row per task, the same tasks as /api/state, each worker with a non-zero rate.
    let mut rows: Vec<&str> = attr_values(&dom, "data-task-id");
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
    assert_eq!(attr_of(&dom, "page", "data-subscribed"), Some("true"));
    // Printed, never asserted: a shared machine makes any timing noise.
    eprintln!(
        "browser test: page {} bytes, first contentful paint {} ms (headless, virtual time)",
        page_bytes(web),
        attr_of(&dom, "page", "data-first-paint-ms").unwrap_or("not reported"),
    );

    let shot = dir.join("page.png");
    let flag = format!("--screenshot={}", shot.display());
    browse(
        &chromium,
        &dir.join("profile"),
        &url,
        &[&flag, "--window-size=1280,1400", "--hide-scrollbars"],
    );
    let (w, h, rgb) = pixels(&shot);
    assert_eq!((w, h), (1280, 1400));
    let mut colours = std::collections::HashMap::new();
    for p in &rgb {
        *colours.entry(*p).or_insert(0usize) += 1;
    }
    let commonest = colours.values().max().copied().unwrap_or(0);
    // Not blank: many colours (text, lines, pills), no one colour nearly everywhere, and
    // the chart's blue line (#1f6feb, anti-aliased) drawn over a good number of pixels.
    let blue = rgb
        .iter()
        .filter(|p| p[0] < 80 && (90..=140).contains(&p[1]) && p[2] > 200)
        .count();
    eprintln!(
        "browser test: screenshot {} ({w}x{h}, {} bytes): {} colours, commonest {:.1} %, {blue} chart-blue pixels",
        shot.display(),
        std::fs::metadata(&shot).map_or(0, |m| m.len()),
        colours.len(),
        100.0 * commonest as f64 / rgb.len() as f64,
    );
    if let Some(copy) = std::env::var_os("MESOS_MINER_SCREENSHOT") {
        let _ = std::fs::copy(&shot, copy);
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

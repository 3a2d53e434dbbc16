//! The `hash`, `scan` and `bench` subcommands as a user runs them: the real binary, its
//! stdout, stderr and exit code.

use std::process::{Command, Output};

fn miner(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-miner"))
        .args(args)
        .output()
        .expect("run mesos-miner")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Blocks 0, 100000, 125552 (stratum.md Part A.2): version, prev and merkle (display hex),
/// time, bits, nonce, block hash.
const REAL: [(u32, &str, &str, u32, u32, u32, &str); 3] = [
    (
        1,
        "0000000000000000000000000000000000000000000000000000000000000000",
        "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
        1231006505,
        0x1d00ffff,
        2083236893,
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
    ),
    (
        1,
        "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250",
        "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766",
        1293623863,
        0x1b04864c,
        274148111,
        "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506",
    ),
    (
        1,
        "00000000000008a3a41b85b8b29ad444def299fee21793cd8b9e567eab02cd81",
        "2b12fcf1b09288fcaff797d71e950e71ae42b91e8bdb2304758dfcffc2b620e3",
        1305998791,
        0x1a44b9f2,
        2504433986,
        "00000000000000001e8d6829a8a21adc5d38d0a473b144b6765798e61f98bd1d",
    ),
];

/// The serialized header in hex, with the given nonce.
fn header_hex(row: usize, nonce: u32) -> String {
    let (version, prev, merkle, time, bits, _, _) = REAL[row];
    let reversed = |display: &str| {
        let mut bytes = hex::decode(display).expect("test hex");
        bytes.reverse();
        hex::encode(bytes)
    };
    format!(
        "{}{}{}{}{}{}",
        hex::encode(version.to_le_bytes()),
        reversed(prev),
        reversed(merkle),
        hex::encode(time.to_le_bytes()),
        hex::encode(bits.to_le_bytes()),
        hex::encode(nonce.to_le_bytes()),
    )
}

#[test]
fn hash_prints_the_genesis_block_hash() {
    let out = miner(&["hash", &header_hex(0, REAL[0].5)]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f\n"
    );
}

#[test]
fn scan_around_each_real_block_finds_exactly_its_nonce() {
    for (row, (_, _, _, _, bits, nonce, hash)) in REAL.into_iter().enumerate() {
        // The header's own nonce field is ignored: give it zero.
        let header = header_hex(row, 0);
        let (start, bits) = ((nonce - 1000).to_string(), format!("{bits:08x}"));
        let out = miner(&[
            "scan", "--header", &header, "--start", &start, "--count", "2000", "--bits", &bits,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout(&out), format!("nonce={nonce} hash={hash}\n"));
    }
}

#[test]
fn scan_prints_every_hit_in_increasing_order() {
    // Difficulty 1/65536: about one hash in 2^16 qualifies; 600k nonces give several.
    let header = header_hex(1, 0);
    let out = miner(&[
        "scan",
        "--header",
        &header,
        "--start",
        "1000",
        "--count",
        "600000",
        "--target",
        "0000ffff00000000000000000000000000000000000000000000000000000000",
        "--threads",
        "3",
    ]);
    assert!(out.status.success());
    let text = stdout(&out);
    let nonces: Vec<u64> = text
        .lines()
        .map(|line| {
            let (nonce, hash) = line.split_once(' ').expect("two fields");
            assert!(hash.starts_with("hash=0000"), "{line}");
            nonce
                .strip_prefix("nonce=")
                .expect("nonce=")
                .parse()
                .expect("decimal")
        })
        .collect();
    assert!(nonces.len() >= 3, "{text}");
    assert!(nonces.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(nonces.iter().all(|n| (1000..601_000).contains(n)));
    // Difficulty 1/65536 is exactly that target (diff1 = 0xffff << 208): the same lines.
    let again = miner(&[
        "scan",
        "--header",
        &header,
        "--start",
        "1000",
        "--count",
        "600000",
        "--difficulty",
        "0.0000152587890625",
        "--kernel",
        "portable",
    ]);
    assert!(again.status.success());
    assert_eq!(stdout(&again), text);
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let good = header_hex(0, 0);
    let short = "00".repeat(79);
    let scan = |header: &str, rest: &str| -> Vec<String> {
        let mut args = vec!["scan".to_string(), "--header".into(), header.into()];
        args.extend(rest.split(' ').map(String::from));
        args
    };
    let words = |line: &str| -> Vec<String> { line.split(' ').map(String::from).collect() };
    let cases = [
        (scan("zz", "--start 0 --count 5 --bits 1d00ffff"), "header"),
        (
            scan(&short, "--start 0 --count 5 --bits 1d00ffff"),
            "80 bytes",
        ),
        (scan(&good, "--start 0 --count 0 --bits 1d00ffff"), "count"),
        (
            scan(&good, "--start 4294967295 --count 2 --bits 1d00ffff"),
            "2^32",
        ),
        (
            scan(&good, "--start 0 --count 5 --bits 1d80ffff"),
            "negative",
        ),
        (
            scan(&good, "--start 0 --count 5 --bits 2300ffff"),
            "overflows",
        ),
        (scan(&good, "--start 0 --count 5 --bits xyz"), "bits"),
        (
            scan(&good, "--start 0 --count 5 --difficulty -3"),
            "difficulty",
        ),
        (scan(&good, "--start 0 --count 5 --target 12"), "target"),
        (
            scan(&good, "--start 0 --count 5 --bits 1d00ffff --kernel turbo"),
            "unknown kernel",
        ),
        (
            scan(&good, "--start 0 --count 5 --bits 1d00ffff --threads 0"),
            "threads",
        ),
        (words("bench --seconds 0"), "seconds"),
        (words("bench --kernel sha-3"), "unknown kernel"),
        (words("hash 1234"), "80 bytes"),
    ];
    for (args, needle) in cases {
        let out = miner(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn scan_without_a_target_or_with_two_is_a_usage_error() {
    let good = header_hex(0, 0);
    for extra in [&[][..], &["--bits", "1d00ffff", "--difficulty", "1"][..]] {
        let mut args = vec!["scan", "--header", &good, "--start", "0", "--count", "5"];
        args.extend_from_slice(extra);
        let out = miner(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn bench_json_summary_is_the_last_line() {
    let out = miner(&["bench", "--seconds", "1", "--threads", "2", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let last = text.lines().last().expect("output");
    let summary: serde_json::Value = serde_json::from_str(last).expect("JSON last line");
    let kernel = summary["kernel"].as_str().expect("kernel");
    assert!(
        ["avx512", "avx2", "sha-ni", "portable"].contains(&kernel),
        "{kernel}"
    );
    assert_eq!(summary["threads"], 2);
    let seconds = summary["seconds"].as_f64().expect("seconds");
    assert!(seconds >= 1.0, "{seconds}");
    let hashes = summary["hashes"].as_u64().expect("hashes");
    assert!(hashes > 0);
    let rate = summary["hashrate"].as_f64().expect("hashrate");
    assert!((rate - hashes as f64 / seconds).abs() <= rate * 1e-9);
    // The progress lines name the kernel too.
    assert!(
        text.lines()
            .any(|l| l.contains(&format!("kernel {kernel}"))),
        "{text}"
    );
}

/// `bench` with an environment (the self-test fault hook) and a time limit.
fn bench_env(fault: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mesos-miner"));
    cmd.arg("bench").args(args);
    match fault {
        Some(kernel) => cmd.env("MESOS_MINER_TEST_KERNEL_FAULT", kernel),
        None => cmd.env_remove("MESOS_MINER_TEST_KERNEL_FAULT"),
    };
    cmd.output().expect("run mesos-miner bench")
}

/// The kernels this host can run, as `bench --kernel all --json` lists them.
fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn bench_says_whether_headers_roll_their_version() {
    for (flag, rolling, phrase) in [
        (
            None,
            true,
            "headers eight versions at a time (version rolling)",
        ),
        (
            Some("--no-version-rolling"),
            false,
            "one header at a time (no version rolling)",
        ),
    ] {
        let mut args = vec![
            "--kernel",
            "auto",
            "--seconds",
            "0.3",
            "--threads",
            "1",
            "--json",
        ];
        args.extend(flag);
        let out = bench_env(None, &args);
        let text = stdout(&out);
        assert!(out.status.success(), "{text}");
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("bench: kernel ") && first.ends_with(phrase),
            "{text}"
        );
        let rows = json_lines(&text);
        assert_eq!(rows.len(), 1, "{text}");
        assert_eq!(rows[0]["version_rolling"], rolling, "{text}");
        assert!(rows[0]["hashes"].as_u64().unwrap() > 0, "{text}");
    }
}

#[test]
fn bench_all_rates_every_kernel_in_one_table_and_one_json_object_each() {
    let out = bench_env(
        None,
        &[
            "--kernel",
            "all",
            "--seconds",
            "0.3",
            "--threads",
            "1",
            "--json",
        ],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let rows = json_lines(&text);
    let names: Vec<&str> = rows.iter().map(|r| r["kernel"].as_str().unwrap()).collect();
    assert!(names.contains(&"portable"), "{text}");
    assert_eq!(names.last(), Some(&"portable"), "{text}");
    for row in &rows {
        assert_eq!(row["threads"], 1, "{row}");
        assert!(row["hashes"].as_u64().unwrap() > 0, "{row}");
        assert_eq!(row["interrupted"], false, "{row}");
        assert_eq!(row["version_rolling"], true, "{row}");
        let name = row["kernel"].as_str().unwrap();
        // Each kernel's run names it and its passed self-test, and the table has its row.
        let head = format!("bench: kernel {name}, self-test passed (");
        assert!(text.lines().any(|l| l.starts_with(&head)), "{text}");
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{name:<8}  "))),
            "{text}"
        );
    }
    assert!(
        text.contains("kernel    hashrate (1 thread)  hashes"),
        "{text}"
    );
    assert!(text.contains(", 1 thread, 0.3 s"), "{text}");
    assert!(!text.contains("1 threads"), "{text}");
}

#[test]
fn bench_time_limit_is_the_seconds_flag() {
    let out = bench_env(None, &["--time-limit", "0.5", "--threads", "2", "--json"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let summary = json_lines(&text).pop().expect("JSON line");
    assert!(summary["seconds"].as_f64().unwrap() >= 0.5, "{summary}");
    assert!(text.contains(", 2 threads, 0.5 s"), "{text}");
}

/// A kernel made to disagree with the scalar one (the test-only fault hook) is refused by
/// name with one clear error, and `auto` warns once, naming it, and uses another.
#[test]
fn a_kernel_failing_its_self_test_is_refused_and_never_chosen() {
    let all = stdout(&bench_env(
        None,
        &["--kernel", "all", "--seconds", "0.1", "--json"],
    ));
    let kernels: Vec<String> = json_lines(&all)
        .iter()
        .map(|r| r["kernel"].as_str().unwrap().to_owned())
        .collect();
    for kernel in &kernels {
        let named = bench_env(Some(kernel), &["--kernel", kernel, "--seconds", "0.1"]);
        let err = String::from_utf8_lossy(&named.stderr);
        assert_eq!(named.status.code(), Some(2), "{kernel}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        let expect = format!("kernel {kernel} failed its start-up self-test and is not used: ");
        assert!(err.contains(&expect), "{err}");
        assert!(named.stdout.is_empty());
        if kernel == "portable" {
            continue; // The reference itself: `auto` would fall back to it anyway.
        }
        let auto = bench_env(Some(kernel), &["--seconds", "0.1", "--json"]);
        let (text, err) = (stdout(&auto), String::from_utf8_lossy(&auto.stderr));
        assert!(auto.status.success(), "{err}");
        let chosen = json_lines(&text).pop().expect("JSON line");
        assert_ne!(chosen["kernel"].as_str(), Some(kernel.as_str()), "{text}");
        let warnings: Vec<&str> = err.lines().filter(|l| l.contains("WARN")).collect();
        assert_eq!(warnings.len(), 1, "{err}");
        let expect = format!("kernel {kernel} is not used: self-test FAILED: {kernel}: ");
        assert!(warnings[0].contains(&expect), "{err}");
    }
}

#[test]
fn ctrl_c_ends_the_bench_with_its_total_and_json_line() {
    use std::io::{BufRead, BufReader, Read};
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-miner"))
        .args(["bench", "--seconds", "600", "--threads", "1", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start bench");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    reader.read_line(&mut first).expect("first line");
    // The first line comes after the signal handlers are in place.
    assert!(first.starts_with("bench: kernel "), "{first}");
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()));
    let mut rest = String::new();
    reader.read_to_string(&mut rest).expect("the rest");
    let status = child.wait().expect("bench exits");
    assert!(status.success(), "{status:?}: {rest}");
    let total = rest
        .lines()
        .find(|l| l.starts_with("total: "))
        .expect(&rest);
    assert!(total.contains("(1 thread, kernel "), "{total}");
    assert!(total.ends_with(", interrupted"), "{total}");
    let summary = json_lines(&rest).pop().expect("JSON line");
    assert_eq!(summary["interrupted"], true, "{summary}");
    assert!(summary["seconds"].as_f64().unwrap() < 600.0);
}

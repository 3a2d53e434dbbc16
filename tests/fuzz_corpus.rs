//! The fuzz corpora replayed on stable (issue 11 "Fuzzing"): every file of
//! `fuzz/corpus/<target>/` goes through the target's body in `testkit::fuzz`, the function
//! the `fuzz/` crate's libFuzzer target calls, so a fixed finding stays fixed without nightly.
//! A body that panics on any file fails its test, naming the files.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use testkit::fuzz::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted (so a failure names the same file every run).
fn files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `body` on every file; the names of the files it panicked on, and how many ran.
fn replay(dir: &Path, body: fn(&[u8])) -> (Vec<String>, usize) {
    let files = files(dir);
    let mut failed = Vec::new();
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if catch_unwind(AssertUnwindSafe(|| body(&data))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    (failed, files.len())
}

fn replay_target(name: &str) {
    let (_, body) = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fuzz target {name} in testkit::fuzz::TARGETS"));
    let (failed, ran) = replay(&fuzz_dir().join("corpus").join(name), *body);
    assert!(ran > 0, "the corpus of {name} is empty");
    assert!(failed.is_empty(), "{name} panicked on {failed:#?}");
}

macro_rules! corpus_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay_target(stringify!($name));
            }
        )*

        /// The tests above, the body table and the libFuzzer targets name the same targets.
        #[test]
        fn every_target_is_replayed_and_fuzzed() {
            let tested = [$(stringify!($name)),*];
            let table: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
            assert_eq!(table, tested, "testkit::fuzz::TARGETS and this file differ");
            let mut fuzzed: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
                .iter()
                .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .collect();
            fuzzed.sort();
            let mut table: Vec<String> = table.iter().map(|n| n.to_string()).collect();
            table.sort();
            assert_eq!(fuzzed, table, "fuzz/fuzz_targets and testkit::fuzz::TARGETS differ");
        }
    };
}

corpus_tests!(
    stratum_codec,
    stratum_client,
    stratum_server,
    pool_rpc,
    mesos_recordio,
    mesos_protobuf,
    mesos_json,
    cluster_http,
    executor_env,
    scheduler_report,
);

/// The replay itself fails when a body panics on one file, and names that file.
#[test]
fn a_panicking_body_fails_the_replay() {
    fn picky(data: &[u8]) {
        assert!(
            !data.starts_with(b"{\"type\":\"SUBSCRIBE\""),
            "refuses subscribes"
        );
    }
    let dir = std::env::temp_dir().join(format!("fuzz-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    std::fs::write(dir.join("a"), b"{\"type\":\"HEARTBEAT\"}").unwrap_or_default();
    std::fs::write(dir.join("b"), b"{\"type\":\"SUBSCRIBE\"}").unwrap_or_default();
    let (failed, ran) = replay(&dir, picky);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(ran, 2);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].ends_with("b"), "{failed:?}");
}

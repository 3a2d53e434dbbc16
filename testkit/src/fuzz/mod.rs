//! The bodies of the fuzz targets (issue 11 "Fuzzing"): one function per target, taking the
//! raw input, that must never panic on any input and panics (so libFuzzer and the corpus
//! replay report it) when a property of the parser under test fails: a round trip that
//! does not come back equal, a bound that is exceeded, a session that answers with a line
//! it cannot parse itself.
//!
//! Owns: the input formats of the targets (each module documents its own) and the
//! properties checked. Does not own: any parser; everything here calls the crates' public
//! (or `#[doc(hidden)]`) entry points. The `fuzz/` crate wraps each body in
//! `fuzz_target!`; `tests/fuzz_corpus.rs` runs each body over `fuzz/corpus/<target>/*`.

pub mod cluster;
pub mod mesos;
pub mod payloads;
pub mod pool;
pub mod stratum;

/// One fuzz target: its name (the directory under `fuzz/corpus/` and the
/// `fuzz/fuzz_targets/<name>.rs` file) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, in the order the README lists them.
pub const TARGETS: &[Target] = &[
    ("stratum_codec", stratum::codec),
    ("stratum_client", stratum::client),
    ("stratum_server", stratum::server),
    ("pool_rpc", pool::rpc_reply),
    ("mesos_recordio", mesos::recordio),
    ("mesos_protobuf", mesos::protobuf),
    ("mesos_json", mesos::json),
    ("cluster_http", cluster::http),
    ("executor_env", payloads::executor_env),
    ("scheduler_report", payloads::scheduler_report),
];

/// Splits `data` at its first byte: the byte (0 for empty input) and the rest. Targets use
/// it to pick options, so the fuzzer can flip them with one mutation.
pub(crate) fn split_first(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (*first, rest),
        None => (0, data),
    }
}

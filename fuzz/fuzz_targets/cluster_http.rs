//! Fuzz target `cluster_http`: the body is `testkit::fuzz::cluster::http` (input format and checks there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::cluster::http(data));

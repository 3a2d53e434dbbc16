//! Fuzz target `stratum_server`: the body is `testkit::fuzz::stratum::server` (input format and checks there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::stratum::server(data));

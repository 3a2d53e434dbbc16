//! Fuzz target `stratum_client`: the body is `testkit::fuzz::stratum::client` (input format and checks there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::stratum::client(data));

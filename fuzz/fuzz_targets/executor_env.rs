//! Fuzz target `executor_env`: the body is `testkit::fuzz::payloads::executor_env` (input format and checks there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::payloads::executor_env(data));

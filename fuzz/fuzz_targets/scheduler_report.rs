//! Fuzz target `scheduler_report`: the body is `testkit::fuzz::payloads::scheduler_report` (input format and checks there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::payloads::scheduler_report(data));

//! Fuzz target `mesos_json`: the body is `testkit::fuzz::mesos::json` (input format and checks there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::mesos::json(data));

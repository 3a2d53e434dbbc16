//! Fuzz target `mesos_recordio`: the body is `testkit::fuzz::mesos::recordio` (input format and checks there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::mesos::recordio(data));

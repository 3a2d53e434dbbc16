//! Fuzz target `mesos_protobuf`: the body is `testkit::fuzz::mesos::protobuf` (input format and checks there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::mesos::protobuf(data));

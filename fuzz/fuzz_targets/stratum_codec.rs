//! Fuzz target `stratum_codec`: the body is `testkit::fuzz::stratum::codec` (input format and checks there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::stratum::codec(data));

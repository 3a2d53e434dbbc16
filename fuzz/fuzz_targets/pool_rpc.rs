//! Fuzz target `pool_rpc`: the body is `testkit::fuzz::pool::rpc_reply` (input format and checks there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::pool::rpc_reply(data));

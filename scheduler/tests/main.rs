//! Driver tests: the real scheduler (HTTP driver, store, web) against the local cluster on
//! 127.0.0.1, with a protocol-only stand-in executor fetched from the scheduler's own
//! `/executor/<sha256>/mesos-miner` URL. They assert behaviour and wait generously; no test
//! depends on how fast anything happens.

mod driver;

//! The pool's integration tests, one binary: the demo mode through a raw Stratum client
//! (`demo`), and the pool against real regtest nodes (`regtest`, its block store in
//! `regtest_blocks`; they need the node from scripts/regtest-node.sh or
//! MESOS_MINER_BITCOIND). The raw Stratum client is testkit's.

mod demo;
mod hostile;
mod regtest;
mod regtest_blocks;

//! miner-core's integration tests, one binary: the nonce search against the reference
//! sha256d (`engine_search`), every kernel against `sha2` (`kernels`), Stratum job → header
//! (`worker_work`), and the worker against testkit's fake pools (`worker_stratum`,
//! `worker_tls_api`, hostile pools in `worker_hostile`, log redaction in `worker_logs`, with the worker side in `support`).

mod engine_search;
mod kernels;
mod support;
mod worker_hostile;
mod worker_logs;
mod worker_stratum;
mod worker_tls_api;
mod worker_work;

//! sha256d kernels with run-time CPU dispatch, nonce search on rayon, targets, and the Stratum worker

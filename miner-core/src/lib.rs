//! The mining engine: sha256d kernels chosen at run time from CPU features, the nonce
//! search on its own rayon pool, targets and difficulty, and the Stratum worker.
//!
//! It owns everything between "a block header template" and "a nonce that meets a target".
//! It does not own the Stratum wire protocol (the `stratum` crate) nor any Mesos code.

pub mod kernels;
pub mod work;

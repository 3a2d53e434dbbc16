//! The mining engine: sha256d kernels chosen at run time from CPU features, the nonce
//! search on its own rayon pool, targets and difficulty, and the Stratum worker.
//!
//! It owns everything between "a block header template" and "a nonce that meets a target".
//! It does not own the Stratum wire protocol (the `stratum` crate) nor any Mesos code.

pub mod kernels;
pub mod meter;
pub mod search;
pub mod target;
mod wide;
pub mod work;
pub mod worker;

pub use meter::{Meter, Rates};
pub use search::{FixedHeader, Found, Miner, ScanJob, SearchError, WorkSource};
pub use target::{DIFF1, Difficulty, Target, TargetError, hash_difficulty};

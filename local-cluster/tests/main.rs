//! Integration tests of the local cluster over real HTTP on 127.0.0.1.
//!
//! One test binary for the crate (links once); each module is one former test file.

mod agent_api;
mod common;
mod docker;
mod end_to_end;
mod faults;
mod fidelity;
mod limits;
mod scheduler_api;

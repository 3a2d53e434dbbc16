//! Integration tests of `proto` against the recordings of a real Mesos (`testdata/`).
//!
//! One test binary for the crate (links once); each module is one former test file.

mod builders;
mod common;
mod defaults;
mod env_durations;
mod json;
mod recordio_splits;
mod roundtrip;
mod streams;
mod text_dumps;
mod transcripts;

//! Integration tests of the Stratum sessions: an in-memory pair and properties.
//!
//! One test binary for the crate (links once); each module is one former test file.

mod pair;
mod properties;

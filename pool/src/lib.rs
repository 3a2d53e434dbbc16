//! The built-in Stratum pool server: bitcoind block templates, jobs, share checks, block submission

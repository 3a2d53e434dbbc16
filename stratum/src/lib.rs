//! Stratum v1: messages, a bounded line codec, and client and server sessions as sans-IO state machines

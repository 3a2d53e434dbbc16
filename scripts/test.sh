#!/usr/bin/env bash
# The project's whole test run on a fresh machine: installs what the tests need, then runs
# every test target, the doctests, clippy (warnings are errors) and the format check.
set -euo pipefail
cd "$(dirname "$0")/.."

# The pool and framework tests run a real regtest bitcoind (spec/stratum.md Part B.4).
MESOS_MINER_BITCOIND="${MESOS_MINER_BITCOIND:-$(scripts/regtest-node.sh)}"
export MESOS_MINER_BITCOIND

# One build from scratch: incremental caches would only double the target dir's size.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# `--all-targets` builds benches and examples too but skips doctests; they run next.
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
cargo clippy --workspace --all-targets -- -D warnings
cargo fmt --all -- --check

#!/usr/bin/env bash
# The project's whole test run on a fresh machine: installs what the tests need, then runs them.
set -euo pipefail
cd "$(dirname "$0")/.."

# The pool tests run a real regtest bitcoind (spec/stratum.md Part B.4); fetch it first.
MESOS_MINER_BITCOIND="${MESOS_MINER_BITCOIND:-$(scripts/regtest-node.sh)}"
export MESOS_MINER_BITCOIND

cargo test --workspace --all-targets "$@"

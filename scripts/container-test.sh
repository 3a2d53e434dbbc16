#!/usr/bin/env bash
# Builds the project's image with podman on a host without an image registry and runs it:
# `mesos-miner --version` and `mesos-miner bench --seconds 3` inside the image. Does all of
# the setup itself, idempotently (a second run reuses the base images and the build cache):
#
#   1. installs podman, runc and debootstrap from Debian's packages when missing;
#   2. writes a containers.conf for this host: `crun` refuses its hybrid cgroups, so runc
#      with the cgroupfs manager, and no default ulimits (podman's defaults exceed the
#      limits a nested container may set);
#   3. makes the two base images locally: a Debian rootfs by debootstrap, imported as the
#      runtime base; the builder base is that plus gcc and the host's own Rust toolchain
#      (Debian's rustc is older than the workspace's rust-version) and crate cache, so the
#      build inside needs no toolchain download;
#   4. builds the Dockerfile with those bases as its build arguments, and the p2pool
#      stand-in image the framework tests use (scripts/container/p2pool-standin/);
#   5. runs the image.
#
# Usage: scripts/container-test.sh [--build-only] [--head] [--test]
#   --build-only  build the images, run nothing
#   --head        build the last commit (`git archive HEAD`) instead of the work tree, e.g.
#                 while the tree holds unfinished edits
#   --test        then run the container tests (tests/framework/docker.rs and
#                 local-cluster/tests/docker.rs) with this script's containers.conf
# Prints, last, the lines `image=...` and `standin=...`; the framework tests read
# MESOS_MINER_IMAGE / MESOS_MINER_P2POOL_IMAGE (defaults: the same names) and
# CONTAINERS_CONF (the file this script writes: target/container/containers.conf).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
state="$repo/target/container"
image="${MESOS_MINER_IMAGE:-localhost/mesos-miner:dev}"
standin="${MESOS_MINER_P2POOL_IMAGE:-localhost/mesos-miner-p2pool-standin:dev}"
suite="bookworm"
build_only=false
from_head=false
run_tests=false
for arg in "$@"; do
    case "$arg" in
        --build-only) build_only=true ;;
        --head) from_head=true ;;
        --test) run_tests=true ;;
        *) echo "usage: $0 [--build-only] [--head] [--test]" >&2; exit 2 ;;
    esac
done

log() { echo "container-test: $*" >&2; }

# --- 1. tools
missing=()
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        log "missing ${missing[*]}: install them (Debian: apt-get install podman runc debootstrap)"
        exit 1
    fi
    log "installing ${missing[*]}"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap >&2
fi

# --- 2. containers.conf
mkdir -p "$state"
export CONTAINERS_CONF="$state/containers.conf"
cat >"$CONTAINERS_CONF" <<'CONF'
# Written by scripts/container-test.sh for hosts whose cgroups crun refuses.
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF

# The Debian mirror this host's apt uses (debootstrap needs one; none is written here).
mirror="${DEBIAN_MIRROR:-}"
if [[ -z "$mirror" ]]; then
    mirror="$(grep -hoE '^(URIs:|deb) +[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | awk '{print $2}' | grep -v security | head -n1 || true)"
fi
[[ -n "$mirror" ]] || { log "no Debian mirror found in apt's sources; set DEBIAN_MIRROR"; exit 1; }

have_image() { podman image exists "$1"; }

# --- 3. base images
runtime_base="localhost/mesos-miner-base/debian:$suite"
if ! have_image "$runtime_base"; then
    log "debootstrap $suite (minbase) for $runtime_base"
    rootfs="$state/rootfs"
    rm -rf "$rootfs"
    debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$state/debootstrap.log" 2>&1 \
        || { log "debootstrap failed, see $state/debootstrap.log"; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$runtime_base" >/dev/null
    rm -rf "$rootfs"
fi

toolchain="$(dirname "$(dirname "$(rustup which rustc 2>/dev/null || command -v rustc)")")"
rust_version="$("$toolchain/bin/rustc" --version | awk '{print $2}')"
builder_base="localhost/mesos-miner-base/rust:$rust_version-$suite"
if ! have_image "$builder_base"; then
    log "builder base $builder_base: gcc + the host's toolchain ($toolchain) + crate cache"
    registry="${CARGO_HOME:-$HOME/.cargo}/registry"
    mkdir -p "$registry"
    podman rm -f mesos-miner-builder-base >/dev/null 2>&1 || true
    podman run --name mesos-miner-builder-base --network host \
        -v "$toolchain:/host/rust:ro" -v "$registry:/host/registry:ro" "$runtime_base" \
        sh -ec 'apt-get update -q
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gcc libc6-dev ca-certificates
                rm -rf /var/lib/apt/lists/*
                mkdir -p /usr/local/rust /usr/local/cargo/registry
                for d in bin lib libexec etc; do [ -e /host/rust/$d ] && cp -a /host/rust/$d /usr/local/rust/; done
                for d in index cache; do [ -e /host/registry/$d ] && cp -a /host/registry/$d /usr/local/cargo/registry/; done
                true' >"$state/builder-base.log" 2>&1 \
        || { log "builder base failed, see $state/builder-base.log"; exit 1; }
    podman commit \
        --change 'ENV CARGO_HOME=/usr/local/cargo' \
        --change 'ENV PATH=/usr/local/rust/bin:/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        mesos-miner-builder-base "$builder_base" >/dev/null
    podman rm mesos-miner-builder-base >/dev/null
fi

# --- 4. the images
context="$repo"
if $from_head; then
    context="$state/context"
    rm -rf "$context" && mkdir -p "$context"
    git -C "$repo" archive HEAD | tar -x -C "$context"
fi
log "building $image from $context (log: $state/build.log)"
start=$(date +%s)
podman build --network host --pull=never -f "$repo/Dockerfile" \
    --build-arg RUST_IMAGE="$builder_base" --build-arg RUNTIME_IMAGE="$runtime_base" \
    -t "$image" "$context" >"$state/build.log" 2>&1 \
    || { tail -n 30 "$state/build.log" >&2; log "image build failed, see $state/build.log"; exit 1; }
log "built $image in $(($(date +%s) - start)) s"
podman build --pull=never --build-arg BASE_IMAGE="$image" -t "$standin" \
    "$repo/scripts/container/p2pool-standin" >"$state/standin-build.log" 2>&1 \
    || { log "stand-in build failed, see $state/standin-build.log"; exit 1; }

# --- 5. run it
if ! $build_only; then
    podman run --rm --network host "$image" --version
    podman run --rm --network host "$image" bench --seconds 3
fi
if $run_tests; then
    MESOS_MINER_IMAGE="$image" MESOS_MINER_P2POOL_IMAGE="$standin" \
        cargo test --manifest-path "$repo/Cargo.toml" --test integration framework::docker >&2
    MESOS_MINER_IMAGE="$image" \
        cargo test --manifest-path "$repo/Cargo.toml" -p local-cluster --test integration docker:: >&2
fi
echo "image=$image"
echo "standin=$standin"

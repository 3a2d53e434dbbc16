# syntax=docker/dockerfile:1
# One image that is the executor, the pool, the miner or the scheduler by argument
# (`ENTRYPOINT ["mesos-miner"]`): the scheduler's `--docker-image` runs `IMAGE executor` on
# the agents (Mesos's Docker containerizer appends CommandInfo.value to the image's
# entrypoint when shell is false).
#
# Base images are build arguments so that a host without a registry can build from local
# images (scripts/container-test.sh makes them with debootstrap); the defaults are the
# public ones. The builder's glibc must not be newer than the runtime's: keep both on the
# same Debian release.
ARG RUST_IMAGE=docker.io/library/rust:1.89-slim-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

# --- planner: the workspace's manifests with every Rust source replaced by a stub, so the
# dependency layer below is rebuilt only when a manifest, the lock file or the set of
# source files changes (the idea of cargo-chef, without the tool).
FROM ${RUST_IMAGE} AS planner
WORKDIR /src
COPY . .
# The file names reach the inner shell as parameters ("$f"), not spliced into its script:
# SC2156 cannot tell `sh {} +` from `sh -c "... {}"`. (No `{}` inside the script itself:
# find would take it for the file name.)
# hadolint ignore=SC2156
RUN find . -name '*.rs' -exec sh -c 'for f do echo "fn main() { }" > "$f"; done' sh {} + \
    && find . -type f ! -name 'Cargo.toml' ! -name 'Cargo.lock' ! -name '*.rs' -delete

# --- builder: dependencies first (cached layer), then the workspace itself. The release
# profile keeps line tables (debug = 1) for backtraces; they are compressed, not stripped.
FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY --from=planner /src/ ./
RUN cargo fetch --locked \
    && cargo build --release --locked --offline -p mesos-miner --bin mesos-miner
COPY . .
# COPY keeps the sources' older mtimes; cargo would take the stub build for fresh.
RUN find . -name '*.rs' -exec touch {} + \
    && cargo build --release --locked --offline -p mesos-miner --bin mesos-miner \
    && install -m 0755 target/release/mesos-miner /usr/local/bin/mesos-miner \
    && objcopy --compress-debug-sections=zlib /usr/local/bin/mesos-miner

# --- runtime: the binary and CA certificates (for pools over TLS and Mesos over HTTPS).
FROM ${RUNTIME_IMAGE} AS runtime
# The release's current ca-certificates is wanted, not a pin that the base-image argument
# would have to match (DL3008).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
    && useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin miner
COPY --from=builder /usr/local/bin/mesos-miner /usr/local/bin/mesos-miner
USER 10001:10001
ENTRYPOINT ["mesos-miner"]
CMD ["--help"]

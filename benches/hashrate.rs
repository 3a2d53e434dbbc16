//! `cargo bench --bench hashrate`: hashrate of every sha256d kernel this CPU can run, on
//! one thread, one header at a time (`sha256d_one_thread`) and eight versions of a header
//! at a time as version rolling gives them (`sha256d_eight_versions`). Criterion's `elem/s`
//! is hashes per second (one element is one sha256d of an 80-byte header). The whole
//! search on several threads is `benches/scan.rs`.
//!
//! Kept short on purpose (small samples, two seconds per kernel) so it takes seconds; use
//! `mesos-miner bench` for long runs.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use miner_core::kernels::{HeaderWork, Kernel, MAX_VERSIONS, available, select};

/// Nonces per measured call: large enough that per-call set-up is noise.
const CHUNK: u32 = 1 << 14;

/// The genesis header (Part A.2 of the Stratum notes); its nonce field is ignored.
fn header() -> [u8; 80] {
    let mut h = [0u8; 80];
    h[0] = 1;
    let merkle = "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a";
    for (i, b) in h[36..68].iter_mut().enumerate() {
        *b = u8::from_str_radix(&merkle[2 * i..2 * i + 2], 16).expect("hex literal");
    }
    h[68..72].copy_from_slice(&1231006505u32.to_le_bytes());
    h[72..76].copy_from_slice(&0x1d00ffffu32.to_le_bytes());
    h
}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    group
}

/// Group `name`: every available kernel, each call `scan(kernel, start, found)` doing
/// [`CHUNK`] hashes over `nonces` nonces from `start`.
fn each_kernel<T>(
    c: &mut Criterion,
    name: &str,
    nonces: u32,
    scan: impl Fn(&dyn Kernel, u32, &mut Vec<T>) -> u64,
) {
    let mut group = configure(c, name);
    group.throughput(Throughput::Elements(u64::from(CHUNK)));
    for kind in available() {
        let kernel = select(kind).expect("available kernels can be selected");
        let mut found = Vec::new();
        let mut start = 0u32;
        group.bench_function(BenchmarkId::from_parameter(kind), |b| {
            b.iter(|| {
                found.clear();
                let n = scan(kernel, start, &mut found);
                // Stay below 2^31 so `start + nonces` never passes the end of the nonces.
                start = (start + nonces) & 0x7fff_ffff;
                black_box(n)
            })
        });
    }
    group.finish();
}

fn one_thread(c: &mut Criterion) {
    let work = HeaderWork::new(&header());
    each_kernel(c, "sha256d_one_thread", CHUNK, |k, start, found| {
        k.scan(&work, start, CHUNK, 0, found)
    });
}

fn eight_versions(c: &mut Criterion) {
    let works: Vec<HeaderWork> = (0..MAX_VERSIONS as u32)
        .map(|v| {
            let mut h = header();
            h[0..4].copy_from_slice(&(0x2000_0000 | v << 13).to_le_bytes());
            HeaderWork::new(&h)
        })
        .collect();
    // The same hashes per call as one header: CHUNK / 8 nonces of each version.
    let nonces = CHUNK / MAX_VERSIONS as u32;
    each_kernel(c, "sha256d_eight_versions", nonces, |k, start, found| {
        k.scan_versions(&works, start, nonces, 0, found)
    });
}

/// Every benchmark of this file, with the command line's settings (what `criterion_group!`
/// expands to, written out so it can have this doc).
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    one_thread(&mut c);
    eight_versions(&mut c);
}
criterion_main!(benches);

//! `cargo bench --bench scan`: the whole nonce search (`Miner::scan_range`) with the `auto`
//! kernel on 1, 2, … up to all cores, so the per-thread scaling is visible (criterion's
//! `elem/s` is hashes per second); and how long `stop` takes on a running job, which bounds
//! how late a thread notices new work (the time shown includes 2 ms of hashing first).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use miner_core::kernels::{KernelKind, select};
use miner_core::search::{Miner, NONCE_SPACE, ScanJob, WorkSource};
use miner_core::target::DIFF1;

/// Nonces per measured scan: a few hundred ms on one core.
const COUNT: u32 = 1 << 21;

/// The genesis header with ntime + index: endless distinct headers.
struct Headers;

impl WorkSource for Headers {
    fn header(&self, index: u64) -> Option<[u8; 80]> {
        let mut h = [0u8; 80];
        h[0] = 1;
        let merkle = "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a";
        for (i, b) in h[36..68].iter_mut().enumerate() {
            *b = u8::from_str_radix(&merkle[2 * i..2 * i + 2], 16).ok()?;
        }
        let time = 1231006505u32.wrapping_add(index as u32);
        h[68..72].copy_from_slice(&time.to_le_bytes());
        h[72..76].copy_from_slice(&0x1d00ffffu32.to_le_bytes());
        Some(h)
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn scan_range_by_threads(c: &mut Criterion) {
    let kernel = select(KernelKind::Auto).expect("auto always has a kernel");
    let header = Headers.header(0).expect("header 0");
    let mut group = c.benchmark_group("scan_range");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(u64::from(COUNT)));
    for threads in 1..=cores() {
        let mut miner = Miner::new(threads, kernel).expect("a rayon pool");
        let id = format!("{}/{threads}_threads", kernel.name());
        let mut start = 0u32;
        group.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| {
                let found = miner
                    .scan_range(header, start, u64::from(COUNT), DIFF1)
                    .expect("scan");
                start = (start + COUNT) & 0x7fff_ffff;
                black_box(found)
            })
        });
    }
    group.finish();
}

fn start_then_stop(c: &mut Criterion) {
    let kernel = select(KernelKind::Auto).expect("auto always has a kernel");
    let miner = Miner::new(cores(), kernel).expect("a rayon pool");
    let mut group = c.benchmark_group("job_switch");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("start_job_then_stop", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::channel();
            let job = ScanJob {
                id: 1,
                source: Arc::new(Headers),
                target: DIFF1,
                nonce_start: 0,
                nonce_count: NONCE_SPACE,
            };
            miner.start_job(job, tx).expect("job");
            // Let every thread get into the nonce loop before asking it to stop.
            std::thread::sleep(Duration::from_millis(2));
            miner.stop();
            black_box(rx.try_iter().count())
        })
    });
    group.finish();
}

/// Every benchmark of this file, with the command line's settings (what `criterion_group!`
/// expands to, written out so it can have this doc).
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    scan_range_by_threads(&mut c);
    start_then_stop(&mut c);
}
criterion_main!(benches);

//! The nonce search: N threads of a dedicated rayon pool scan the nonce space of a job's
//! headers with one [`Kernel`], check every candidate against the full 256-bit target and
//! send the shares through a channel.
//!
//! Work is handed out in *units* of [`CHUNK`] hashes from one atomic counter per job: unit
//! `u` is chunk `u % chunks_per_header` of the nonce range of header group
//! `u / chunks_per_header`, so threads share the nonce range of a header and, when it runs
//! out, move on together to the next header variant the job's [`WorkSource`] produces (the
//! Stratum worker's next extranonce2 / rolled version). A group is one header, or, where
//! the source says consecutive headers differ only in their version
//! ([`WorkSource::version_group`]), up to [`MAX_VERSIONS`] of them scanned together with
//! [`Kernel::scan_versions`], which shares their second block's message schedule; a
//! unit then holds `CHUNK / group` nonces of each. Between units each thread compares the
//! job's generation with the miner's, so a new job or [`Miner::stop`] stops every thread
//! within one chunk (well under a few ms at any kernel speed). Hashing never runs on an
//! async runtime (STYLE.md habit 10).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::kernels::{HeaderWork, Kernel, MAX_VERSIONS, sha256d};
use crate::target::Target;

/// Hashes per unit of work: between two generation checks. Divided by any header group
/// (a power of two up to [`MAX_VERSIONS`]) still a multiple of every kernel's lane count;
/// at 1 MH/s per thread it is 16 ms, at 10 MH/s 1.6 ms.
pub const CHUNK: u32 = 16_384;

/// The whole 32-bit nonce space.
pub const NONCE_SPACE: u64 = 1 << 32;

/// Where a job's headers come from. Header `index` 0, 1, 2, … must each be a distinct
/// header (e.g. extranonce2 = index), and the answer must depend on `index` alone: several
/// threads may ask for the same index. `None` means this and every later index is used up.
pub trait WorkSource: Send + Sync {
    /// The 80-byte header with the given index; its nonce field is ignored.
    fn header(&self, index: u64) -> Option<[u8; 80]>;

    /// How many consecutive headers, from an index that is a multiple of it, differ only in
    /// their version field (bytes 0..4), e.g. the versions of one extranonce2 under BIP 320
    /// version rolling. The search scans up to [`MAX_VERSIONS`] such headers together; the
    /// default, 1, promises nothing. Only speed depends on it: headers of one group that do
    /// differ elsewhere are still scanned correctly, one by one.
    fn version_group(&self) -> u64 {
        1
    }
}

/// A job with exactly one header (index 0), as `scan` and tests use.
#[derive(Clone, Debug)]
pub struct FixedHeader(pub [u8; 80]);

impl WorkSource for FixedHeader {
    fn header(&self, index: u64) -> Option<[u8; 80]> {
        (index == 0).then_some(self.0)
    }
}

/// What to search: every header of `source`, nonces `nonce_start .. nonce_start + nonce_count`.
#[derive(Clone)]
pub struct ScanJob {
    /// Echoed in every [`Found`] so the caller can tell which of its jobs a share is for.
    pub id: u64,
    /// The headers to try (one per extranonce2 / ntime / version variant).
    pub source: Arc<dyn WorkSource>,
    /// A hash at or under this is reported as [`Found`].
    pub target: Target,
    /// First nonce tried in every header.
    pub nonce_start: u32,
    /// At least 1; `nonce_start + nonce_count` at most 2^32.
    pub nonce_count: u64,
}

/// A hash at or under the job's target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The [`ScanJob::id`] it was found in.
    pub job_id: u64,
    /// The miner generation the job ran under (see [`Miner::start_job`]).
    pub generation: u64,
    /// Which header of the job's [`WorkSource`].
    pub header_index: u64,
    /// The winning nonce (also in `header`, bytes 76..80).
    pub nonce: u32,
    /// sha256d of `header`, internal byte order (reverse for display).
    pub hash: [u8; 32],
    /// The header with the nonce filled in.
    pub header: [u8; 80],
}

/// Bad search parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// A miner was asked for zero threads.
    #[error("the number of threads must be at least 1")]
    NoThreads,
    /// A job with `nonce_count` 0.
    #[error("nonce count must be at least 1")]
    EmptyRange,
    /// A job whose nonce range ends past 2^32.
    #[error("nonce range {start} + {count} goes past 2^32")]
    RangeTooLong {
        /// The job's `nonce_start`.
        start: u32,
        /// The job's `nonce_count`.
        count: u64,
    },
    /// The rayon pool could not be built (the error text is given).
    #[error("could not start the search threads: {0}")]
    Pool(String),
}

/// A per-thread hash counter on its own cache lines, so counting never contends.
#[repr(align(128))]
#[derive(Default)]
struct PaddedCounter(AtomicU64);

/// State shared by the miner handle and its threads.
struct Shared {
    generation: AtomicU64,
    hashes: Vec<PaddedCounter>,
    /// Thread runs of any job not yet finished, to let [`Miner::stop`] wait for them.
    running: Mutex<usize>,
    idle: Condvar,
}

/// One job as the threads see it.
struct ActiveJob {
    job: ScanJob,
    generation: u64,
    /// Headers scanned together (a power of two, at most [`MAX_VERSIONS`]).
    group: u64,
    /// Nonces of each header in one unit: `CHUNK / group`.
    chunk: u32,
    chunks_per_header: u64,
    next_unit: AtomicU64,
    threads_left: AtomicUsize,
    /// The last thread to leave drops it, so receivers see the end of the job.
    shares: Mutex<Option<Sender<Found>>>,
}

/// The search threads and the current job. Dropping it stops the threads.
pub struct Miner {
    pool: rayon::ThreadPool,
    kernel: &'static dyn Kernel,
    shared: Arc<Shared>,
}

impl Miner {
    /// Starts a pool of `threads` search threads using `kernel` (as `kernels::select` gives).
    pub fn new(threads: usize, kernel: &'static dyn Kernel) -> Result<Self, SearchError> {
        Self::with_thread_start(threads, kernel, |_| {})
    }

    /// As [`Miner::new`], with `start(index)` run first on each search thread (index
    /// `0..threads`), before it hashes: where a host sets the thread's priority or CPU
    /// affinity, which Linux keeps per thread.
    pub fn with_thread_start(
        threads: usize,
        kernel: &'static dyn Kernel,
        start: impl Fn(usize) + Send + Sync + 'static,
    ) -> Result<Self, SearchError> {
        if threads == 0 {
            return Err(SearchError::NoThreads);
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("miner-{i}"))
            .start_handler(start)
            .build()
            .map_err(|e| SearchError::Pool(e.to_string()))?;
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            hashes: (0..threads).map(|_| PaddedCounter::default()).collect(),
            running: Mutex::new(0),
            idle: Condvar::new(),
        });
        Ok(Miner {
            pool,
            kernel,
            shared,
        })
    }

    /// How many search threads this miner runs.
    pub fn threads(&self) -> usize {
        self.shared.hashes.len()
    }

    /// The SHA-256 kernel chosen for this CPU.
    pub fn kernel(&self) -> &'static dyn Kernel {
        self.kernel
    }

    /// Replaces the current job at once and returns its generation. Shares go to `shares`;
    /// the sender is dropped when every thread is done with this job (range exhausted,
    /// replaced or stopped), so a receiver loop ends with the job.
    pub fn start_job(&self, job: ScanJob, shares: Sender<Found>) -> Result<u64, SearchError> {
        let end = u64::from(job.nonce_start) + job.nonce_count;
        if job.nonce_count == 0 {
            return Err(SearchError::EmptyRange);
        }
        if end > NONCE_SPACE {
            return Err(SearchError::RangeTooLong {
                start: job.nonce_start,
                count: job.nonce_count,
            });
        }
        let generation = self.shared.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let threads = self.threads();
        // The largest power of two within both limits, so a unit stays CHUNK hashes and
        // each header's part of it a multiple of every kernel's lanes.
        let wanted = job.source.version_group().clamp(1, MAX_VERSIONS as u64);
        let group = 1u64 << wanted.ilog2();
        let chunk = CHUNK / group as u32;
        let active = Arc::new(ActiveJob {
            chunks_per_header: job.nonce_count.div_ceil(u64::from(chunk)),
            group,
            chunk,
            job,
            generation,
            next_unit: AtomicU64::new(0),
            threads_left: AtomicUsize::new(threads),
            shares: Mutex::new(Some(shares)),
        });
        *lock(&self.shared.running) += threads;
        let (shared, kernel) = (Arc::clone(&self.shared), self.kernel);
        self.pool.spawn_broadcast(move |ctx| {
            run_thread(&shared, kernel, &active, ctx.index());
            active.leave();
            shared.leave();
        });
        Ok(generation)
    }

    /// Stops the current job and returns once no thread works on it any more: after this,
    /// no share of an earlier generation is sent.
    pub fn stop(&self) {
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
        let mut running = lock(&self.shared.running);
        while *running > 0 {
            running = self
                .shared
                .idle
                .wait(running)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Hashes done by each thread since the miner started.
    pub fn hashes_per_thread(&self) -> Vec<u64> {
        let hashes = &self.shared.hashes;
        hashes.iter().map(|c| c.0.load(Ordering::Relaxed)).collect()
    }

    /// Hashes done by all threads since the miner started.
    pub fn total_hashes(&self) -> u64 {
        self.hashes_per_thread().iter().sum()
    }

    /// Searches one header's nonces `start .. start + count` on all threads and returns
    /// every hash at or under `target`, in increasing nonce order. Replaces any running job.
    pub fn scan_range(
        &mut self,
        header: [u8; 80],
        start: u32,
        count: u64,
        target: Target,
    ) -> Result<Vec<Found>, SearchError> {
        let (tx, rx): (Sender<Found>, Receiver<Found>) = mpsc::channel();
        let job = ScanJob {
            id: 0,
            source: Arc::new(FixedHeader(header)),
            target,
            nonce_start: start,
            nonce_count: count,
        };
        self.start_job(job, tx)?;
        // `&mut self` means nobody can replace this job: the channel closes when it is done.
        let mut found: Vec<Found> = rx.iter().collect();
        found.sort_by_key(|f| (f.header_index, f.nonce));
        Ok(found)
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Shared {
    fn leave(&self) {
        let mut running = lock(&self.running);
        *running = running.saturating_sub(1);
        if *running == 0 {
            self.idle.notify_all();
        }
    }
}

impl ActiveJob {
    fn leave(&self) {
        if self.threads_left.fetch_sub(1, Ordering::AcqRel) == 1 {
            lock(&self.shares).take();
        }
    }

    fn is_current(&self, shared: &Shared) -> bool {
        shared.generation.load(Ordering::Acquire) == self.generation
    }
}

/// The headers of one group and their precomputed work.
struct Group {
    index: u64,
    headers: Vec<[u8; 80]>,
    works: Vec<HeaderWork>,
}

impl Group {
    /// Group `index` of `active`'s job: its headers up to the first the source does not
    /// have, or `None` when it has not even the first.
    fn fetch(active: &ActiveJob, index: u64) -> Option<Group> {
        let first = index.checked_mul(active.group)?;
        let headers: Vec<[u8; 80]> = (0..active.group)
            .map_while(|i| active.job.source.header(first.checked_add(i)?))
            .collect();
        let works = headers.iter().map(HeaderWork::new).collect();
        (!headers.is_empty()).then_some(Group {
            index,
            headers,
            works,
        })
    }
}

/// One thread's part of a job: take units until the job is replaced or used up.
fn run_thread(shared: &Shared, kernel: &dyn Kernel, active: &ActiveJob, me: usize) {
    let Some(shares) = lock(&active.shares).clone() else {
        return;
    };
    let job = &active.job;
    let top_max = job.target.top_max();
    let counter = &shared.hashes[me].0;
    let mut group: Option<Group> = None;
    let mut candidates = Vec::new();
    while active.is_current(shared) {
        let unit = active.next_unit.fetch_add(1, Ordering::Relaxed);
        let index = unit / active.chunks_per_header;
        let offset = (unit % active.chunks_per_header) * u64::from(active.chunk);
        if group.as_ref().is_none_or(|g| g.index != index) {
            group = Group::fetch(active, index);
        }
        let Some(g) = group.as_ref() else {
            return;
        };
        // Both fit in u32: offset < nonce_count and start + nonce_count <= 2^32.
        let start = job.nonce_start + offset as u32;
        let count = (job.nonce_count - offset).min(u64::from(active.chunk)) as u32;
        candidates.clear();
        // One header or several: every kernel's `scan_versions` of one work is its `scan`.
        let done = kernel.scan_versions(&g.works, start, count, top_max, &mut candidates);
        counter.fetch_add(done, Ordering::Relaxed);
        for &(i, nonce) in &candidates {
            let header_index = index * active.group + i as u64;
            if let Some(found) = check(active, header_index, &g.headers[i], nonce) {
                // A dropped receiver only means nobody wants shares any more.
                let _ = shares.send(found);
            }
        }
    }
}

/// The full 256-bit check of a kernel candidate with the reference sha256d.
fn check(active: &ActiveJob, index: u64, header: &[u8; 80], nonce: u32) -> Option<Found> {
    let mut header = *header;
    header[76..80].copy_from_slice(&nonce.to_le_bytes());
    let hash = sha256d(&header);
    active.job.target.is_met_by(&hash).then_some(Found {
        job_id: active.job.id,
        generation: active.generation,
        header_index: index,
        nonce,
        hash,
        header,
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

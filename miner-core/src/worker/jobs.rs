//! The session's job bookkeeping ([`ScanBook`]): which Stratum job each scan job is, and
//! turning a found hash back into a `mining.submit`. Shares of jobs voided by `clean_jobs` or by a lost
//! connection are dropped here, never sent (spec/stratum.md Part A.3: cpuminer discards
//! stale work before submitting).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use stratum::client::{Job as PoolJob, Share};
use stratum::methods::Notify;
use stratum::{Difficulty, JobId};

use crate::search::{self, Found, NONCE_SPACE};
use crate::target::Target;
use crate::work::{Slice, Work, WorkError};

/// Miner jobs kept for late shares (the session keeps the same number of pool jobs).
const KEEP_ACTIVE: usize = stratum::client::MAX_JOBS;
/// Works remembered across reconnects, so a resumed identical job continues where it was.
const KEEP_WORKS: usize = 8;

struct Active {
    job_id: JobId,
    slice: Slice,
    target: Target,
}

/// Pool jobs being (or recently) mined, by miner job id.
#[derive(Default)]
pub struct ScanBook {
    next_id: u64,
    active: BTreeMap<u64, Active>,
    works: VecDeque<Arc<Work>>,
    /// Jobs easier than this are mined at it (0: no floor).
    min_difficulty: f64,
}

/// Why a found hash is not submitted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotSubmitted {
    /// Its job was voided (clean_jobs, a lost connection): a stale share, sent nowhere.
    #[error("share of void job {0} dropped")]
    Void(u64),
    /// Its header index is outside its job's header space: the search handed out a header
    /// the job never had (a bug here, never the pool's doing).
    #[error("share of job {job} has header index {index}, outside the job's space")]
    OutsideSpace {
        /// The miner job.
        job: u64,
        /// The found share's header index.
        index: u64,
    },
}

impl ScanBook {
    /// A book that mines a job of a lower difficulty than `min_difficulty` at
    /// `min_difficulty`: its shares still meet the pool's target (they are harder), there
    /// are only fewer of them. A careful miner's floor against a pool that would make every
    /// hash a share (`mining.set_difficulty [1e-300]`, issue 11).
    pub fn with_min_difficulty(min_difficulty: f64) -> Self {
        ScanBook {
            min_difficulty,
            ..ScanBook::default()
        }
    }

    /// The difficulty `job` is mined at: its own, or the floor if that is higher.
    pub fn mined_difficulty(&self, job: &PoolJob) -> Difficulty {
        match Difficulty::new(self.min_difficulty) {
            Ok(floor) if floor.value() > job.difficulty.value() => floor,
            _ => job.difficulty,
        }
    }

    /// A miner job for `job`, to pass to [`crate::search::Miner::start_job`]. A clean job
    /// voids every earlier one first.
    pub fn start(&mut self, job: &PoolJob) -> Result<search::ScanJob, WorkError> {
        let target = Target::from_difficulty(self.mined_difficulty(job));
        let work = self.work_for(job)?;
        if job.clean {
            self.active.clear();
        }
        self.next_id += 1;
        let id = self.next_id;
        let slice = Slice::fresh(work);
        let active = Active {
            job_id: job.notify.job_id.clone(),
            slice: slice.clone(),
            target,
        };
        self.active.insert(id, active);
        while self.active.len() > KEEP_ACTIVE {
            self.active.pop_first();
        }
        Ok(search::ScanJob {
            id,
            source: Arc::new(slice),
            target,
            nonce_start: 0,
            nonce_count: NONCE_SPACE,
        })
    }

    /// The same pool job as the newest one, rebuilt for a new version mask (BIP310
    /// `mining.set_version_mask` is valid at once). Headers continue after the old ones.
    pub fn restart_with_mask(&mut self, mask: u32) -> Option<search::ScanJob> {
        let (_, newest) = self.active.last_key_value()?;
        let old = newest.slice.work();
        let (job_id, target) = (newest.job_id.clone(), newest.target);
        let work = Work::new(
            old.job().clone(),
            old.extranonce1().to_vec(),
            old.space().extranonce2_size(),
            mask,
        )
        .ok()?;
        // Indexes below 2^(8 * extranonce2_size) do not roll, so starting after the old
        // work's high-water mark repeats no header of the old mask.
        let work = Arc::new(work.starting_at(old.high_water()));
        self.next_id += 1;
        let id = self.next_id;
        let slice = Slice::fresh(work);
        let source = Arc::new(slice.clone());
        self.active.insert(
            id,
            Active {
                job_id,
                slice,
                target,
            },
        );
        Some(search::ScanJob {
            id,
            source,
            target,
            nonce_start: 0,
            nonce_count: NONCE_SPACE,
        })
    }

    /// Voids every job (the connection is gone): their late shares become stale.
    pub fn void_all(&mut self) {
        self.active.clear();
    }

    /// The share to submit for `found`, or why there is none.
    pub fn share(&self, found: &Found) -> Result<Share, NotSubmitted> {
        let active = self
            .active
            .get(&found.job_id)
            .ok_or(NotSubmitted::Void(found.job_id))?;
        let work = active.slice.work();
        let (extranonce2, rolled) = active
            .slice
            .work_index(found.header_index)
            .and_then(|i| work.space().split(i))
            .ok_or(NotSubmitted::OutsideSpace {
                job: found.job_id,
                index: found.header_index,
            })?;
        let job = work.job();
        let version = work.space().roll(job.version, rolled);
        Ok(Share {
            job_id: active.job_id.clone(),
            extranonce2,
            ntime: job.ntime,
            nonce: found.nonce,
            version: (work.version_mask() != 0).then_some(version),
        })
    }

    /// The remembered work for an identical job on the same extranonce1, or a new one.
    fn work_for(&mut self, job: &PoolJob) -> Result<Arc<Work>, WorkError> {
        // The clean flag says what to void, not what to hash: compare jobs without it.
        let decoded = Notify {
            clean_jobs: false,
            ..job.notify.clone()
        };
        let en1 = job.extranonce1.as_bytes();
        let mask = job.version_mask.map_or(0, |m| m.0);
        let same = |w: &&Arc<Work>| {
            **w.job() == decoded
                && w.extranonce1() == en1
                && w.space().extranonce2_size() == job.extranonce2_size
                && w.version_mask() == mask
        };
        if let Some(work) = self.works.iter().find(same) {
            return Ok(work.clone());
        }
        let work = Arc::new(Work::new(
            Arc::new(decoded),
            en1.to_vec(),
            job.extranonce2_size,
            mask,
        )?);
        self.works.push_back(work.clone());
        while self.works.len() > KEEP_WORKS {
            self.works.pop_front();
        }
        Ok(work)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stratum::{Difficulty as WireDifficulty, Extranonce1, PrevHash, VersionMask};

    fn pool_job(id: &str, seed: u8, clean: bool, mask: Option<u32>) -> PoolJob {
        PoolJob {
            notify: Notify {
                job_id: JobId::new(id).unwrap(),
                prevhash: PrevHash::from_internal([seed; 32]),
                coinb1: vec![1, 2, 3],
                coinb2: vec![4, 5, 6],
                merkle_branch: vec![[seed; 32]],
                version: 0x2000_0000,
                nbits: 0x1d00_ffff,
                ntime: 0x6500_0000,
                clean_jobs: clean,
            },
            difficulty: WireDifficulty::new(0.5).unwrap(),
            extranonce1: Extranonce1::from_bytes(vec![0xee; 4]).unwrap(),
            extranonce2_size: 4,
            version_mask: mask.map(VersionMask),
            clean,
        }
    }

    fn found(job: &search::ScanJob, header_index: u64, nonce: u32) -> Found {
        Found {
            job_id: job.id,
            generation: 1,
            header_index,
            nonce,
            hash: [0; 32],
            header: job.source.header(header_index).unwrap(),
        }
    }

    #[test]
    fn found_hashes_become_submits_with_their_extranonce2() {
        let mut book = ScanBook::default();
        let job = book.start(&pool_job("a", 1, true, None)).unwrap();
        assert_eq!(
            job.target,
            Target::from_difficulty(WireDifficulty::new(0.5).unwrap())
        );
        let share = book
            .share(&found(&job, 3, 77))
            .expect("share of the current job");
        assert_eq!(share.job_id.as_str(), "a");
        assert_eq!(share.extranonce2.to_hex(), "03000000");
        assert_eq!(
            (share.ntime, share.nonce, share.version),
            (0x6500_0000, 77, None)
        );
        // Four bytes of extranonce2 and no rolling: 2^32 headers, no more.
        assert_eq!(
            book.share(&found(&job, 0, 1))
                .map(|s| s.extranonce2.to_hex()),
            Ok("00000000".into())
        );
        let mut outside = found(&job, 0, 1);
        outside.header_index = 1 << 32;
        assert_eq!(
            book.share(&outside),
            Err(NotSubmitted::OutsideSpace {
                job: job.id,
                index: 1 << 32
            })
        );
    }

    #[test]
    fn clean_jobs_and_lost_connections_void_shares() {
        let mut book = ScanBook::default();
        let a = book.start(&pool_job("a", 1, true, None)).unwrap();
        let b = book.start(&pool_job("b", 2, false, None)).unwrap();
        assert!(book.share(&found(&a, 0, 1)).is_ok());
        let c = book.start(&pool_job("c", 3, true, None)).unwrap();
        assert_eq!(book.share(&found(&a, 0, 1)), Err(NotSubmitted::Void(a.id)));
        assert_eq!(book.share(&found(&b, 0, 1)), Err(NotSubmitted::Void(b.id)));
        assert!(book.share(&found(&c, 0, 1)).is_ok());
        book.void_all();
        assert_eq!(book.share(&found(&c, 0, 1)), Err(NotSubmitted::Void(c.id)));
    }

    #[test]
    fn a_resumed_identical_job_continues_after_the_hashed_headers() {
        let mut book = ScanBook::default();
        let first = book
            .start(&pool_job("a", 1, true, Some(0x1fff_e000)))
            .unwrap();
        for i in 0..10 {
            first.source.header(i);
        }
        book.void_all();
        // The same job again (the pool resumed the session), now without clean_jobs.
        let again = book
            .start(&pool_job("a", 1, false, Some(0x1fff_e000)))
            .unwrap();
        // Headers come in groups of eight versions per extranonce2: 0..10 touched groups 0
        // and 1, so the restart begins at header 16, group 2's first version.
        let share = book.share(&found(&again, 0, 5)).expect("submitted");
        assert_eq!(
            share.extranonce2.to_hex(),
            "02000000",
            "continues after header 10"
        );
        assert_eq!(share.version, Some(0x2000_0000));
        let second = book.share(&found(&again, 1, 5)).expect("submitted");
        assert_eq!(second.extranonce2.to_hex(), "02000000");
        assert_eq!(
            second.version,
            Some(0x2000_2000),
            "the next version, same coinbase"
        );
        // A new mask keeps going from there too (header 16 was handed out: group 3).
        let rolled = book.restart_with_mask(0x0000_e000).unwrap();
        let s = book.share(&found(&rolled, 0, 5)).expect("submitted");
        assert_eq!(s.extranonce2.to_hex(), "03000000");
        assert_eq!(rolled.target, again.target);
    }

    #[test]
    fn a_difficulty_under_the_floor_is_mined_at_the_floor() {
        let floor = WireDifficulty::new(1e-6).unwrap();
        let mut book = ScanBook::with_min_difficulty(floor.value());
        let mut job = pool_job("a", 1, true, None);
        job.difficulty = WireDifficulty::new(1e-300).unwrap();
        assert_eq!(
            book.start(&job).unwrap().target,
            Target::from_difficulty(floor)
        );
        let above = pool_job("b", 2, true, None);
        assert_eq!(book.mined_difficulty(&above), above.difficulty);
        assert_eq!(ScanBook::default().mined_difficulty(&job), job.difficulty);
    }
}

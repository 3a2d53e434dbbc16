//! Where the cores get their ids and their wall-clock readings, so that the same inputs give
//! the same outputs: [`Ids`] (master ids, stream ids, container ids, status uuids) and
//! [`Wall`] (the `TaskStatus.timestamp` / `unreachable_time` seconds, as a function of the
//! monotonic `now` that every input already carries).
//!
//! In production ids are uuid v4 from the operating system's randomness, so a framework id
//! (`<master id>-<seq>`, as Mesos makes them) cannot be guessed by another client; tests use a
//! seeded generator and an anchor of their choosing.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// A source of uuids: the OS in production, a seeded generator in tests.
#[derive(Debug)]
pub(crate) enum Ids {
    /// Unguessable uuid v4 from the operating system.
    Os,
    /// Reproducible uuid v4 from a seed.
    Seeded(StdRng),
}

impl Ids {
    /// A reproducible source for tests.
    pub(crate) fn seeded(seed: u64) -> Ids {
        Ids::Seeded(StdRng::seed_from_u64(seed))
    }

    /// A fresh uuid (version 4 in both modes).
    pub(crate) fn uuid(&mut self) -> Uuid {
        match self {
            Ids::Os => Uuid::new_v4(),
            Ids::Seeded(rng) => uuid::Builder::from_random_bytes(rng.random()).into_uuid(),
        }
    }

    /// A source for one master or agent: the OS again, or a generator seeded from this one
    /// (so each core's ids do not depend on how often the others drew).
    pub(crate) fn fork(&mut self) -> Ids {
        match self {
            Ids::Os => Ids::Os,
            Ids::Seeded(rng) => Ids::seeded(rng.random()),
        }
    }
}

/// The wall clock as a function of the monotonic clock: the wall time read once, at an
/// instant, and advanced with `now` from there (so paused or simulated time moves it too).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wall {
    at: Instant,
    since_epoch: Duration,
}

impl Wall {
    /// Wall time `since_epoch` (after 1970-01-01) at instant `at`.
    pub(crate) fn anchored(at: Instant, since_epoch: Duration) -> Wall {
        Wall { at, since_epoch }
    }

    /// The system's wall clock, anchored at the tokio clock's `now` (the driver's clock).
    pub(crate) fn system() -> Wall {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Wall::anchored(tokio::time::Instant::now().into_std(), since_epoch)
    }

    /// Time since the epoch at `now`.
    pub(crate) fn at(&self, now: Instant) -> Duration {
        match now.checked_duration_since(self.at) {
            Some(later) => self.since_epoch + later,
            None => self.since_epoch.saturating_sub(self.at - now),
        }
    }

    /// Seconds since the epoch at `now` (`TaskStatus.timestamp`).
    pub(crate) fn secs(&self, now: Instant) -> f64 {
        self.at(now).as_secs_f64()
    }

    /// Nanoseconds since the epoch at `now` (`TimeInfo.nanoseconds`).
    pub(crate) fn nanos(&self, now: Instant) -> i64 {
        i64::try_from(self.at(now).as_nanos()).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_repeat_and_forks_differ() {
        let (mut a, mut b) = (Ids::seeded(7), Ids::seeded(7));
        assert_eq!(a.uuid(), b.uuid());
        let (mut fa, mut fb) = (a.fork(), a.fork());
        assert_ne!(fa.uuid(), fb.uuid());
        assert_eq!(a.uuid().get_version_num(), 4);
    }

    #[test]
    fn wall_time_follows_now_both_ways() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let w = Wall::anchored(t0, Duration::from_secs(1_000));
        assert_eq!(w.secs(t0 + Duration::from_millis(1500)), 1_001.5);
        assert_eq!(w.secs(t0 - Duration::from_secs(4)), 996.0);
        assert_eq!(w.nanos(t0), 1_000_000_000_000);
    }
}

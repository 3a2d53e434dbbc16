//! When to reconnect and to which pool: pure functions and a small state machine, so the
//! driver only sleeps and dials (spec/stratum.md Part A.3: cpuminer retries one URL after
//! `-R` seconds, forever unless `-r`; cgminer fails over to the next pool and back to a
//! higher-priority one when it recovers). [`Failover::what_next`] is the one decision the
//! driver asks for after every session.

use std::time::Duration;

/// Reconnect settings (`-r/--retries`, `-R/--retry-pause`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Consecutive failed attempts allowed before giving up; `None` = forever (cpuminer -1).
    pub retries: Option<u32>,
    /// The longest pause between two rounds of attempts (the backoff cap).
    pub max_pause: Duration,
    /// The first pause; it doubles each round up to `max_pause`.
    pub first_pause: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: None,
            max_pause: Duration::from_secs(30),
            first_pause: Duration::from_secs(1),
        }
    }
}

/// The pause before round `round` (0-based) of reconnect attempts: exponential, capped at
/// `max_pause`, and scaled by a jitter in [0.5, 1.0] so that many miners dropped by the same
/// pool do not all come back in the same instant. `jitter01` is a random value in [0, 1).
pub fn backoff(policy: &RetryPolicy, round: u32, jitter01: f64) -> Duration {
    let growth = 2u32.saturating_pow(round.min(30));
    let full = policy
        .first_pause
        .saturating_mul(growth)
        .min(policy.max_pause);
    full.mul_f64(0.5 + 0.5 * jitter01.clamp(0.0, 1.0))
}

/// The longest wait a `client.reconnect` may ask for.
pub const MAX_REDIRECT_WAIT: Duration = Duration::from_secs(600);

/// How a session on the current pool ended, as far as what comes next is concerned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ended {
    /// The connection ended (could not connect, closed, timed out, refused).
    /// `configure_refused`: the pool closed it on `mining.configure`, so the next attempt
    /// leaves that out.
    Lost {
        /// See above: drop `mining.configure` on the next attempt.
        configure_refused: bool,
    },
    /// `client.reconnect`: dial the same slot (now the new address) after `wait`.
    Redirected {
        /// The pause the pool asked for.
        wait: Duration,
    },
    /// Pool `0` (a better one) answered a failback probe.
    FailedBack(usize),
}

/// What the driver does next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    /// Dial pool `pool` (index into the `-o` list) after `after`.
    Connect {
        /// Index into the `-o` list.
        pool: usize,
        /// Pause before dialling.
        after: Duration,
    },
    /// Too many failures in a row (`-r`): stop.
    GiveUp,
}

/// Failover over the `-o` pools in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Failover {
    pools: usize,
    current: usize,
    /// Pools that failed since the last round began.
    failed_in_round: usize,
    /// Whole rounds that failed since the last working session (the backoff exponent).
    round: u32,
    /// Failed attempts in a row since the last working session (for `-r`).
    failures: u32,
}

impl Failover {
    /// Starts on the first pool. `pools` must be at least 1.
    pub fn new(pools: usize) -> Self {
        Failover {
            pools: pools.max(1),
            current: 0,
            failed_in_round: 0,
            round: 0,
            failures: 0,
        }
    }

    /// The pool in use (or being dialled).
    pub fn current(&self) -> usize {
        self.current
    }

    /// The session on the current pool works (subscribed and authorized): forget failures.
    pub fn working(&mut self) {
        self.failed_in_round = 0;
        self.round = 0;
        self.failures = 0;
    }

    /// A working session was lost: dial the same pool again first (to resume its session),
    /// after the first backoff step.
    pub fn dropped(&mut self, policy: &RetryPolicy, jitter01: f64) -> Next {
        self.failed_in_round = 0;
        Next::Connect {
            pool: self.current,
            after: backoff(policy, 0, jitter01),
        }
    }

    /// An attempt on the current pool failed (could not connect, or the session never got
    /// to work): try the next pool at once, and after a whole round of failures start again
    /// from the first pool after a backoff pause.
    pub fn failed(&mut self, policy: &RetryPolicy, jitter01: f64) -> Next {
        self.failures = self.failures.saturating_add(1);
        if policy.retries.is_some_and(|r| self.failures > r) {
            return Next::GiveUp;
        }
        self.failed_in_round += 1;
        if self.failed_in_round < self.pools {
            self.current = (self.current + 1) % self.pools;
            return Next::Connect {
                pool: self.current,
                after: Duration::ZERO,
            };
        }
        self.failed_in_round = 0;
        self.current = 0;
        let after = backoff(policy, self.round, jitter01);
        self.round = self.round.saturating_add(1);
        Next::Connect { pool: 0, after }
    }

    /// What to do after a session on the current pool `ended`; `worked` if it got to
    /// authorized. A session that worked forgets earlier failures; a lost one that worked
    /// dials the same pool again (to resume), one that did not fails over; a pool that
    /// closed on `mining.configure` is retried at once without it; a redirect waits at most
    /// [`MAX_REDIRECT_WAIT`]; a better pool that answered is switched to at once.
    pub fn what_next(
        &mut self,
        worked: bool,
        ended: Ended,
        policy: &RetryPolicy,
        jitter01: f64,
    ) -> Next {
        if worked {
            self.working();
        }
        let now = |pool| Next::Connect {
            pool,
            after: Duration::ZERO,
        };
        match ended {
            Ended::Lost { .. } if worked => self.dropped(policy, jitter01),
            Ended::Lost {
                configure_refused: true,
            } => now(self.current),
            Ended::Lost { .. } => self.failed(policy, jitter01),
            Ended::Redirected { wait } => Next::Connect {
                pool: self.current,
                after: wait.min(MAX_REDIRECT_WAIT),
            },
            Ended::FailedBack(better) => {
                self.switch_to(better);
                now(self.current)
            }
        }
    }

    /// Pools worth probing while mining on a lower-priority one (failback), best first.
    pub fn better_pools(&self) -> std::ops::Range<usize> {
        0..self.current
    }

    /// A better pool answered a probe: move to it.
    pub fn switch_to(&mut self, pool: usize) {
        self.current = pool.min(self.pools - 1);
        self.working();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(retries: Option<u32>, max: u64) -> RetryPolicy {
        RetryPolicy {
            retries,
            max_pause: Duration::from_secs(max),
            first_pause: Duration::from_secs(1),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let p = policy(None, 30);
        let full: Vec<u64> = (0..7).map(|r| backoff(&p, r, 1.0).as_secs()).collect();
        assert_eq!(full, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(backoff(&p, 3, 0.0), Duration::from_secs(4));
        assert_eq!(backoff(&p, 100, 0.5), Duration::from_millis(22_500));
        assert_eq!(backoff(&policy(None, 0), 5, 1.0), Duration::ZERO);
    }

    #[test]
    fn fails_over_in_order_then_backs_off() {
        let p = policy(None, 30);
        let mut f = Failover::new(3);
        let step = |f: &mut Failover| f.failed(&p, 1.0);
        let conn = |pool, secs| Next::Connect {
            pool,
            after: Duration::from_secs(secs),
        };
        assert_eq!(step(&mut f), conn(1, 0));
        assert_eq!(step(&mut f), conn(2, 0));
        assert_eq!(step(&mut f), conn(0, 1));
        assert_eq!(step(&mut f), conn(1, 0));
        assert_eq!(step(&mut f), conn(2, 0));
        assert_eq!(step(&mut f), conn(0, 2));
        f.working();
        assert_eq!(step(&mut f), conn(1, 0));
    }

    #[test]
    fn failback_and_drop() {
        let p = policy(None, 30);
        let mut f = Failover::new(2);
        assert_eq!(f.better_pools(), 0..0);
        f.failed(&p, 0.0);
        f.working();
        assert_eq!(f.current(), 1);
        assert_eq!(f.better_pools(), 0..1);
        f.switch_to(0);
        assert_eq!(f.current(), 0);
        let next = f.dropped(&p, 0.0);
        assert_eq!(
            next,
            Next::Connect {
                pool: 0,
                after: Duration::from_millis(500)
            }
        );
    }

    /// One row: the failover after `failed_before` failed attempts from pool 0 of 3, then a
    /// session that ended so; what comes next and where the failover is then.
    struct Row {
        failed_before: u32,
        worked: bool,
        ended: Ended,
        next: Next,
        current_after: usize,
    }

    #[test]
    fn what_next_table() {
        let p = policy(Some(3), 30);
        let conn = |pool, ms| Next::Connect {
            pool,
            after: Duration::from_millis(ms),
        };
        let lost = Ended::Lost {
            configure_refused: false,
        };
        let refused = Ended::Lost {
            configure_refused: true,
        };
        #[rustfmt::skip]
        let rows = [
            // A dropped working session resumes on the same pool after the first pause.
            Row { failed_before: 1, worked: true, ended: lost, next: conn(1, 1000), current_after: 1 },
            // A failed attempt fails over at once, a failed round backs off from pool 0.
            Row { failed_before: 0, worked: false, ended: lost, next: conn(1, 0), current_after: 1 },
            Row { failed_before: 2, worked: false, ended: lost, next: conn(0, 1000), current_after: 0 },
            // `-r 3`: the fourth failure in a row gives up, unless the session worked.
            Row { failed_before: 3, worked: false, ended: lost, next: Next::GiveUp, current_after: 0 },
            Row { failed_before: 3, worked: true, ended: lost, next: conn(0, 1000), current_after: 0 },
            // Closed on mining.configure: the same pool again at once, without it.
            Row { failed_before: 1, worked: false, ended: refused, next: conn(1, 0), current_after: 1 },
            // client.reconnect: the same slot, the wait capped at ten minutes.
            Row {
                failed_before: 1,
                worked: true,
                ended: Ended::Redirected { wait: Duration::from_secs(5) },
                next: conn(1, 5000),
                current_after: 1,
            },
            Row {
                failed_before: 0,
                worked: false,
                ended: Ended::Redirected { wait: Duration::from_secs(86_400) },
                next: conn(0, 600_000),
                current_after: 0,
            },
            // A better pool answered: switch to it at once.
            Row { failed_before: 2, worked: true, ended: Ended::FailedBack(0), next: conn(0, 0), current_after: 0 },
        ];
        for (i, row) in rows.iter().enumerate() {
            let mut f = Failover::new(3);
            for _ in 0..row.failed_before {
                f.failed(&p, 1.0);
            }
            let next = f.what_next(row.worked, row.ended, &p, 1.0);
            assert_eq!(next, row.next, "row {i}");
            assert_eq!(f.current(), row.current_after, "row {i}");
        }
    }

    #[test]
    fn a_session_that_worked_resets_the_give_up_count() {
        let p = policy(Some(1), 30);
        let lost = Ended::Lost {
            configure_refused: false,
        };
        let mut f = Failover::new(1);
        assert!(matches!(
            f.what_next(false, lost, &p, 0.0),
            Next::Connect { .. }
        ));
        assert!(matches!(
            f.what_next(true, lost, &p, 0.0),
            Next::Connect { .. }
        ));
        assert!(matches!(
            f.what_next(false, lost, &p, 0.0),
            Next::Connect { .. }
        ));
        assert_eq!(f.what_next(false, lost, &p, 0.0), Next::GiveUp);
    }

    #[test]
    fn retries_limit_consecutive_failures() {
        let p = policy(Some(2), 30);
        let mut f = Failover::new(1);
        assert!(matches!(f.failed(&p, 0.0), Next::Connect { pool: 0, .. }));
        assert!(matches!(f.failed(&p, 0.0), Next::Connect { pool: 0, .. }));
        assert_eq!(f.failed(&p, 0.0), Next::GiveUp);
        let mut f = Failover::new(1);
        f.failed(&p, 0.0);
        f.failed(&p, 0.0);
        f.working();
        assert!(matches!(f.failed(&p, 0.0), Next::Connect { .. }));
        let zero = policy(Some(0), 30);
        assert_eq!(Failover::new(2).failed(&zero, 0.0), Next::GiveUp);
    }
}

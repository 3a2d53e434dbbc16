//! Task reconciliation as the Mesos docs give it (spec §5): after every SUBSCRIBED an
//! explicit round for the tasks we believe live, re-sent with truncated exponential backoff
//! for those still unanswered, then one implicit RECONCILE; again every interval; one round
//! at a time. Tasks needing a quick check (launch timeout, FAILURE) join the current round.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What to send.
#[derive(Clone, Debug, PartialEq)]
pub enum Ask {
    /// RECONCILE for these (task id, agent id).
    Explicit(Vec<(String, String)>),
    /// RECONCILE with no tasks: the master reports every task it knows of ours.
    Implicit,
}

#[derive(Clone, Debug)]
struct Round {
    remaining: HashMap<String, String>,
    delay: Duration,
    next_retry: Instant,
}

/// The reconciliation schedule.
#[derive(Clone, Debug)]
pub struct Reconciler {
    round: Option<Round>,
    next_periodic: Option<Instant>,
    retry: Duration,
    retry_max: Duration,
    interval: Duration,
}

impl Reconciler {
    /// A reconciler with the given retry backoff and period.
    pub fn new(retry: Duration, retry_max: Duration, interval: Duration) -> Reconciler {
        Reconciler {
            round: None,
            next_periodic: None,
            retry,
            retry_max,
            interval,
        }
    }

    /// Starts a round (replacing any) for `tasks` at `now`.
    pub fn start(&mut self, tasks: Vec<(String, String)>, now: Instant) -> Ask {
        if tasks.is_empty() {
            self.round = None;
            self.next_periodic = Some(now + self.interval);
            return Ask::Implicit;
        }
        let remaining: HashMap<String, String> = tasks.iter().cloned().collect();
        self.round = Some(Round {
            remaining,
            delay: self.retry,
            next_retry: now + self.retry,
        });
        Ask::Explicit(tasks)
    }

    /// Adds a task to the current round (or starts one); returns what to send now.
    pub fn add(&mut self, task: String, agent: String, now: Instant) -> Ask {
        match &mut self.round {
            Some(round) => {
                round.remaining.insert(task.clone(), agent.clone());
                Ask::Explicit(vec![(task, agent)])
            }
            None => self.start(vec![(task, agent)], now),
        }
    }

    /// Any update for `task` answers it; `Some(Implicit)` when that ends the round.
    pub fn answered(&mut self, task: &str, now: Instant) -> Option<Ask> {
        let round = self.round.as_mut()?;
        if round.remaining.remove(task).is_some() && round.remaining.is_empty() {
            self.round = None;
            self.next_periodic = Some(now + self.interval);
            return Some(Ask::Implicit);
        }
        None
    }

    /// Forgets a round in progress (the subscription ended; the next SUBSCRIBED starts one).
    pub fn cancel(&mut self) {
        self.round = None;
    }

    /// Whether a round is in progress.
    pub fn in_round(&self) -> bool {
        self.round.is_some()
    }

    /// Tasks not answered yet in the current round.
    pub fn pending(&self) -> usize {
        self.round.as_ref().map_or(0, |r| r.remaining.len())
    }

    /// A retry of the unanswered, or `Periodic` when the period is over and no round runs.
    pub fn on_timeout(&mut self, now: Instant) -> Option<Due> {
        match &mut self.round {
            Some(round) if now >= round.next_retry => {
                round.delay = (round.delay * 2).min(self.retry_max);
                round.next_retry = now + round.delay;
                let mut tasks: Vec<(String, String)> = round
                    .remaining
                    .iter()
                    .map(|(t, a)| (t.clone(), a.clone()))
                    .collect();
                tasks.sort();
                Some(Due::Retry(Ask::Explicit(tasks)))
            }
            Some(_) => None,
            None => match self.next_periodic {
                Some(at) if now >= at => Some(Due::Periodic),
                _ => None,
            },
        }
    }
}

/// What a timer asks of the reducer.
#[derive(Clone, Debug, PartialEq)]
pub enum Due {
    /// Send this again.
    Retry(Ask),
    /// Start a new round with every live task.
    Periodic,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn explicit_retried_with_backoff_until_answered_then_implicit() {
        let t0 = Instant::now();
        let mut r = Reconciler::new(secs(2), secs(5), secs(600));
        let tasks = vec![
            ("t1".to_string(), "a".to_string()),
            ("t2".into(), "a".into()),
        ];
        assert_eq!(r.start(tasks.clone(), t0), Ask::Explicit(tasks.clone()));
        assert_eq!(r.on_timeout(t0 + secs(1)), None);
        assert_eq!(
            r.on_timeout(t0 + secs(2)),
            Some(Due::Retry(Ask::Explicit(tasks)))
        );
        // Next retry after 4 s, then capped at 5 s.
        assert_eq!(r.on_timeout(t0 + secs(5)), None);
        assert!(r.on_timeout(t0 + secs(6)).is_some());
        assert!(r.on_timeout(t0 + secs(10)).is_none());
        assert!(r.on_timeout(t0 + secs(11)).is_some());
        assert_eq!(r.answered("t1", t0 + secs(12)), None);
        assert_eq!(r.answered("other", t0 + secs(12)), None);
        assert_eq!(r.answered("t2", t0 + secs(12)), Some(Ask::Implicit));
        assert!(!r.in_round());
        assert_eq!(r.on_timeout(t0 + secs(611)), None);
        assert_eq!(r.on_timeout(t0 + secs(612)), Some(Due::Periodic));
    }

    #[test]
    fn empty_round_is_implicit_and_added_tasks_join_the_round() {
        let t0 = Instant::now();
        let mut r = Reconciler::new(secs(2), secs(5), secs(600));
        assert_eq!(r.start(vec![], t0), Ask::Implicit);
        assert_eq!(
            r.add("t".into(), "a".into(), t0),
            Ask::Explicit(vec![("t".into(), "a".into())])
        );
        assert_eq!(
            r.add("u".into(), "a".into(), t0),
            Ask::Explicit(vec![("u".into(), "a".into())])
        );
        assert_eq!(r.pending(), 2);
        r.cancel();
        assert!(!r.in_round());
    }
}

//! When to fetch a feed (the JWKS, the ended sessions) again: every refresh
//! interval, sooner after a failed fetch, and for the JWKS at once (at most
//! every `UNKNOWN_KID_INTERVAL`) when a token names a key not in the set,
//! which is how a new key normally arrives early. [`Refresh`] is the pure
//! rule; [`Schedule`] is what each feed holds: the rule behind a lock, and
//! its fetch counters.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::tally::Tally;

/// The least time between two fetches caused by unknown kids: tokens with
/// made-up kids cannot make the proxy hammer the JWKS endpoint.
pub const UNKNOWN_KID_INTERVAL: i64 = 5;
/// After a failed fetch, the next one (unless the interval is shorter).
pub const RETRY_SECONDS: i64 = 5;
/// A fetch not reported after this long is given up (a lost callback must
/// not stop refreshes for good): well beyond the hosts' own timeout, which
/// reports a hung fetch as failed.
const GIVE_UP_SECONDS: i64 = 30;
const _: () = assert!(GIVE_UP_SECONDS > crate::feeds::FETCH_TIMEOUT_SECONDS as i64 * 2);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refresh {
    interval: i64,
    /// The next periodic fetch (0: as soon as asked).
    next_at: i64,
    /// A fetch under way, since then.
    in_flight_since: Option<i64>,
    /// A token named an unknown kid since the last fetch started.
    wanted: bool,
    last_started: Option<i64>,
}

impl Refresh {
    pub(crate) fn new(interval_seconds: u32) -> Refresh {
        Refresh {
            interval: i64::from(interval_seconds),
            next_at: 0,
            in_flight_since: None,
            wanted: false,
            last_started: None,
        }
    }

    /// Whether to start a fetch now; if so, it counts as started.
    pub(crate) fn due(&mut self, now: i64) -> bool {
        if let Some(since) = self.in_flight_since {
            if now < since + GIVE_UP_SECONDS {
                return false;
            }
        }
        let periodic = now >= self.next_at;
        let early = self.wanted
            && self
                .last_started
                .is_none_or(|started| now >= started + UNKNOWN_KID_INTERVAL);
        if periodic || early {
            self.in_flight_since = Some(now);
            self.last_started = Some(now);
            self.wanted = false;
        }
        periodic || early
    }

    /// A token named a key the set does not have.
    pub(crate) fn unknown_kid(&mut self) {
        self.wanted = true;
    }

    /// The fetch started by [`Refresh::due`] ended.
    pub(crate) fn finished(&mut self, now: i64, ok: bool) {
        self.in_flight_since = None;
        self.next_at = now
            + if ok {
                self.interval
            } else {
                RETRY_SECONDS.min(self.interval)
            };
    }
}

/// A feed's schedule, shared by the requests and the host's timer.
#[derive(Debug)]
pub(crate) struct Schedule {
    refresh: Mutex<Refresh>,
    /// Fetches that worked and that failed.
    pub(crate) fetches: Tally,
}

impl Schedule {
    pub(crate) fn new(interval_seconds: u32) -> Schedule {
        Schedule {
            refresh: Mutex::new(Refresh::new(interval_seconds)),
            fetches: Tally::default(),
        }
    }

    fn refresh(&self) -> MutexGuard<'_, Refresh> {
        self.refresh.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// See [`Refresh::due`].
    pub(crate) fn due(&self, now: i64) -> bool {
        self.refresh().due(now)
    }

    pub(crate) fn unknown_kid(&self) {
        self.refresh().unknown_kid();
    }

    /// The end of the fetch [`Schedule::due`] started, counted: its
    /// outcome, passed through.
    pub(crate) fn finished<T>(&self, now: i64, outcome: Result<T, String>) -> Result<T, String> {
        self.refresh().finished(now, outcome.is_ok());
        self.fetches.count(outcome.is_ok());
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_after_success_sooner_after_failure() {
        let mut refresh = Refresh::new(60);
        assert!(refresh.due(1000), "the first fetch is at once");
        assert!(!refresh.due(1001), "one fetch at a time");
        refresh.finished(1001, true);
        assert!(!refresh.due(1060));
        assert!(refresh.due(1061));
        refresh.finished(1061, false);
        assert!(!refresh.due(1065));
        assert!(refresh.due(1066));
    }

    #[test]
    fn unknown_kids_fetch_early_but_rate_limited() {
        let mut refresh = Refresh::new(60);
        assert!(refresh.due(1000));
        refresh.finished(1000, true);
        refresh.unknown_kid();
        assert!(
            !refresh.due(1002),
            "within UNKNOWN_KID_INTERVAL of the last fetch"
        );
        assert!(refresh.due(1005));
        refresh.finished(1005, true);
        assert!(!refresh.due(1020), "nothing wanted, not yet periodic");
        refresh.unknown_kid();
        refresh.unknown_kid();
        assert!(refresh.due(1020));
        assert!(!refresh.due(1021));
    }

    #[test]
    fn a_lost_fetch_is_given_up() {
        let mut refresh = Refresh::new(60);
        assert!(refresh.due(1000));
        assert!(!refresh.due(1029));
        assert!(refresh.due(1030));
    }
}

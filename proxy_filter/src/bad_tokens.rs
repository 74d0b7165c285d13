//! Forged tokens cost a signature check each (an ES256 one in the wasm
//! filter, about a millisecond): a client that keeps sending them is
//! refused for a while without another check. Counted per client address
//! (what the host says the peer is), in one-minute windows, in a bounded map.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};

/// How long a window lasts, and so how long a client waits at most.
pub(crate) const WINDOW_SECONDS: i64 = 60;
/// Clients remembered at most; beyond, finished windows go first.
const CAPACITY: usize = 10_000;

#[derive(Debug)]
pub(crate) struct BadTokens {
    /// Failed checks a client may cause per window (0: no limit).
    limit: u32,
    windows: Mutex<HashMap<String, Window>>,
    /// When the last window that reached the limit ends: until then some
    /// client may be held (and hosts must say who asks).
    held_until: AtomicI64,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started: i64,
    failures: u32,
}

impl BadTokens {
    pub(crate) fn new(limit: u32) -> BadTokens {
        BadTokens {
            limit,
            windows: Mutex::new(HashMap::new()),
            held_until: AtomicI64::new(i64::MIN),
        }
    }

    /// Whether any client may be held at `now`: when none is, a request
    /// needs no client address.
    pub(crate) fn anyone_held(&self, now: i64) -> bool {
        self.limit != 0 && now < self.held_until.load(Ordering::Relaxed)
    }

    /// Seconds `client` must wait before its tokens are checked again, or
    /// None when they are checked now.
    pub(crate) fn wait(&self, client: &str, now: i64) -> Option<i64> {
        if self.limit == 0 {
            return None;
        }
        let windows = self.lock();
        let window = windows.get(client)?;
        let ends = window.started.saturating_add(WINDOW_SECONDS);
        (window.failures >= self.limit && now < ends).then(|| ends - now)
    }

    /// A token from `client` failed its signature (or named no key).
    pub(crate) fn record(&self, client: &str, now: i64) {
        if self.limit == 0 {
            return;
        }
        let mut windows = self.lock();
        if windows.len() >= CAPACITY && !windows.contains_key(client) {
            windows.retain(|_, window| window.started + WINDOW_SECONDS > now);
            if windows.len() >= CAPACITY {
                let drop = (CAPACITY / 4).max(1);
                let doomed: Vec<String> = windows.keys().take(drop).cloned().collect();
                for key in doomed {
                    windows.remove(&key);
                }
            }
        }
        let window = windows.entry(client.to_owned()).or_insert(Window {
            started: now,
            failures: 0,
        });
        if window.started + WINDOW_SECONDS <= now {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
        if window.failures >= self.limit {
            let ends = window.started.saturating_add(WINDOW_SECONDS);
            self.held_until.fetch_max(ends, Ordering::Relaxed);
        }
    }

    /// A poisoned lock only means another request panicked while holding it
    /// (none does); the map itself is always consistent.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
        self.windows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_past_its_limit_waits_out_the_window_and_others_do_not() {
        let limiter = BadTokens::new(3);
        for _ in 0..3 {
            assert_eq!(limiter.wait("198.51.100.1", 1000), None);
            limiter.record("198.51.100.1", 1000);
        }
        assert_eq!(limiter.wait("198.51.100.1", 1010), Some(50));
        assert_eq!(limiter.wait("198.51.100.2", 1010), None);
        assert_eq!(limiter.wait("198.51.100.1", 1060), None, "a new window");
        limiter.record("198.51.100.1", 1060);
        assert_eq!(limiter.wait("198.51.100.1", 1061), None);
        assert_eq!(BadTokens::new(0).wait("x", 0), None);
    }

    #[test]
    fn says_whether_anyone_is_held() {
        let limiter = BadTokens::new(2);
        assert!(!limiter.anyone_held(1000));
        limiter.record("198.51.100.1", 1000);
        assert!(!limiter.anyone_held(1000), "below the limit");
        limiter.record("198.51.100.1", 1000);
        assert!(limiter.anyone_held(1000) && limiter.anyone_held(1059));
        assert!(!limiter.anyone_held(1060), "the window is over");
        let off = BadTokens::new(0);
        off.record("198.51.100.1", 1000);
        assert!(!off.anyone_held(1000));
    }

    #[test]
    fn stays_bounded() {
        let limiter = BadTokens::new(1);
        for n in 0..(CAPACITY + 10) {
            limiter.record(&n.to_string(), 1000);
        }
        assert!(limiter.lock().len() <= CAPACITY);
    }
}

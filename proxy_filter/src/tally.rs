//! Two counters of one event, by how it went: token cache hits and misses,
//! feed fetches that worked and that failed.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub(crate) struct Tally {
    yes: AtomicU64,
    no: AtomicU64,
}

impl Tally {
    pub(crate) fn count(&self, yes: bool) {
        let counter = if yes { &self.yes } else { &self.no };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// How often it went the first way (a hit, a fetch that worked).
    pub(crate) fn yes(&self) -> u64 {
        self.yes.load(Ordering::Relaxed)
    }

    pub(crate) fn no(&self) -> u64 {
        self.no.load(Ordering::Relaxed)
    }
}

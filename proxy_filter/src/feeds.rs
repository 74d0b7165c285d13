//! What hosts fetch for the policy, again and again: the JWKS (`keys/`)
//! and the ended sessions (`revocations.rs`). A host with a timer asks
//! [`Policy::due_fetches`] every second, fetches each (through a cluster,
//! an HTTP client or a file), and reports with [`Policy::fetched`]; all the
//! scheduling (intervals, early fetches, retries) lives here.

use crate::keys::{FeedSource, HttpSource};
use crate::Policy;

/// Which feed a fetch is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Feed {
    Jwks,
    EndedSessions,
}

impl Policy {
    /// Whether the host has anything to fetch at all (then it needs a timer).
    pub fn has_feeds(&self) -> bool {
        self.jwks_source().is_some() || self.revocations.source().is_some()
    }

    /// Every HTTP endpoint the host will fetch from (to check, at start,
    /// that it can).
    pub fn feed_endpoints(&self) -> Vec<&HttpSource> {
        let jwks = match self.jwks_source() {
            Some(FeedSource::Http(source)) => Some(source),
            _ => None,
        };
        jwks.into_iter().chain(self.revocations.source()).collect()
    }

    /// The fetches due at `now`; each counts as started, to be reported
    /// with [`Policy::fetched`].
    pub fn due_fetches(&self, now: i64) -> Vec<(Feed, FeedSource)> {
        let mut due = Vec::new();
        if let (Some(source), true) = (self.jwks_source(), self.jwks_due(now)) {
            due.push((Feed::Jwks, source.clone()));
        }
        if let (Some(source), Some(path), true) = (
            self.revocations.source(),
            self.revocations.path(),
            self.revocations.due(now),
        ) {
            due.push((
                Feed::EndedSessions,
                FeedSource::Http(HttpSource {
                    path,
                    ..source.clone()
                }),
            ));
        }
        due
    }

    /// The end of a fetch: the body, or what went wrong. Ok: how many keys
    /// or ended sessions are now known.
    pub fn fetched(
        &self,
        feed: Feed,
        now: i64,
        body: Result<&[u8], String>,
    ) -> Result<usize, String> {
        match feed {
            Feed::Jwks => self.jwks_fetched(now, body),
            Feed::EndedSessions => self.revocations.fetched(now, body),
        }
    }
}

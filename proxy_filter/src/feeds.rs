//! What hosts fetch for the policy, again and again: the JWKS (`keys/`)
//! and the ended sessions (`revocations.rs`). A host with a timer asks
//! [`Policy::due_fetches`] every second, fetches each (through a cluster,
//! an HTTP client or a file), and reports with [`Policy::fetched`]; all the
//! scheduling (intervals, early fetches, retries) lives here.

use crate::Policy;

/// A larger answer is refused by every host that fetches (a JWKS is a few
/// hundred bytes a key; the ended sessions of one interval are few).
pub const MAX_FEED_BYTES: usize = 8 << 20;

/// How long every host waits for one fetch before it reports it failed: a
/// feed that hangs must not hold back the next fetch, which comes
/// `RETRY_SECONDS` after a failure. Feeds are small and near.
pub const FETCH_TIMEOUT_SECONDS: u64 = 5;

/// Where a host fetches a feed from, again and again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedSource {
    /// A file (the gate's `jwks_file`), read again at every fetch.
    File(String),
    /// An HTTP endpoint (`jwks_uri`, `revocation_uri`).
    Http(HttpSource),
}

/// An endpoint, taken apart for hosts that send the request themselves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSource {
    pub uri: String,
    /// `https`.
    pub tls: bool,
    /// `host[:port]`.
    pub authority: String,
    /// Path and query.
    pub path: String,
    /// The Envoy cluster that reaches it (`jwks_cluster`, default: the host).
    pub cluster: String,
    /// Extra request headers (`jwks_headers`), lower-case names.
    pub headers: Vec<(String, String)>,
}

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

    /// What a host should log at start: feeds fetched over plain HTTP from
    /// a host that is not this machine. The JWKS is what every decision
    /// trusts (someone on the path could add a key) and the ended sessions
    /// what revocation rests on (they could be hidden); PostgREST checks
    /// tokens against the JWKS again, so a forged token reaches no data.
    pub fn warnings(&self) -> Vec<String> {
        self.feed_endpoints()
            .into_iter()
            .filter(|source| !source.tls && !is_loopback(&source.authority))
            .map(|source| {
                format!(
                    "{} is fetched over plain HTTP from another host: anyone on the path could change what the filter trusts; use https, or keep it on a private network",
                    source.uri
                )
            })
            .collect()
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

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_loopback(authority: &str) -> bool {
    let host = if authority.starts_with('[') {
        authority
            .split(']')
            .next()
            .map_or("", |h| h.trim_start_matches('['))
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::testing::Fetching;
    use crate::Policy;

    fn warnings(config: &str) -> Vec<String> {
        Policy::from_json(config.as_bytes(), &Fetching(&[]))
            .unwrap()
            .warnings()
    }

    /// Crypto review C15: the JWKS over plain HTTP from another host.
    #[test]
    fn plain_http_feeds_from_other_hosts_are_warned_about() {
        let remote = warnings(
            r#"{"jwks_uri":"http://postgrest:3000/rpc/jwks","revocation_uri":"https://auth.example/rpc/ended_sessions"}"#,
        );
        assert_eq!(remote.len(), 1, "{remote:?}");
        assert!(remote[0].starts_with("http://postgrest:3000/rpc/jwks is fetched over plain HTTP"));
        for local in [
            r#"{"jwks_uri":"http://127.0.0.1:3000/rpc/jwks"}"#,
            r#"{"jwks_uri":"http://localhost/rpc/jwks"}"#,
            r#"{"jwks_uri":"http://[::1]:3000/rpc/jwks"}"#,
            r#"{"jwks_uri":"https://keys.example/jwks.json"}"#,
        ] {
            assert!(warnings(local).is_empty(), "{local}");
        }
    }
}

//! The keys tokens are checked with, and how they stay current: the
//! verifier (shared secret and/or JWKS), a JWKS source the host refreshes
//! (a file or an HTTP endpoint, see `feeds.rs`), and the cache of verified
//! tokens.

mod cache;

use std::sync::{Arc, PoisonError, RwLock};

use jwt_core::{Claims, Jwks, Verifier, VerifyError};

use crate::feeds::FeedSource;
use crate::schedule::Schedule;
use crate::Policy;
use cache::TokenCache;

/// A metric of the keys, for hosts to export under `<stat_prefix>.<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyMetric {
    pub name: &'static str,
    pub value: u64,
    /// A gauge (`jwks.keys`) rather than an ever-growing counter.
    pub gauge: bool,
}

/// The member of a fetched JWKS that says the database still signs with the
/// shared secret.
#[derive(serde::Deserialize)]
struct SharedSecretMarker {
    #[serde(default)]
    shared_secret: bool,
}

#[derive(Debug)]
pub(crate) struct Keys {
    verifier: RwLock<Arc<Verifier>>,
    cache: TokenCache,
    source: Option<FeedSource>,
    pub(crate) schedule: Schedule,
}

impl Keys {
    pub(crate) fn new(
        verifier: Verifier,
        source: Option<FeedSource>,
        refresh_seconds: u32,
        cache_size: usize,
    ) -> Keys {
        Keys {
            verifier: RwLock::new(Arc::new(verifier)),
            cache: TokenCache::new(cache_size),
            source,
            schedule: Schedule::new(refresh_seconds),
        }
    }

    fn verifier(&self) -> Arc<Verifier> {
        Arc::clone(&self.verifier.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Full verification, through the cache.
    pub(crate) fn verify(&self, token: &str, now: i64) -> Result<Arc<Claims>, VerifyError> {
        // Before the verifier: a key change between the two empties the
        // cache and makes this token's insert a no-op.
        let generation = self.cache.generation();
        let verifier = self.verifier();
        if let Some(claims) = self.cache.get(token) {
            verifier.check_claims(&claims, now)?;
            return Ok(claims);
        }
        match verifier.verify_signature(token) {
            Ok(claims) => {
                verifier.check_claims(&claims, now)?;
                let claims = Arc::new(claims);
                self.cache
                    .insert(token, Arc::clone(&claims), now, generation);
                Ok(claims)
            }
            Err(VerifyError::UnknownKey) => {
                if self.source.is_some() {
                    self.schedule.unknown_kid();
                }
                Err(VerifyError::UnknownKey)
            }
            Err(error) => Err(error),
        }
    }
}

impl Policy {
    /// Where the host must fetch the JWKS from, if anywhere.
    pub(crate) fn jwks_source(&self) -> Option<&FeedSource> {
        self.keys.source.as_ref()
    }

    /// Whether to fetch the JWKS now; a `true` counts as a fetch started.
    pub(crate) fn jwks_due(&self, now: i64) -> bool {
        self.keys.source.is_some() && self.keys.schedule.due(now)
    }

    /// The end of a JWKS fetch: a good set replaces the keys (and forgets
    /// cached tokens when it differs); a bad one keeps the last good set.
    /// Tokens without `kid` (the shared secret's) are accepted while the
    /// set has no key, or while it says `"shared_secret": true` (the
    /// database still signs with the secret: `auth.jwks()` in `secret`
    /// mode), the same rule as PostgREST's, which then has no JWKS.
    /// Ok: the number of keys now in use.
    pub(crate) fn jwks_fetched(
        &self,
        now: i64,
        fetched: Result<&[u8], String>,
    ) -> Result<usize, String> {
        let parsed = fetched.and_then(|body| {
            let text = std::str::from_utf8(body).map_err(|_| "the JWKS is not UTF-8".to_owned())?;
            let jwks = Jwks::parse(text).map_err(|e| format!("bad JWKS: {e}"))?;
            let marker: SharedSecretMarker =
                serde_json::from_str(text).map_err(|e| format!("bad JWKS: {e}"))?;
            Ok((jwks, marker.shared_secret))
        });
        let (jwks, shared_secret) = self.keys.schedule.finished(now, parsed)?;
        let count = jwks.len();
        let mut verifier = self
            .keys
            .verifier
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if verifier.jwks() != &jwks || verifier.secret_only_without_keys() == shared_secret {
            *verifier = Arc::new(
                verifier
                    .as_ref()
                    .clone()
                    .with_jwks(jwks)
                    .with_secret_only_without_keys(!shared_secret),
            );
            self.keys.cache.clear();
        }
        Ok(count)
    }

    /// Token cache, JWKS and ended-session metrics: `token_cache.hit`,
    /// `token_cache.miss`, `jwks.fetch_ok`, `jwks.fetch_failed`,
    /// `revocation.fetch_ok`, `revocation.fetch_failed` (counters),
    /// `jwks.keys` and `revocation.sessions` (gauges).
    pub fn key_metrics(&self) -> [KeyMetric; 8] {
        let counter = |name, value| KeyMetric {
            name,
            value,
            gauge: false,
        };
        let (lookups, jwks, revocation) = (
            &self.keys.cache.lookups,
            &self.keys.schedule.fetches,
            &self.revocations.schedule.fetches,
        );
        [
            counter("token_cache.hit", lookups.yes()),
            counter("token_cache.miss", lookups.no()),
            counter("jwks.fetch_ok", jwks.yes()),
            counter("jwks.fetch_failed", jwks.no()),
            counter("revocation.fetch_ok", revocation.yes()),
            counter("revocation.fetch_failed", revocation.no()),
            KeyMetric {
                name: "jwks.keys",
                value: self.keys.verifier().jwks().len() as u64,
                gauge: true,
            },
            KeyMetric {
                name: "revocation.sessions",
                value: self.revocations.len() as u64,
                gauge: true,
            },
        ]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests;

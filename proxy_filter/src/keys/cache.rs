//! Tokens whose signature was verified, so that a signature (an ECDSA check
//! costs tens of microseconds) is checked once per token rather than once
//! per request. Keyed by the whole token; only verified tokens enter, so a
//! client cannot fill it with forgeries. Claims are still checked on every
//! hit: a remembered token expires as it would have.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use jwt_core::Claims;

use crate::tally::Tally;

/// Beyond `exp`, how long an entry may stay before eviction drops it (the
/// largest leeway a configuration may allow).
const EXPIRY_SLACK_SECONDS: i64 = jwt_core::MAX_LEEWAY_SECONDS as i64;

pub(crate) struct TokenCache {
    capacity: usize,
    entries: Mutex<Entries>,
    /// Hits and misses.
    pub(crate) lookups: Tally,
}

/// The tokens, and how many times they were all forgotten: a verification
/// that began before a key change must not remember its token after it.
#[derive(Default)]
struct Entries {
    map: HashMap<Box<str>, Entry>,
    generation: u64,
}

struct Entry {
    claims: Arc<Claims>,
    /// Unix seconds after which the entry is only dead weight.
    useless_after: i64,
}

/// Never the tokens: they are credentials.
impl core::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl TokenCache {
    /// A cache of at most `capacity` tokens (0: nothing is remembered).
    pub(crate) fn new(capacity: usize) -> TokenCache {
        TokenCache {
            capacity,
            entries: Mutex::new(Entries::default()),
            lookups: Tally::default(),
        }
    }

    pub(crate) fn get(&self, token: &str) -> Option<Arc<Claims>> {
        if self.capacity == 0 {
            return None;
        }
        let found = self
            .lock()
            .map
            .get(token)
            .map(|entry| Arc::clone(&entry.claims));
        self.lookups.count(found.is_some());
        found
    }

    /// Which key set the cache holds tokens of: read it before taking the
    /// verifier a token is checked with, and hand it to [`TokenCache::insert`].
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Remembers a token verified with the keys of `generation`; nothing if
    /// the keys have changed since. When full, expired entries go first, then
    /// an arbitrary quarter of the rest (HashMap order): bounded work, bounded size.
    pub(crate) fn insert(&self, token: &str, claims: Arc<Claims>, now: i64, generation: u64) {
        if self.capacity == 0 {
            return;
        }
        let useless_after = match claims.get("exp").and_then(serde_json::Value::as_f64) {
            Some(exp) if exp.is_finite() => (exp as i64).saturating_add(EXPIRY_SLACK_SECONDS),
            // Tokens without exp (allowed only by configuration): a minute.
            _ => now.saturating_add(60),
        };
        let mut guard = self.lock();
        if guard.generation != generation {
            return;
        }
        let entries = &mut guard.map;
        if entries.len() >= self.capacity {
            entries.retain(|_, entry| entry.useless_after > now);
        }
        if entries.len() >= self.capacity {
            let drop = (self.capacity / 4).max(1);
            let doomed: Vec<Box<str>> = entries.keys().take(drop).cloned().collect();
            for key in doomed {
                entries.remove(&key);
            }
        }
        entries.insert(
            token.into(),
            Entry {
                claims,
                useless_after,
            },
        );
    }

    /// Forgets every token (the key set changed: a revoked key's tokens must
    /// not outlive it here).
    pub(crate) fn clear(&self) {
        let mut entries = self.lock();
        entries.map.clear();
        entries.generation = entries.generation.wrapping_add(1);
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// A poisoned lock only means another request panicked while holding it
    /// (none does); the map itself is always consistent.
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Arc<Claims> {
        Arc::new(Claims::parse(format!(r#"{{"exp":{exp}}}"#).as_bytes()).unwrap())
    }

    #[test]
    fn remembers_and_counts() {
        let cache = TokenCache::new(8);
        assert!(cache.get("a").is_none());
        cache.insert("a", claims(2000), 1000, 0);
        assert!(cache.get("a").is_some());
        assert_eq!((cache.lookups.yes(), cache.lookups.no()), (1, 1));
        cache.clear();
        assert!(cache.get("a").is_none());
    }

    /// A verification that began before a key change (the gate's threads
    /// race the JWKS refresh) cannot leave its token behind the clear.
    #[test]
    fn a_token_verified_before_a_key_change_is_not_remembered() {
        let cache = TokenCache::new(8);
        let generation = cache.generation();
        cache.clear();
        cache.insert("verified with the old keys", claims(2000), 1000, generation);
        assert!(cache.get("verified with the old keys").is_none());
        cache.insert(
            "verified with the new keys",
            claims(2000),
            1000,
            cache.generation(),
        );
        assert!(cache.get("verified with the new keys").is_some());
    }

    #[test]
    fn stays_within_its_capacity_and_drops_expired_entries_first() {
        let cache = TokenCache::new(4);
        cache.insert("old", claims(1000), 900, 0);
        for token in ["a", "b", "c"] {
            cache.insert(token, claims(5000), 900, 0);
        }
        cache.insert("d", claims(5000), 2000, 0);
        assert!(cache.get("old").is_none(), "expired entry evicted first");
        assert_eq!(cache.len(), 4);
        for n in 0..100 {
            cache.insert(&format!("t{n}"), claims(5000), 2000, 0);
            assert!(cache.len() <= 4);
        }
    }

    #[test]
    fn zero_capacity_remembers_nothing() {
        let cache = TokenCache::new(0);
        cache.insert("a", claims(5000), 1000, 0);
        assert!(cache.get("a").is_none());
        assert_eq!(cache.lookups.no(), 0);
    }
}

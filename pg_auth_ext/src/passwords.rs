//! bcrypt password hashing, compatible with pgcrypto's `crypt(…, gen_salt('bf'))`.

use std::cell::RefCell;

use pgrx::prelude::*;

use crate::error::{AuthError, OrRaise};
use crate::settings;

/// bcrypt reads at most 72 bytes; longer passwords are refused, never truncated.
const MAX_PASSWORD_BYTES: usize = 72;

/// A new hash at `pg_auth.bcrypt_cost`, as `$2a$`: pgcrypto's `crypt()`
/// verifies that version (not `$2b$`), so the seed can still read our hashes.
/// The two versions differ only for passwords over 255 bytes, refused here.
#[pg_extern(volatile, parallel_safe)]
fn hash_password(password: &str) -> String {
    check_password(password).or_raise();
    bcrypt::hash_with_result(password, settings::bcrypt_cost())
        .map(|parts| parts.format_for_version(bcrypt::Version::TwoA))
        .map_err(|e| AuthError::PasswordHash(e.to_string()))
        .or_raise()
}

/// Whether `password` matches `hash`. With no hash (unknown user) it checks
/// against a dummy hash at the configured cost, so both cases cost the same
/// bcrypt work and answer alike.
#[pg_extern(volatile, parallel_safe)]
fn verify_password(password: Option<&str>, hash: Option<&str>) -> bool {
    let password = password.unwrap_or_default();
    let Some(hash) = hash else {
        let _ = bcrypt::verify(password, &dummy_hash());
        return false;
    };
    if check_password(password).is_err() {
        let _ = bcrypt::verify("", &dummy_hash());
        return false;
    }
    bcrypt::verify(password, hash).unwrap_or(false)
}

/// Whether a stored hash is weaker than `pg_auth.bcrypt_cost` (or not bcrypt).
#[pg_extern(stable, parallel_safe)]
fn password_needs_rehash(hash: &str) -> bool {
    hash_cost(hash).is_none_or(|cost| cost < settings::bcrypt_cost())
}

/// Whether a value is already a bcrypt hash (`$2a$`/`$2b$`/`$2y$`), as when
/// users are imported with their existing hashes.
#[pg_extern(immutable, parallel_safe)]
fn is_password_hash(value: &str) -> bool {
    hash_cost(value).is_some()
}

fn check_password(password: &str) -> Result<(), AuthError> {
    match password.len() {
        0 => Err(AuthError::EmptyPassword),
        bytes if bytes > MAX_PASSWORD_BYTES => Err(AuthError::PasswordTooLong { bytes }),
        _ => Ok(()),
    }
}

/// The cost of a well-formed bcrypt hash: `$2?$NN$` and 53 characters of salt and digest.
fn hash_cost(hash: &str) -> Option<u32> {
    let rest = hash
        .strip_prefix("$2a$")
        .or_else(|| hash.strip_prefix("$2b$"))
        .or_else(|| hash.strip_prefix("$2y$"))?;
    let (cost, digest) = rest.split_once('$')?;
    let valid_digest = digest.len() == 53
        && digest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/');
    let cost: u32 = cost.parse().ok().filter(|_| cost.len() == 2)?;
    (valid_digest && (4..=31).contains(&cost)).then_some(cost)
}

thread_local! {
    static DUMMY_HASH: RefCell<Option<(u32, String)>> = const { RefCell::new(None) };
}

fn dummy_hash() -> String {
    let cost = settings::bcrypt_cost();
    DUMMY_HASH.with(|cell| {
        let mut cached = cell.borrow_mut();
        match cached.as_ref() {
            Some((cached_cost, hash)) if *cached_cost == cost => hash.clone(),
            _ => {
                let hash = bcrypt::hash("timing-equaliser", cost).unwrap_or_default();
                *cached = Some((cost, hash.clone()));
                hash
            }
        }
    })
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn recognises_bcrypt_hashes() {
        // pgcrypto: crypt('demo', gen_salt('bf'))
        let pgcrypto = "$2a$06$P2vDzRg8DDAzfq1hL1DIuu5ywV2ZQqMK3q8zbnOLmOtr/ScV1Pc0a";
        assert_eq!(hash_cost(pgcrypto), Some(6));
        assert_eq!(hash_cost("$2b$10$abc"), None);
        assert_eq!(hash_cost("demo"), None);
        assert_eq!(
            hash_cost("$2a$6$P2vDzRg8DDAzfq1hL1DIuu5ywV2ZQqMK3q8zbnOLmOtr/ScV1Pc0a"),
            None
        );
    }

    #[test]
    fn password_bounds() {
        assert!(check_password("x").is_ok());
        assert!(check_password(&"x".repeat(72)).is_ok());
        assert!(matches!(check_password(""), Err(AuthError::EmptyPassword)));
        assert!(matches!(
            check_password(&"x".repeat(73)),
            Err(AuthError::PasswordTooLong { bytes: 73 })
        ));
    }
}

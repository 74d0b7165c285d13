//! Passwords: bcrypt hashes readable by pgcrypto's `crypt()` (and the other
//! way round), computed in Rust, cancellable, at a bounded cost, and timed
//! so that a login costs the same whoever the user and whatever the stored
//! hash.

use std::cell::Cell;

use pgrx::prelude::*;

use crate::error::{AuthError, OrRaise};
use crate::settings;

mod bcrypt;

use bcrypt::{burn, pad, Hash};
pub use bcrypt::{MAX_COST, MAX_PASSWORD_BYTES, MIN_COST};

thread_local! {
    /// How often the hashing loop has checked for interrupts in this
    /// backend: the work done, for tests that compare logins.
    static ROUNDS_CHECKED: Cell<u64> = const { Cell::new(0) };
}

/// Lets a cancel or `statement_timeout` end a long hash promptly.
fn between_rounds() {
    ROUNDS_CHECKED.set(ROUNDS_CHECKED.get().wrapping_add(1));
    pgrx::check_for_interrupts!();
}

#[cfg(any(test, feature = "pg_test"))]
pub(crate) fn rounds_checked() -> u64 {
    ROUNDS_CHECKED.get()
}

/// A new hash of `password` at `pg_auth.bcrypt_cost`, as `$2a$` so that
/// pgcrypto can still verify it.
#[pg_extern(volatile, parallel_safe)]
fn hash_password(password: &str) -> String {
    check_password(password).or_raise();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| AuthError::Random(e.to_string()))
        .or_raise();
    Hash::compute(
        password.as_bytes(),
        settings::bcrypt_cost(),
        salt,
        &mut between_rounds,
    )
    .format()
}

/// Whether `password` matches `hash`, in the time one hash at
/// `pg_auth.bcrypt_cost` takes whatever the inputs: an unknown user (no
/// hash), a refused password, a hash of another cost or an unusable one all
/// cost the same work and answer alike.
#[pg_extern(volatile, parallel_safe)]
fn verify_password(password: Option<&str>, hash: Option<&str>) -> bool {
    let target = settings::bcrypt_cost();
    let password = password.unwrap_or_default();
    let stored = hash
        .and_then(Hash::parse)
        .filter(|hash| hash.cost() <= MAX_COST);
    match stored {
        Some(stored) if check_password(password).is_ok() => {
            let matches = stored.matches(password.as_bytes(), &mut between_rounds);
            pad(stored.cost(), target, &mut between_rounds);
            matches
        }
        _ => {
            burn(target, &mut between_rounds);
            false
        }
    }
}

/// Whether a stored hash should be replaced at the next login: another cost
/// than `pg_auth.bcrypt_cost` (so that every hash converges to it), or not a
/// usable hash at all.
#[pg_extern(stable, parallel_safe)]
fn password_needs_rehash(hash: &str) -> bool {
    Hash::parse(hash).is_none_or(|hash| hash.cost() != settings::bcrypt_cost())
}

/// Whether a value is a bcrypt hash (`$2a$`/`$2b$`/`$2y$`) within the cost
/// bounds this extension verifies.
#[pg_extern(immutable, parallel_safe)]
fn is_password_hash(value: &str) -> bool {
    Hash::parse(value).is_some_and(|hash| hash.cost() <= MAX_COST)
}

/// The value to store for a password written to `auth.user`: its hash, or
/// an existing bcrypt hash as it is when a superuser session writes it
/// (importing users from pgcrypto, `pg_restore`) and its cost is within
/// bounds. Anyone else's value that looks like a hash is refused rather than
/// stored or silently turned into a password.
#[pg_extern(volatile, parallel_safe)]
fn password_to_store(value: &str) -> String {
    if STORING_OWN_HASH.get() {
        return value.to_owned();
    }
    match Hash::parse(value) {
        Some(hash) if hash.cost() > MAX_COST => AuthError::HashCostTooHigh {
            cost: hash.cost(),
            max: MAX_COST,
        }
        .raise(),
        Some(_) if session_user_is_superuser() => value.to_owned(),
        Some(_) => AuthError::HashOutsideImport.raise(),
        None => hash_password(value),
    }
}

/// The role that logged in, not the owner of a SECURITY DEFINER function
/// running now: an RPC must not become an import path.
fn session_user_is_superuser() -> bool {
    // SAFETY: plain catalog lookups for the current session's user.
    unsafe { pg_sys::superuser_arg(pg_sys::GetSessionUserId()) }
}

thread_local! {
    /// Set while a login stores the rehash of a password it just verified:
    /// the password did not change, so the user's sessions stay.
    static STORING_OWN_HASH: Cell<bool> = const { Cell::new(false) };
}

/// Rehashes a verified password at the configured cost. The update does not
/// count as a password change: the user's sessions stay.
#[pg_extern(volatile, parallel_unsafe)]
fn upgrade_password_hash(username: &str, password: &str) {
    let hash = hash_password(password);
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            STORING_OWN_HASH.set(false);
        }
    }
    STORING_OWN_HASH.set(true);
    let _reset = Reset;
    Spi::run_with_args(
        r#"update auth."user" set password = $1 where username = $2"#,
        &[hash.into(), username.into()],
    )
    .map_err(|e| AuthError::Internal(e.to_string()))
    .or_raise();
}

/// Whether the current write to `auth.user` is a rehash by the extension
/// (see `upgrade_password_hash`), not a password change.
#[pg_extern(stable, parallel_safe)]
fn password_write_is_rehash() -> bool {
    STORING_OWN_HASH.get()
}

fn check_password(password: &str) -> Result<(), AuthError> {
    match password.len() {
        0 => Err(AuthError::EmptyPassword),
        bytes if bytes > MAX_PASSWORD_BYTES => Err(AuthError::PasswordTooLong { bytes }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

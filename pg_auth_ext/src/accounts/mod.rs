//! What sign-up, verification and password reset need from Rust: email
//! addresses checked and written one way, the password policy, and the
//! one-time tokens mailed in links. The RPCs themselves are SQL
//! (`install_sql/accounts_email.sql`).

use pgrx::prelude::*;

mod email;
mod password_policy;

/// `address` trimmed and in lower case, or NULL when it is not one address
/// the extension can send to (see `email::normalize`).
#[pg_extern(immutable, parallel_safe)]
fn normalize_email(address: &str) -> Option<String> {
    email::normalize(address)
}

/// Why the policy refuses `password` as a new password (too short, on the
/// blocklist, too guessable, with a hint), or NULL when it accepts it.
/// `username` and `email` count as known words: a password made of them is
/// guessable.
#[pg_extern(stable, parallel_safe)]
fn password_weakness(
    password: &str,
    username: Option<&str>,
    email: Option<&str>,
) -> Option<String> {
    password_policy::weakness(password, &[username, email])
}

/// A one-time token for a mailed link: 256 random bits, base64url. Only its
/// hash (`auth.hash_token`) is stored.
#[pg_extern(volatile, parallel_safe)]
fn new_link_token() -> String {
    crate::refresh::random_token()
}

//! `pg_auth_ext`: cookie JWT authentication for PostgREST.
//!
//! `CREATE EXTENSION pg_auth_ext` creates schema `auth` with:
//!
//! | SQL | where |
//! |---|---|
//! | `auth.login(user_, pass)`, `auth.refresh_token()`, `auth.logout()` (the PostgREST RPCs) | `sql/rpc.sql` |
//! | `auth.check_session()` (PostgREST `db-pre-request`: ended sessions lose their access tokens) | `sql/rpc.sql` |
//! | tables `auth.user`, `auth.session`, `auth.refresh_token`; password and role triggers | `sql/tables.sql` |
//! | `auth.sign_raw(payload, secret, algorithm)`, `auth.generate_access_token(role_, user_, secret)` (the seed's) | `tokens.rs` |
//! | `auth.issue_access_token`, `auth.session_of` | `tokens.rs` |
//! | `auth.hash_password`, `auth.verify_password`, `auth.password_needs_rehash`, `auth.is_password_hash` | `passwords.rs` |
//! | `auth.session_cookies`, `auth.logout_cookies` | `cookies.rs` |
//! | `auth.new_refresh_token` | `sessions.rs` |
//! | settings `pg_auth.*` | `settings.rs` |
//!
//! Nothing is granted to PUBLIC (`sql/privileges.sql`); deployments grant the RPCs.

use pgrx::prelude::*;

mod cookies;
mod error;
mod passwords;
mod sessions;
mod settings;
mod tokens;

::pgrx::pg_module_magic!();

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    settings::register();
}

extension_sql_file!(
    "sql/tables.sql",
    name = "tables",
    requires = [passwords::hash_password, passwords::is_password_hash]
);
extension_sql_file!(
    "sql/rpc.sql",
    name = "rpc",
    requires = [
        "tables",
        cookies::session_cookies,
        cookies::logout_cookies,
        passwords::verify_password,
        passwords::password_needs_rehash,
        sessions::new_refresh_token,
        tokens::issue_access_token,
        tokens::session_of,
    ]
);
extension_sql_file!("sql/privileges.sql", name = "privileges", finalize);

#[cfg(any(test, feature = "pg_test"))]
mod test_fixtures;

// One file per concern; `#[pg_schema]` needs the module inline.
#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use crate::test_fixtures::*;
    use jwt_core::{sign_claims, Algorithm, Claims};
    use pgrx::prelude::*;

    include!("tests/seed_compat.rs");
    include!("tests/sessions.rs");
    include!("tests/passwords.rs");
    include!("tests/privileges.rs");
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec!["shared_preload_libraries = 'pg_auth_ext'"]
    }
}

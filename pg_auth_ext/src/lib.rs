//! `pg_auth_ext`: cookie JWT authentication for PostgREST.
//!
//! `CREATE EXTENSION pg_auth_ext` creates schema `auth` with:
//!
//! | SQL | where |
//! |---|---|
//! | `auth.login(user_, pass)`, `auth.refresh_token()`, `auth.logout(scope)` (the PostgREST RPCs) | `install_sql/rpc.sql` |
//! | `auth.sessions()`, `auth.end_session(id)`, `auth.change_password(old_pass, new_pass)` (with `auth.recheck_password`, which change_email shares), `auth.end_user_sessions(username)` (administrators), `auth.ended_sessions(since)` (for the proxies) | `install_sql/sessions.sql` |
//! | the login throttle (`auth.login_wait`, `auth.record_login_failure`, `auth.address_key`...), table `auth.login_throttle` | `install_sql/throttle.sql` |
//! | the audit trail (`auth.audit`, table `auth.audit_event`), `auth.client_address()`, `auth.client_user_agent()` | `install_sql/audit.sql` |
//! | `auth.forwarded_address` (the client address in `X-Forwarded-For`) | `request.rs` |
//! | `auth.me()` (who is signed in, for the app) | `install_sql/rpc.sql` |
//! | `auth.check_session()` (PostgREST `db-pre-request`: ended sessions lose their access tokens), `auth.session_is_live(session)` (the one liveness rule) | `install_sql/rpc.sql` |
//! | `auth.cleanup_expired_sessions(max_rows)` (bounded purge, for a scheduler) | `install_sql/rpc.sql` |
//! | tables `auth.user`, `auth.session`, `auth.refresh_token` | `install_sql/tables.sql` |
//! | what may be stored in `auth.user`, and what a change ends | `install_sql/accounts.sql` |
//! | `auth.signup(email, pass)`, `auth.verify_email(token)`, `auth.resend_verification(email)`, `auth.request_password_reset(email)`, `auth.reset_password(token, new_pass)`, `auth.change_email(new_email, pass)`, `auth.confirm_email_change(token)`, `auth.outbox_sent(id)`, `auth.outbox_failed(id, error)` (for the mailer), tables `auth.link_token`, `auth.outbox` | `install_sql/signup.sql` |
//! | `auth.mfa_enroll_totp(friendly_name)`, `auth.mfa_verify(factor_id, code)`, `auth.mfa_recover(code)`, `auth.mfa_factors()`, `auth.mfa_unenroll(factor_id)`, the `aal` of sessions (`auth.step_up`), tables `auth.mfa_factor`, `auth.recovery_code` | `install_sql/mfa.sql` |
//! | `auth.passkey_register_begin(friendly_name)`/`_finish(challenge_id, credential)`, `auth.passkey_login_begin()`/`_finish(challenge_id, credential)` (no password), `auth.mfa_passkey_begin()`/`_finish(challenge_id, credential)` (second factor), tables `auth.passkey`, `auth.webauthn_challenge` | `install_sql/passkeys.sql` |
//! | `auth.new_totp_secret`, `auth.totp_step`, `auth.new_recovery_codes`, `auth.recovery_code_hash`, the WebAuthn ceremonies (`auth.passkey_*`) | `mfa/` |
//! | `auth.normalize_email`, `auth.password_weakness` (the password policy), `auth.new_link_token` | `accounts/` |
//! | `auth.sign_raw(payload, secret, algorithm)`, `auth.generate_access_token(role_, user_, secret)` (the legacy setup's) | `tokens.rs` |
//! | `auth.access_token` (with custom claims), `auth.session_access_token` (with the session's `aal` and `amr`), `auth.issue_access_token`, `auth.session_of`, `auth.live_session_of`, `auth.parse_session_id` | `tokens.rs` |
//! | `auth.hash_password`, `auth.verify_password`, `auth.password_needs_rehash`, `auth.is_password_hash` | `passwords/` |
//! | `auth.session_cookies`, `auth.access_cookie`, `auth.logout_cookies`, `auth.auth_rpc_paths` | `cookies.rs` |
//! | `auth.new_refresh_token`, `auth.hash_token`, `auth.seal_successor`, `auth.open_successor` | `refresh.rs` |
//! | `auth.create_signing_key(algorithm)`, `auth.rotate_signing_keys(force)`, `auth.revoke_signing_key(kid)`, `auth.jwks()`, `auth.public_keys()`, `auth.publish_jwks()`, `auth.retire_expired_keys()`, `auth.reseal_signing_keys(old_key_file)`, table `auth.signing_key` | `install_sql/signing_keys.sql` |
//! | `auth.generate_signing_key` (key pairs, sealed), `auth.check_jwks`, `auth.max_published_keys`, what signs and verifies | `signing_keys.rs` |
//! | `auth.problem_of(slug)` (the failures clients see, raised by `auth.fail`) | `problems.rs` |
//! | settings `pg_auth.*`, and their SQL accessors | `settings/` |
//! | the key files (shared secret, key-encryption key) | `key_file.rs` |
//!
//! Nothing is granted to PUBLIC (`install_sql/privileges.sql`), not even on
//! functions created in `auth` later; deployments grant the RPCs.

use pgrx::prelude::*;

mod accounts;
mod cookies;
mod error;
mod key_file;
mod mfa;
mod passwords;
mod problems;
mod refresh;
mod request;
mod sealing;
mod settings;
mod signing_keys;
mod tokens;

::pgrx::pg_module_magic!();

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    settings::register();
}

extension_sql_file!("install_sql/guard.sql", name = "guard", bootstrap);
extension_sql_file!(
    "install_sql/tables.sql",
    name = "tables",
    requires = ["guard"]
);
extension_sql_file!(
    "install_sql/accounts.sql",
    name = "accounts",
    requires = [
        "tables",
        passwords::password_to_store,
        passwords::password_write_is_rehash,
        settings::sql::authenticator_role,
    ]
);
extension_sql_file!(
    "install_sql/audit.sql",
    name = "audit",
    requires = [
        "tables",
        settings::sql::trusted_proxy_hops,
        settings::sql::audit_enabled,
        request::forwarded_address
    ]
);
extension_sql_file!(
    "install_sql/throttle.sql",
    name = "throttle",
    requires = [
        "tables",
        settings::sql::login_throttle_limits,
        settings::sql::address_prefix_v6
    ]
);
extension_sql_file!(
    "install_sql/signing_keys.sql",
    name = "signing_keys",
    requires = [
        "tables",
        "audit",
        signing_keys::generate_signing_key,
        signing_keys::max_published_keys,
        signing_keys::check_jwks,
        signing_keys::reseal_private_key,
        mfa::totp::reseal_totp_secret,
        settings::sql::access_token_ttl,
        settings::sql::signing_mode,
        settings::sql::key_rotation_delay,
        settings::sql::authenticator_role,
    ]
);
extension_sql_file!(
    "install_sql/rpc.sql",
    name = "rpc",
    requires = [
        "accounts",
        "audit",
        "throttle",
        "signing_keys",
        cookies::session_cookies,
        cookies::logout_cookies,
        cookies::auth_rpc_paths,
        passwords::verify_password,
        passwords::password_needs_rehash,
        passwords::upgrade_password_hash,
        problems::problem_of,
        refresh::new_refresh_token,
        refresh::hash_token,
        refresh::seal_successor,
        refresh::open_successor,
        settings::sql::access_token_ttl,
        settings::sql::session_lifetime,
        settings::sql::refresh_reuse_grace,
        settings::sql::refresh_min_interval,
        settings::sql::refresh_token_history,
        settings::sql::access_cookie_name,
        settings::sql::refresh_cookie_name,
        tokens::access_token,
        tokens::session_access_token,
        cookies::access_cookie,
        settings::sql::custom_claims_function,
        tokens::session_of,
        tokens::live_session_of,
        tokens::parse_session_id,
        settings::sql::session_idle_timeout,
        settings::sql::audit_retention,
    ]
);
extension_sql_file!(
    "install_sql/sessions.sql",
    name = "sessions",
    requires = ["rpc"]
);
extension_sql_file!(
    "install_sql/signup.sql",
    name = "signup",
    requires = [
        "sessions",
        accounts::normalize_email,
        accounts::password_weakness,
        accounts::new_link_token,
        passwords::hash_password,
        settings::sql::signup_open,
        settings::sql::signup_role,
        settings::sql::email_confirm_required,
        settings::sql::link_lifetime,
        settings::sql::site_url,
    ]
);
extension_sql_file!(
    "install_sql/mfa.sql",
    name = "mfa",
    requires = [
        "signup",
        mfa::totp::new_totp_secret,
        mfa::totp::totp_step,
        mfa::recovery::new_recovery_codes,
        mfa::recovery::recovery_code_hash,
        settings::sql::mfa_required_roles,
        settings::sql::mfa_max_failures,
    ]
);
extension_sql_file!(
    "install_sql/passkeys.sql",
    name = "passkeys",
    requires = [
        "mfa",
        mfa::passkey::passkey_registration_options,
        mfa::passkey::passkey_registered,
        mfa::passkey::passkey_login_options,
        mfa::passkey::passkey_identify,
        mfa::passkey::passkey_login_checked,
        mfa::passkey::passkey_challenge_options,
        mfa::passkey::passkey_challenge_checked,
        settings::sql::passkeys_enabled,
    ]
);
extension_sql_file!("install_sql/privileges.sql", name = "privileges", finalize);

#[cfg(any(test, feature = "pg_test"))]
mod tests;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec!["shared_preload_libraries = 'pg_auth_ext'"]
    }
}

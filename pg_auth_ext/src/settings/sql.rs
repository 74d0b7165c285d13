//! The settings SQL needs, read through these accessors rather than by name
//! with `current_setting`, so that each has one owner and one type.

use pgrx::datum::Interval;
use pgrx::prelude::*;

fn seconds(value: i64) -> Interval {
    Interval::from_micros(value.saturating_mul(1_000_000))
}

/// `pg_auth.access_token_ttl` as an interval.
#[pg_extern(stable, parallel_safe)]
fn access_token_ttl() -> Interval {
    seconds(super::access_token_ttl())
}

/// `pg_auth.refresh_token_ttl` as an interval: how long a session lasts.
#[pg_extern(stable, parallel_safe)]
fn session_lifetime() -> Interval {
    seconds(super::refresh_token_ttl())
}

#[pg_extern(stable, parallel_safe)]
fn refresh_reuse_grace() -> Interval {
    seconds(super::refresh_reuse_grace())
}

#[pg_extern(stable, parallel_safe)]
fn refresh_min_interval() -> Interval {
    seconds(super::refresh_min_interval())
}

#[pg_extern(stable, parallel_safe)]
fn refresh_token_history() -> i32 {
    super::refresh_token_history()
}

#[pg_extern(stable, parallel_safe)]
fn access_cookie_name() -> String {
    super::cookie_names().access
}

#[pg_extern(stable, parallel_safe)]
fn refresh_cookie_name() -> String {
    super::cookie_names().refresh
}

/// `pg_auth.custom_claims_function`, or NULL.
#[pg_extern(stable, parallel_safe)]
fn custom_claims_function() -> Option<String> {
    super::custom_claims_function()
}

#[pg_extern(stable, parallel_safe)]
fn authenticator_role() -> String {
    super::authenticator_role()
}

/// `pg_auth.signing_mode`: `secret` or `keys`.
#[pg_extern(stable, parallel_safe)]
fn signing_mode() -> &'static str {
    match super::signing_mode() {
        super::SigningMode::Secret => "secret",
        super::SigningMode::Keys => "keys",
    }
}

/// `pg_auth.key_rotation_delay` as an interval.
#[pg_extern(stable, parallel_safe)]
fn key_rotation_delay() -> Interval {
    seconds(i64::from(super::KEY_ROTATION_DELAY.get()))
}

/// `pg_auth.session_idle_timeout` as an interval, NULL when off.
#[pg_extern(stable, parallel_safe)]
fn session_idle_timeout() -> Option<Interval> {
    let value = super::SESSION_IDLE_TIMEOUT.get();
    (value > 0).then(|| seconds(i64::from(value)))
}

/// The login throttle's settings: failures per username and per address
/// before a wait (0: off), the first and the longest wait, and how long
/// failures are remembered (seconds).
#[pg_extern(stable, parallel_safe)]
fn login_throttle_limits() -> TableIterator<
    'static,
    (
        name!(max_failures, i32),
        name!(max_failures_per_address, i32),
        name!(first_delay, i32),
        name!(max_delay, i32),
        name!(failure_window, i32),
    ),
> {
    TableIterator::once((
        super::LOGIN_MAX_FAILURES.get(),
        super::LOGIN_MAX_FAILURES_PER_ADDRESS.get(),
        super::LOGIN_THROTTLE_DELAY.get(),
        super::LOGIN_THROTTLE_MAX_DELAY.get(),
        super::LOGIN_FAILURE_WINDOW.get(),
    ))
}

/// 0.2.0's array of the same, read by position: no longer declared, but
/// exported for 0.2.0's SQL between a library upgrade and ALTER EXTENSION.
#[pg_extern(stable, parallel_safe, sql = false)]
fn login_throttle_settings() -> Vec<i32> {
    login_throttle_limits()
        .flat_map(|(a, b, c, d, e)| [a, b, c, d, e])
        .collect()
}

#[pg_extern(stable, parallel_safe)]
fn trusted_proxy_hops() -> i32 {
    super::TRUSTED_PROXY_HOPS.get()
}

#[pg_extern(stable, parallel_safe)]
fn address_prefix_v6() -> i32 {
    super::ADDRESS_PREFIX_V6.get()
}

#[pg_extern(stable, parallel_safe)]
fn audit_enabled() -> bool {
    super::AUDIT.get()
}

#[pg_extern(stable, parallel_safe)]
fn audit_retention() -> Interval {
    seconds(i64::from(super::AUDIT_RETENTION.get()))
}

/// `pg_auth.signup`: whether anyone may sign up.
#[pg_extern(stable, parallel_safe)]
fn signup_open() -> bool {
    super::signup_open()
}

/// `pg_auth.signup_role`, or NULL.
#[pg_extern(stable, parallel_safe)]
fn signup_role() -> Option<String> {
    super::signup_role()
}

#[pg_extern(stable, parallel_safe)]
fn email_confirm_required() -> bool {
    super::EMAIL_CONFIRM_REQUIRED.get()
}

/// How long a link of `kind` stays valid: `reset_password` links
/// `pg_auth.reset_token_ttl`, the others `pg_auth.email_token_ttl`.
#[pg_extern(stable, parallel_safe)]
fn link_lifetime(kind: &str) -> Interval {
    let ttl = if kind == "reset_password" {
        super::RESET_TOKEN_TTL.get()
    } else {
        super::EMAIL_TOKEN_TTL.get()
    };
    seconds(i64::from(ttl))
}

/// `pg_auth.site_url` without a trailing slash, or NULL.
#[pg_extern(stable, parallel_safe)]
fn site_url() -> Option<String> {
    super::text(&super::SITE_URL).map(|url| url.trim_end_matches('/').to_owned())
}

/// `pg_auth.mfa_required_roles`: the roles whose users need a second factor.
#[pg_extern(stable, parallel_safe)]
fn mfa_required_roles() -> Vec<String> {
    super::mfa_required_roles()
}

#[pg_extern(stable, parallel_safe)]
fn mfa_max_failures() -> i32 {
    super::mfa_max_failures()
}

/// Whether passkeys are set up (`pg_auth.webauthn_rp_id`).
#[pg_extern(stable, parallel_safe)]
fn passkeys_enabled() -> bool {
    super::webauthn_rp_id().is_some()
}

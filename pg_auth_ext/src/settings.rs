//! The extension's settings (`pg_auth.*`), all superuser-only to change.
//!
//! `pg_auth.jwt_secret` is also superuser-only to *read*. That only holds once
//! the library has defined the setting, which is why the library must be in
//! `shared_preload_libraries`: before it loads, a value from postgresql.conf
//! or ALTER DATABASE is a plain placeholder that any role can read.

use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};

use jwt_core::{Algorithm, Key, SameSite};
use pgrx::{pg_sys, GucContext, GucFlags, GucRegistry, GucSetting};

use crate::error::AuthError;

static PRELOADED: AtomicBool = AtomicBool::new(false);

static JWT_SECRET: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static JWT_SECRET_IS_BASE64: GucSetting<bool> = GucSetting::<bool>::new(false);
static JWT_ALGORITHM: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"HS256"));
static JWT_AUDIENCE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static JWT_ISSUER: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static ACCESS_TOKEN_TTL: GucSetting<i32> = GucSetting::<i32>::new(600);
static REFRESH_TOKEN_TTL: GucSetting<i32> = GucSetting::<i32>::new(30 * 24 * 3600);
static REFRESH_REUSE_GRACE: GucSetting<i32> = GucSetting::<i32>::new(10);
static COOKIE_SECURE: GucSetting<bool> = GucSetting::<bool>::new(true);
static COOKIE_SAMESITE: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"Lax"));
static REFRESH_COOKIE_PATH: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"/rpc/refresh_token"));
static BCRYPT_COST: GucSetting<i32> = GucSetting::<i32>::new(10);

/// Called from `_PG_init`.
pub fn register() {
    // SAFETY: reading a flag Postgres sets while it loads preload libraries.
    let preloading = unsafe { pg_sys::process_shared_preload_libraries_in_progress };
    PRELOADED.store(preloading, Ordering::Relaxed);

    let secret_flags = GucFlags::SUPERUSER_ONLY | GucFlags::NO_SHOW_ALL;
    GucRegistry::define_string_guc(
        c"pg_auth.jwt_secret",
        c"Secret that signs access tokens (the same as PostgREST's jwt-secret).",
        c"Readable and settable by superusers only.",
        &JWT_SECRET,
        GucContext::Suset,
        secret_flags,
    );
    GucRegistry::define_bool_guc(
        c"pg_auth.jwt_secret_is_base64",
        c"Whether pg_auth.jwt_secret is base64 (PostgREST's jwt-secret-is-base64).",
        c"",
        &JWT_SECRET_IS_BASE64,
        GucContext::Suset,
        GucFlags::default(),
    );
    string_setting(
        c"pg_auth.jwt_algorithm",
        c"HS256, HS384 or HS512.",
        &JWT_ALGORITHM,
    );
    string_setting(
        c"pg_auth.jwt_aud",
        c"aud claim of access tokens (unset: none).",
        &JWT_AUDIENCE,
    );
    string_setting(
        c"pg_auth.jwt_iss",
        c"iss claim of access tokens (unset: none).",
        &JWT_ISSUER,
    );
    seconds_setting(
        c"pg_auth.access_token_ttl",
        c"Access token lifetime in seconds.",
        &ACCESS_TOKEN_TTL,
        1,
    );
    seconds_setting(
        c"pg_auth.refresh_token_ttl",
        c"Session (refresh token) lifetime in seconds, counted from login.",
        &REFRESH_TOKEN_TTL,
        60,
    );
    seconds_setting(
        c"pg_auth.refresh_reuse_grace",
        c"Seconds during which an already rotated refresh token is still accepted (tabs refreshing at once).",
        &REFRESH_REUSE_GRACE,
        0,
    );
    GucRegistry::define_bool_guc(
        c"pg_auth.cookie_secure",
        c"Whether cookies carry the Secure attribute (turn off only for plain-HTTP development).",
        c"",
        &COOKIE_SECURE,
        GucContext::Suset,
        GucFlags::default(),
    );
    string_setting(
        c"pg_auth.cookie_samesite",
        c"SameSite of the cookies: Strict, Lax or None.",
        &COOKIE_SAMESITE,
    );
    string_setting(
        c"pg_auth.refresh_cookie_path",
        c"Path of the refresh_token cookie: where the refresh RPC is served.",
        &REFRESH_COOKIE_PATH,
    );
    GucRegistry::define_int_guc(
        c"pg_auth.bcrypt_cost",
        c"bcrypt cost of new password hashes; weaker stored hashes are upgraded at login.",
        c"",
        &BCRYPT_COST,
        4,
        31,
        GucContext::Suset,
        GucFlags::default(),
    );
    // SAFETY: plain call during _PG_init; makes `pg_auth.<typo>` an error.
    unsafe { pg_sys::MarkGUCPrefixReserved(c"pg_auth".as_ptr()) };
}

fn string_setting(
    name: &'static CStr,
    description: &'static CStr,
    setting: &'static GucSetting<Option<CString>>,
) {
    GucRegistry::define_string_guc(
        name,
        description,
        c"",
        setting,
        GucContext::Suset,
        GucFlags::default(),
    );
}

fn seconds_setting(
    name: &'static CStr,
    description: &'static CStr,
    setting: &'static GucSetting<i32>,
    min: i32,
) {
    GucRegistry::define_int_guc(
        name,
        description,
        c"",
        setting,
        min,
        i32::MAX,
        GucContext::Suset,
        GucFlags::default(),
    );
}

fn text(setting: &GucSetting<Option<CString>>) -> Option<String> {
    setting
        .get()
        .map(|value| value.to_string_lossy().into_owned())
        .filter(|value| !value.is_empty())
}

/// The configured signing key, or why it cannot be used.
pub fn signing_key() -> Result<Key, AuthError> {
    if !PRELOADED.load(Ordering::Relaxed) {
        return Err(AuthError::NotPreloaded);
    }
    let secret = text(&JWT_SECRET).ok_or(AuthError::MissingKey)?;
    Key::from_secret(&secret, JWT_SECRET_IS_BASE64.get()).map_err(AuthError::Key)
}

pub fn algorithm() -> Result<Algorithm, AuthError> {
    let name = text(&JWT_ALGORITHM).unwrap_or_default();
    name.parse().map_err(|_| AuthError::UnknownAlgorithm(name))
}

pub fn audience() -> Option<String> {
    text(&JWT_AUDIENCE)
}

pub fn issuer() -> Option<String> {
    text(&JWT_ISSUER)
}

pub fn access_token_ttl() -> i64 {
    i64::from(ACCESS_TOKEN_TTL.get())
}

pub fn cookie_secure() -> bool {
    COOKIE_SECURE.get()
}

pub fn cookie_same_site() -> Result<SameSite, AuthError> {
    text(&COOKIE_SAMESITE)
        .unwrap_or_default()
        .parse()
        .map_err(|e: jwt_core::SetCookieError| AuthError::Setting {
            name: "pg_auth.cookie_samesite",
            problem: e.to_string(),
        })
}

pub fn refresh_cookie_path() -> String {
    text(&REFRESH_COOKIE_PATH).unwrap_or_else(|| "/rpc/refresh_token".into())
}

pub fn bcrypt_cost() -> u32 {
    u32::try_from(BCRYPT_COST.get()).unwrap_or(10)
}

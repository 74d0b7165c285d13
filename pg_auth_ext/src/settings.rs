//! The extension's settings (`pg_auth.*`), superuser-only to change. No
//! setting holds key material: the signing key is read from the file that
//! `pg_auth.jwt_secret_file` names (see `key_file.rs`), so neither the
//! server log, nor `pg_settings`, nor `pg_db_role_setting` ever shows it.
//! Values are checked when they are set: a wrong one is refused there, not
//! at the next login.

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};

use jwt_core::{
    Algorithm, CookieNames, SameSite, ACCESS_COOKIE, DEFAULT_REFRESH_PATH, REFRESH_COOKIE,
};
use pgrx::{pg_sys, GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};

use crate::passwords::{MAX_COST, MIN_COST};

static PRELOADED: AtomicBool = AtomicBool::new(false);

#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum JwtAlgorithm {
    HS256,
    HS384,
    HS512,
}

/// What signs access tokens: the shared secret of `pg_auth.jwt_secret_file`,
/// or the current key pair of `auth.signing_key`.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum SigningMode {
    #[name = c"secret"]
    Secret,
    #[name = c"keys"]
    Keys,
}

#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum CookieSameSite {
    Strict,
    Lax,
    #[name = c"None"]
    Unrestricted,
}

static JWT_SECRET_FILE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static JWT_SECRET_IS_BASE64: GucSetting<bool> = GucSetting::<bool>::new(true);
static JWT_ALGORITHM: GucSetting<JwtAlgorithm> =
    GucSetting::<JwtAlgorithm>::new(JwtAlgorithm::HS256);
static SIGNING_MODE: GucSetting<SigningMode> = GucSetting::<SigningMode>::new(SigningMode::Secret);
static KEY_ENCRYPTION_KEY_FILE: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(None);
static KEY_ROTATION_DELAY: GucSetting<i32> = GucSetting::<i32>::new(120);
static JWT_AUDIENCE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static JWT_ISSUER: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static ACCESS_TOKEN_TTL: GucSetting<i32> = GucSetting::<i32>::new(600);
static REFRESH_TOKEN_TTL: GucSetting<i32> = GucSetting::<i32>::new(30 * 24 * 3600);
static REFRESH_REUSE_GRACE: GucSetting<i32> = GucSetting::<i32>::new(10);
static REFRESH_MIN_INTERVAL: GucSetting<i32> = GucSetting::<i32>::new(5);
static REFRESH_TOKEN_HISTORY: GucSetting<i32> = GucSetting::<i32>::new(50);
static COOKIE_SECURE: GucSetting<bool> = GucSetting::<bool>::new(true);
static COOKIE_SAMESITE: GucSetting<CookieSameSite> =
    GucSetting::<CookieSameSite>::new(CookieSameSite::Lax);
static REFRESH_COOKIE_PATH: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"/rpc/refresh_token"));
static ACCESS_COOKIE_NAME: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"access_token"));
static REFRESH_COOKIE_NAME: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"refresh_token"));
static COOKIE_PREFIXES: GucSetting<bool> = GucSetting::<bool>::new(false);
static COOKIE_DOMAIN: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static CUSTOM_CLAIMS_FUNCTION: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(None);
static BCRYPT_COST: GucSetting<i32> = GucSetting::<i32>::new(10);
static AUTHENTICATOR_ROLE: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"authenticator"));
static SESSION_IDLE_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(0);
static LOGIN_MAX_FAILURES: GucSetting<i32> = GucSetting::<i32>::new(10);
static LOGIN_MAX_FAILURES_PER_ADDRESS: GucSetting<i32> = GucSetting::<i32>::new(100);
static LOGIN_THROTTLE_DELAY: GucSetting<i32> = GucSetting::<i32>::new(1);
static LOGIN_THROTTLE_MAX_DELAY: GucSetting<i32> = GucSetting::<i32>::new(900);
static LOGIN_FAILURE_WINDOW: GucSetting<i32> = GucSetting::<i32>::new(3600);
static TRUSTED_PROXY_HOPS: GucSetting<i32> = GucSetting::<i32>::new(0);
static ADDRESS_PREFIX_V6: GucSetting<i32> = GucSetting::<i32>::new(64);
static AUDIT_RETENTION: GucSetting<i32> = GucSetting::<i32>::new(90 * 24 * 3600);
static AUDIT: GucSetting<bool> = GucSetting::<bool>::new(true);

/// Called from `_PG_init`.
pub fn register() {
    // SAFETY: reading a flag Postgres sets while it loads preload libraries.
    let preloading = unsafe { pg_sys::process_shared_preload_libraries_in_progress };
    PRELOADED.store(preloading, Ordering::Relaxed);

    string_setting(
        c"pg_auth.jwt_secret_file",
        c"File holding the secret that signs access tokens (PostgREST's jwt-secret); relative paths are relative to the data directory.",
        &JWT_SECRET_FILE,
        None,
    );
    bool_setting(
        c"pg_auth.jwt_secret_is_base64",
        c"Whether the secret is base64 (PostgREST's jwt-secret-is-base64).",
        &JWT_SECRET_IS_BASE64,
    );
    GucRegistry::define_enum_guc(
        c"pg_auth.jwt_algorithm",
        c"Algorithm of access tokens: HS256, HS384 or HS512.",
        c"",
        &JWT_ALGORITHM,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"pg_auth.signing_mode",
        c"What signs access tokens: secret (pg_auth.jwt_secret_file) or keys (the current key pair of auth.signing_key).",
        c"",
        &SIGNING_MODE,
        GucContext::Suset,
        GucFlags::default(),
    );
    string_setting(
        c"pg_auth.key_encryption_key_file",
        c"File holding the key that encrypts the private keys of auth.signing_key; relative paths are relative to the data directory.",
        &KEY_ENCRYPTION_KEY_FILE,
        None,
    );
    seconds_setting(
        c"pg_auth.key_rotation_delay",
        c"Seconds a standby key is published before auth.rotate_signing_keys() may make it current: more than the verifiers' JWKS refresh interval.",
        &KEY_ROTATION_DELAY,
        0,
    );
    string_setting(
        c"pg_auth.jwt_aud",
        c"aud claim of access tokens (unset: none).",
        &JWT_AUDIENCE,
        None,
    );
    string_setting(
        c"pg_auth.jwt_iss",
        c"iss claim of access tokens (unset: none).",
        &JWT_ISSUER,
        None,
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
        c"Seconds during which a rotated refresh token still gets the token it was rotated to (tabs refreshing at once).",
        &REFRESH_REUSE_GRACE,
        0,
    );
    seconds_setting(
        c"pg_auth.refresh_min_interval",
        c"A refresh this many seconds after the last rotation keeps the refresh token instead of adding a new one.",
        &REFRESH_MIN_INTERVAL,
        0,
    );
    GucRegistry::define_int_guc(
        c"pg_auth.refresh_token_history",
        c"Rotated refresh tokens remembered per session to detect their reuse; older ones are simply invalid.",
        c"",
        &REFRESH_TOKEN_HISTORY,
        1,
        1000,
        GucContext::Suset,
        GucFlags::default(),
    );
    bool_setting(
        c"pg_auth.cookie_secure",
        c"Whether cookies carry the Secure attribute (turn off only for plain-HTTP development).",
        &COOKIE_SECURE,
    );
    GucRegistry::define_enum_guc(
        c"pg_auth.cookie_samesite",
        c"SameSite of the cookies: Strict, Lax or None (None requires pg_auth.cookie_secure).",
        c"",
        &COOKIE_SAMESITE,
        GucContext::Suset,
        GucFlags::default(),
    );
    string_setting(
        c"pg_auth.refresh_cookie_path",
        c"Path of the refresh cookie: where browsers reach the refresh RPC.",
        &REFRESH_COOKIE_PATH,
        Some(check_cookie_path),
    );
    string_setting(
        c"pg_auth.access_cookie_name",
        c"Name of the access cookie (the proxies' cookie_name).",
        &ACCESS_COOKIE_NAME,
        Some(check_cookie_name),
    );
    string_setting(
        c"pg_auth.refresh_cookie_name",
        c"Name of the refresh cookie (the proxies' refresh_cookie_name).",
        &REFRESH_COOKIE_NAME,
        Some(check_cookie_name),
    );
    bool_setting(
        c"pg_auth.cookie_prefixes",
        c"Prefix the cookie names with __Host- (access) and __Secure- (refresh): no sibling subdomain can set them (the proxies' cookie_prefixes).",
        &COOKIE_PREFIXES,
    );
    string_setting(
        c"pg_auth.cookie_domain",
        c"Domain of the cookies (unset: this host only); not with pg_auth.cookie_prefixes.",
        &COOKIE_DOMAIN,
        Some(check_cookie_domain),
    );
    string_setting(
        c"pg_auth.custom_claims_function",
        c"A function (username text) returning jsonb whose members are added to access tokens at login and refresh.",
        &CUSTOM_CLAIMS_FUNCTION,
        Some(check_function_name),
    );
    GucRegistry::define_int_guc(
        c"pg_auth.bcrypt_cost",
        c"bcrypt cost of new password hashes; stored hashes of another cost are rehashed at login.",
        c"",
        &BCRYPT_COST,
        MIN_COST as i32,
        MAX_COST as i32,
        GucContext::Suset,
        GucFlags::default(),
    );
    string_setting(
        c"pg_auth.authenticator_role",
        c"The role PostgREST logs in as: users' roles must be roles it can switch to.",
        &AUTHENTICATOR_ROLE,
        None,
    );
    seconds_setting(
        c"pg_auth.session_idle_timeout",
        c"A session not refreshed for this many seconds ends (0: only its lifetime ends it).",
        &SESSION_IDLE_TIMEOUT,
        0,
    );
    count_setting(
        c"pg_auth.login_max_failures",
        c"Failed logins for one username, within pg_auth.login_failure_window, before its logins are throttled (0: never).",
        &LOGIN_MAX_FAILURES,
    );
    count_setting(
        c"pg_auth.login_max_failures_per_address",
        c"Failed logins from one client address, within pg_auth.login_failure_window, before its logins are throttled (0: never).",
        &LOGIN_MAX_FAILURES_PER_ADDRESS,
    );
    seconds_setting(
        c"pg_auth.login_throttle_delay",
        c"Seconds a throttled username or address waits after reaching its limit; doubled at each further failure.",
        &LOGIN_THROTTLE_DELAY,
        1,
    );
    seconds_setting(
        c"pg_auth.login_throttle_max_delay",
        c"The longest wait of a throttled username or address: nobody is locked out for good.",
        &LOGIN_THROTTLE_MAX_DELAY,
        1,
    );
    seconds_setting(
        c"pg_auth.login_failure_window",
        c"Failed logins are forgotten this many seconds after the last one.",
        &LOGIN_FAILURE_WINDOW,
        1,
    );
    GucRegistry::define_int_guc(
        c"pg_auth.trusted_proxy_hops",
        c"Proxies in front of PostgREST that append to X-Forwarded-For, beyond the first: the client address is the entry this many places from the right.",
        c"",
        &TRUSTED_PROXY_HOPS,
        0,
        10,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_auth.address_prefix_v6",
        c"IPv6 clients are counted by the login throttle per network of this many bits (a client usually holds a whole /64).",
        c"",
        &ADDRESS_PREFIX_V6,
        16,
        128,
        GucContext::Suset,
        GucFlags::default(),
    );
    bool_setting(
        c"pg_auth.audit",
        c"Whether auth.audit_event records logins, refreshes, logouts and the other events.",
        &AUDIT,
    );
    seconds_setting(
        c"pg_auth.audit_retention",
        c"Seconds auth.audit_event rows are kept (auth.cleanup_expired_sessions deletes older ones).",
        &AUDIT_RETENTION,
        60,
    );
    // SAFETY: plain call during _PG_init; makes `pg_auth.<typo>` an error,
    // and so also the key setting of earlier versions (`pg_auth.jwt_secret`).
    unsafe { pg_sys::MarkGUCPrefixReserved(c"pg_auth".as_ptr()) };
}

fn string_setting(
    name: &'static CStr,
    description: &'static CStr,
    setting: &'static GucSetting<Option<CString>>,
    check: pg_sys::GucStringCheckHook,
) {
    // SAFETY: the check hooks below never raise; they only report through
    // GUC_check_errdetail_string.
    unsafe {
        GucRegistry::define_string_guc_with_hooks(
            name,
            description,
            c"",
            setting,
            GucContext::Suset,
            GucFlags::default(),
            check,
            None,
            None,
        );
    }
}

fn bool_setting(
    name: &'static CStr,
    description: &'static CStr,
    setting: &'static GucSetting<bool>,
) {
    GucRegistry::define_bool_guc(
        name,
        description,
        c"",
        setting,
        GucContext::Suset,
        GucFlags::default(),
    );
}

/// A count from 0 (off) up.
fn count_setting(
    name: &'static CStr,
    description: &'static CStr,
    setting: &'static GucSetting<i32>,
) {
    GucRegistry::define_int_guc(
        name,
        description,
        c"",
        setting,
        0,
        1_000_000,
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

/// The value a string check hook is asked about (NULL: unset).
///
/// # Safety
/// `newval` is what Postgres passes a string check hook.
unsafe fn checked_value(newval: *mut *mut c_char) -> Option<String> {
    // SAFETY: a valid pointer to a NUL-terminated string or to NULL.
    unsafe { newval.as_ref().filter(|v| !v.is_null()) }
        .map(|v| unsafe { CStr::from_ptr(*v) }.to_string_lossy().into_owned())
}

/// Reports why a value is refused (the GUC machinery adds the setting's name).
fn refuse(detail: &'static CStr) -> bool {
    // SAFETY: pstrdup allocates in the current memory context, as the GUC
    // machinery expects of its error detail.
    unsafe { pg_sys::GUC_check_errdetail_string = pg_sys::pstrdup(detail.as_ptr()) };
    false
}

/// A check hook for a string setting: `$valid` decides on the value (None:
/// unset), `$detail` tells the user why one is refused.
macro_rules! string_check {
    ($(#[$doc:meta])* $name:ident, $valid:expr, $detail:expr) => {
        $(#[$doc])*
        unsafe extern "C-unwind" fn $name(
            newval: *mut *mut c_char,
            _extra: *mut *mut c_void,
            _source: pg_sys::GucSource::Type,
        ) -> bool {
            let valid: fn(Option<&str>) -> bool = $valid;
            // SAFETY: called by Postgres with its arguments.
            valid(unsafe { checked_value(newval) }.as_deref()) || refuse($detail)
        }
    };
}

string_check!(
    /// Refuses a cookie path that would not survive in a Set-Cookie header.
    check_cookie_path,
    |path| path.is_some_and(jwt_core::is_cookie_path),
    c"A cookie path starts with / and holds printable ASCII other than ;"
);
string_check!(
    check_cookie_name,
    |name| name.is_some_and(jwt_core::is_cookie_name),
    c"A cookie name is a token: letters, digits and !#$%&'*+-.^_`|~"
);
string_check!(
    check_cookie_domain,
    |domain| domain.is_none_or(|d| d.is_empty() || jwt_core::is_cookie_domain(d)),
    c"A cookie domain is a host name like example.com"
);
string_check!(
    /// Refuses a function name that is not schema-qualified: an unqualified
    /// one would be looked up along whatever search path a session has.
    check_function_name,
    |name| name.is_none_or(|n| n.is_empty() || is_qualified_name(n)),
    c"Name the function with its schema, in lower case: myschema.my_claims"
);

fn is_qualified_name(name: &str) -> bool {
    let identifier = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
    };
    matches!(name.split_once('.'), Some((schema, function)) if identifier(schema) && identifier(function))
}

fn text(setting: &GucSetting<Option<CString>>) -> Option<String> {
    setting
        .get()
        .map(|value| value.to_string_lossy().into_owned())
        .filter(|value| !value.is_empty())
}

pub fn preloaded() -> bool {
    PRELOADED.load(Ordering::Relaxed)
}

pub fn jwt_secret_file() -> Option<String> {
    text(&JWT_SECRET_FILE)
}

pub fn jwt_secret_is_base64() -> bool {
    JWT_SECRET_IS_BASE64.get()
}

pub fn algorithm() -> Algorithm {
    match JWT_ALGORITHM.get() {
        JwtAlgorithm::HS256 => Algorithm::HS256,
        JwtAlgorithm::HS384 => Algorithm::HS384,
        JwtAlgorithm::HS512 => Algorithm::HS512,
    }
}

pub fn signing_mode() -> SigningMode {
    SIGNING_MODE.get()
}

pub fn key_encryption_key_file() -> Option<String> {
    text(&KEY_ENCRYPTION_KEY_FILE)
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

pub fn refresh_token_ttl() -> i64 {
    i64::from(REFRESH_TOKEN_TTL.get())
}

pub fn refresh_reuse_grace() -> i64 {
    i64::from(REFRESH_REUSE_GRACE.get())
}

pub fn refresh_min_interval() -> i64 {
    i64::from(REFRESH_MIN_INTERVAL.get())
}

pub fn refresh_token_history() -> i32 {
    REFRESH_TOKEN_HISTORY.get()
}

pub fn cookie_secure() -> bool {
    COOKIE_SECURE.get()
}

pub fn cookie_same_site() -> SameSite {
    match COOKIE_SAMESITE.get() {
        CookieSameSite::Strict => SameSite::Strict,
        CookieSameSite::Lax => SameSite::Lax,
        CookieSameSite::Unrestricted => SameSite::None,
    }
}

/// The cookie names, prefixed when `pg_auth.cookie_prefixes` is on.
pub fn cookie_names() -> CookieNames {
    CookieNames::new(
        &text(&ACCESS_COOKIE_NAME).unwrap_or_else(|| ACCESS_COOKIE.into()),
        &text(&REFRESH_COOKIE_NAME).unwrap_or_else(|| REFRESH_COOKIE.into()),
        COOKIE_PREFIXES.get(),
    )
}

pub fn cookie_domain() -> Option<String> {
    text(&COOKIE_DOMAIN)
}

pub fn custom_claims_function() -> Option<String> {
    text(&CUSTOM_CLAIMS_FUNCTION)
}

pub fn refresh_cookie_path() -> String {
    text(&REFRESH_COOKIE_PATH).unwrap_or_else(|| DEFAULT_REFRESH_PATH.into())
}

pub fn bcrypt_cost() -> u32 {
    u32::try_from(BCRYPT_COST.get()).unwrap_or(10)
}

pub fn authenticator_role() -> String {
    text(&AUTHENTICATOR_ROLE).unwrap_or_else(|| "authenticator".into())
}

/// The settings SQL needs, read through these accessors rather than by name
/// with `current_setting`, so that each has one owner and one type.
mod sql {
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
    /// (0: off), first delay, longest delay, window (seconds).
    #[pg_extern(stable, parallel_safe)]
    fn login_throttle_settings() -> Vec<i32> {
        vec![
            super::LOGIN_MAX_FAILURES.get(),
            super::LOGIN_MAX_FAILURES_PER_ADDRESS.get(),
            super::LOGIN_THROTTLE_DELAY.get(),
            super::LOGIN_THROTTLE_MAX_DELAY.get(),
            super::LOGIN_FAILURE_WINDOW.get(),
        ]
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
}

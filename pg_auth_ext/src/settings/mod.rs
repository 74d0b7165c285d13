//! The extension's settings (`pg_auth.*`), superuser-only to change. No
//! setting holds key material: the signing key is read from the file that
//! `pg_auth.jwt_secret_file` names (see `key_file.rs`), so neither the
//! server log, nor `pg_settings`, nor `pg_db_role_setting` ever shows it.
//! Values are checked when they are set: a wrong one is refused there, not
//! at the next login.

use std::ffi::{CStr, CString};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};

use jwt_core::{
    Algorithm, CookieNames, SameSite, ACCESS_COOKIE, DEFAULT_REFRESH_PATH, REFRESH_COOKIE,
};
use pgrx::{pg_sys, GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};

use crate::passwords::{MAX_COST, MIN_COST};
use checks::{
    check_cookie_domain, check_cookie_name, check_cookie_path, check_function_name, check_site_url,
};

mod checks;
mod sql;

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

/// Who may create an account with `auth.signup`.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Signup {
    #[name = c"off"]
    Off,
    #[name = c"open"]
    Open,
}

#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum CookieSameSite {
    Strict,
    Lax,
    #[name = c"None"]
    Unrestricted,
}

/// How a setting of one type is registered, given what limits its values:
/// a range for numbers, a check hook for text, nothing for the others.
trait Define {
    type Limit;
    fn define(&'static self, name: &'static CStr, description: &'static CStr, limit: Self::Limit);
}

impl Define for GucSetting<bool> {
    type Limit = ();
    fn define(&'static self, name: &'static CStr, description: &'static CStr, _: ()) {
        GucRegistry::define_bool_guc(
            name,
            description,
            c"",
            self,
            GucContext::Suset,
            GucFlags::default(),
        );
    }
}

impl Define for GucSetting<i32> {
    type Limit = RangeInclusive<i32>;
    fn define(&'static self, name: &'static CStr, description: &'static CStr, range: Self::Limit) {
        let (min, max) = range.into_inner();
        GucRegistry::define_int_guc(
            name,
            description,
            c"",
            self,
            min,
            max,
            GucContext::Suset,
            GucFlags::default(),
        );
    }
}

impl Define for GucSetting<Option<CString>> {
    type Limit = pg_sys::GucStringCheckHook;
    fn define(&'static self, name: &'static CStr, description: &'static CStr, check: Self::Limit) {
        // SAFETY: the hooks of checks.rs never raise; they only report
        // through GUC_check_errdetail_string.
        unsafe {
            GucRegistry::define_string_guc_with_hooks(
                name,
                description,
                c"",
                self,
                GucContext::Suset,
                GucFlags::default(),
                check,
                None,
                None,
            );
        }
    }
}

macro_rules! define_enums {
    ($($enum:ty),*) => {$(
        impl Define for GucSetting<$enum> {
            type Limit = ();
            fn define(&'static self, name: &'static CStr, description: &'static CStr, _: ()) {
                GucRegistry::define_enum_guc(name, description, c"", self, GucContext::Suset, GucFlags::default());
            }
        }
    )*};
}
define_enums!(JwtAlgorithm, SigningMode, CookieSameSite, Signup);

/// One row per setting: its static, type and default, its name, what limits
/// its values, and what it means (shown by `SHOW ALL` and `pg_settings`).
macro_rules! settings {
    ($($static:ident: $type:ty = $default:expr, $name:literal, $limit:expr, $description:literal;)*) => {
        $(static $static: GucSetting<$type> = GucSetting::<$type>::new($default);)*

        fn define_all() {
            $($static.define($name, $description, $limit);)*
        }

        /// Every setting's name.
        #[cfg(any(test, feature = "pg_test"))]
        pub(crate) const NAMES: &[&CStr] = &[$($name),*];
    };
}

/// The defaults jwt_core owns (the proxies use the same), as the C strings
/// a setting's default must be; checked equal when this compiles.
struct Defaults {
    access_cookie: &'static CStr,
    refresh_cookie: &'static CStr,
    refresh_path: &'static CStr,
}
const DEFAULTS: Defaults = Defaults {
    access_cookie: c"access_token",
    refresh_cookie: c"refresh_token",
    refresh_path: c"/rpc/refresh_token",
};
const _: () = assert!(
    same(DEFAULTS.access_cookie, ACCESS_COOKIE)
        && same(DEFAULTS.refresh_cookie, REFRESH_COOKIE)
        && same(DEFAULTS.refresh_path, DEFAULT_REFRESH_PATH)
);
const fn same(c: &CStr, text: &str) -> bool {
    const fn equal(a: &[u8], b: &[u8]) -> bool {
        match (a, b) {
            ([], []) => true,
            ([x, a @ ..], [y, b @ ..]) => *x == *y && equal(a, b),
            _ => false,
        }
    }
    equal(c.to_bytes(), text.as_bytes())
}

/// Text defaults an accessor also falls back to (the setting set to '').
const AUTHENTICATOR_DEFAULT: &CStr = c"authenticator";
const MFA_ISSUER_DEFAULT: &CStr = c"pg_auth";

/// Seconds: from a floor up.
const fn seconds(min: i32) -> RangeInclusive<i32> {
    min..=i32::MAX
}
/// A count from 0 (off) up.
const COUNT: RangeInclusive<i32> = 0..=1_000_000;
const NO_CHECK: pg_sys::GucStringCheckHook = None;

settings! {
    JWT_SECRET_FILE: Option<CString> = None, c"pg_auth.jwt_secret_file", NO_CHECK,
        c"File holding the secret that signs access tokens (PostgREST's jwt-secret); relative paths are relative to the data directory.";
    JWT_SECRET_IS_BASE64: bool = true, c"pg_auth.jwt_secret_is_base64", (),
        c"Whether the secret is base64 (PostgREST's jwt-secret-is-base64).";
    JWT_ALGORITHM: JwtAlgorithm = JwtAlgorithm::HS256, c"pg_auth.jwt_algorithm", (),
        c"Algorithm of access tokens: HS256, HS384 or HS512.";
    SIGNING_MODE: SigningMode = SigningMode::Secret, c"pg_auth.signing_mode", (),
        c"What signs access tokens: secret (pg_auth.jwt_secret_file) or keys (the current key pair of auth.signing_key).";
    KEY_ENCRYPTION_KEY_FILE: Option<CString> = None, c"pg_auth.key_encryption_key_file", NO_CHECK,
        c"File holding the key that encrypts the private keys of auth.signing_key; relative paths are relative to the data directory.";
    KEY_ROTATION_DELAY: i32 = 120, c"pg_auth.key_rotation_delay", seconds(0),
        c"Seconds a standby key is published before auth.rotate_signing_keys() may make it current: more than the verifiers' JWKS refresh interval.";
    JWT_AUDIENCE: Option<CString> = None, c"pg_auth.jwt_aud", NO_CHECK,
        c"aud claim of access tokens (unset: none).";
    JWT_ISSUER: Option<CString> = None, c"pg_auth.jwt_iss", NO_CHECK,
        c"iss claim of access tokens (unset: none).";
    ACCESS_TOKEN_TTL: i32 = 600, c"pg_auth.access_token_ttl", seconds(1),
        c"Access token lifetime in seconds.";
    REFRESH_TOKEN_TTL: i32 = 30 * 24 * 3600, c"pg_auth.refresh_token_ttl", seconds(60),
        c"Session (refresh token) lifetime in seconds, counted from login.";
    REFRESH_REUSE_GRACE: i32 = 10, c"pg_auth.refresh_reuse_grace", seconds(0),
        c"Seconds during which a rotated refresh token still gets the token it was rotated to (tabs refreshing at once).";
    REFRESH_MIN_INTERVAL: i32 = 5, c"pg_auth.refresh_min_interval", seconds(0),
        c"A refresh this many seconds after the last rotation keeps the refresh token instead of adding a new one.";
    REFRESH_TOKEN_HISTORY: i32 = 50, c"pg_auth.refresh_token_history", 1..=1000,
        c"Rotated refresh tokens remembered per session to detect their reuse; older ones are simply invalid.";
    COOKIE_SECURE: bool = true, c"pg_auth.cookie_secure", (),
        c"Whether cookies carry the Secure attribute (turn off only for plain-HTTP development).";
    COOKIE_SAMESITE: CookieSameSite = CookieSameSite::Lax, c"pg_auth.cookie_samesite", (),
        c"SameSite of the cookies: Strict, Lax or None (None requires pg_auth.cookie_secure).";
    REFRESH_COOKIE_PATH: Option<CString> = Some(DEFAULTS.refresh_path), c"pg_auth.refresh_cookie_path", Some(check_cookie_path),
        c"Path of the refresh cookie: where browsers reach the refresh RPC.";
    ACCESS_COOKIE_NAME: Option<CString> = Some(DEFAULTS.access_cookie), c"pg_auth.access_cookie_name", Some(check_cookie_name),
        c"Name of the access cookie (the proxies' cookie_name).";
    REFRESH_COOKIE_NAME: Option<CString> = Some(DEFAULTS.refresh_cookie), c"pg_auth.refresh_cookie_name", Some(check_cookie_name),
        c"Name of the refresh cookie (the proxies' refresh_cookie_name).";
    COOKIE_PREFIXES: bool = false, c"pg_auth.cookie_prefixes", (),
        c"Prefix the cookie names with __Host- (access) and __Secure- (refresh): no sibling subdomain can set them (the proxies' cookie_prefixes).";
    COOKIE_DOMAIN: Option<CString> = None, c"pg_auth.cookie_domain", Some(check_cookie_domain),
        c"Domain of the cookies (unset: this host only); not with pg_auth.cookie_prefixes.";
    CUSTOM_CLAIMS_FUNCTION: Option<CString> = None, c"pg_auth.custom_claims_function", Some(check_function_name),
        c"A function (username text) returning jsonb whose members are added to access tokens at login and refresh.";
    BCRYPT_COST: i32 = 10, c"pg_auth.bcrypt_cost", (MIN_COST as i32)..=(MAX_COST as i32),
        c"bcrypt cost of new password hashes; stored hashes of another cost are rehashed at login.";
    AUTHENTICATOR_ROLE: Option<CString> = Some(AUTHENTICATOR_DEFAULT), c"pg_auth.authenticator_role", NO_CHECK,
        c"The role PostgREST logs in as: users' roles must be roles it can switch to.";
    SESSION_IDLE_TIMEOUT: i32 = 0, c"pg_auth.session_idle_timeout", seconds(0),
        c"A session not refreshed for this many seconds ends (0: only its lifetime ends it).";
    LOGIN_MAX_FAILURES: i32 = 10, c"pg_auth.login_max_failures", COUNT,
        c"Failed logins for one username, within pg_auth.login_failure_window, before its logins are throttled (0: never).";
    LOGIN_MAX_FAILURES_PER_ADDRESS: i32 = 100, c"pg_auth.login_max_failures_per_address", COUNT,
        c"Failed logins from one client address, within pg_auth.login_failure_window, before its logins are throttled (0: never).";
    LOGIN_THROTTLE_DELAY: i32 = 1, c"pg_auth.login_throttle_delay", seconds(1),
        c"Seconds a throttled username or address waits after reaching its limit; doubled at each further failure.";
    LOGIN_THROTTLE_MAX_DELAY: i32 = 900, c"pg_auth.login_throttle_max_delay", seconds(1),
        c"The longest wait of a throttled username or address: nobody is locked out for good.";
    LOGIN_FAILURE_WINDOW: i32 = 3600, c"pg_auth.login_failure_window", seconds(1),
        c"Failed logins are forgotten this many seconds after the last one.";
    TRUSTED_PROXY_HOPS: i32 = 0, c"pg_auth.trusted_proxy_hops", 0..=10,
        c"Proxies in front of PostgREST that append to X-Forwarded-For, beyond the first: the client address is the entry this many places from the right.";
    ADDRESS_PREFIX_V6: i32 = 64, c"pg_auth.address_prefix_v6", 16..=128,
        c"IPv6 clients are counted by the login throttle per network of this many bits (a client usually holds a whole /64).";
    AUDIT: bool = true, c"pg_auth.audit", (),
        c"Whether auth.audit_event records logins, refreshes, logouts and the other events.";
    AUDIT_RETENTION: i32 = 90 * 24 * 3600, c"pg_auth.audit_retention", seconds(60),
        c"Seconds auth.audit_event rows are kept (auth.cleanup_expired_sessions deletes older ones).";
    SIGNUP: Signup = Signup::Off, c"pg_auth.signup", (),
        c"Who may create an account with auth.signup(email, pass): off (nobody) or open (anyone).";
    SIGNUP_ROLE: Option<CString> = None, c"pg_auth.signup_role", NO_CHECK,
        c"The role of accounts auth.signup creates; it must be usable like any user's role.";
    EMAIL_CONFIRM_REQUIRED: bool = true, c"pg_auth.email_confirm_required", (),
        c"Whether an account with an email address must verify it before it can log in.";
    EMAIL_TOKEN_TTL: i32 = 24 * 3600, c"pg_auth.email_token_ttl", seconds(60),
        c"Seconds a verification link stays valid.";
    RESET_TOKEN_TTL: i32 = 3600, c"pg_auth.reset_token_ttl", seconds(60),
        c"Seconds a password reset link stays valid.";
    PASSWORD_MIN_LENGTH: i32 = 10, c"pg_auth.password_min_length", 1..=256,
        c"Characters a new password needs at least (sign-up, reset, change_password).";
    PASSWORD_MIN_SCORE: i32 = 3, c"pg_auth.password_min_score", 0..=4,
        c"zxcvbn score (0-4) a new password needs at least; 0 turns the estimate off.";
    PASSWORD_BLOCKLIST_FILE: Option<CString> = None, c"pg_auth.password_blocklist_file", NO_CHECK,
        c"A file of breached or banned passwords, one per line, refused as new passwords (compared without case).";
    SITE_URL: Option<CString> = None, c"pg_auth.site_url", Some(check_site_url),
        c"The app's address (https://app.example.com): mailed links open it with ?verify=, ?reset= or ?email_change=TOKEN.";
    MFA_ISSUER: Option<CString> = Some(MFA_ISSUER_DEFAULT), c"pg_auth.mfa_issuer", NO_CHECK,
        c"The issuer authenticator apps show next to a TOTP code (the site's name).";
    MFA_REQUIRED_ROLES: Option<CString> = None, c"pg_auth.mfa_required_roles", NO_CHECK,
        c"Roles (comma-separated) whose users need a second factor: auth.login asks for one, and auth.check_session refuses their aal1 tokens outside the auth RPCs.";
    WEBAUTHN_RP_ID: Option<CString> = None, c"pg_auth.webauthn_rp_id", NO_CHECK,
        c"The WebAuthn relying party id: the site's domain (example.com), which passkeys are bound to (unset: no passkeys).";
    WEBAUTHN_ORIGINS: Option<CString> = None, c"pg_auth.webauthn_origins", NO_CHECK,
        c"The origins (comma-separated) passkeys may be used from, within pg_auth.webauthn_rp_id (unset: https://<rp id>).";
    MFA_MAX_FAILURES: i32 = 5, c"pg_auth.mfa_max_failures", 1..=1000,
        c"Wrong codes for one factor before its checks wait (pg_auth.login_throttle_delay, doubled at each further failure, up to pg_auth.login_throttle_max_delay).";
}

/// Called from `_PG_init`.
pub fn register() {
    // SAFETY: reading a flag Postgres sets while it loads preload libraries.
    let preloading = unsafe { pg_sys::process_shared_preload_libraries_in_progress };
    PRELOADED.store(preloading, Ordering::Relaxed);
    define_all();
    // SAFETY: plain call during _PG_init; makes `pg_auth.<typo>` an error,
    // and so also the key setting of earlier versions (`pg_auth.jwt_secret`).
    unsafe { pg_sys::MarkGUCPrefixReserved(c"pg_auth".as_ptr()) };
}

fn text(setting: &GucSetting<Option<CString>>) -> Option<String> {
    setting
        .get()
        .map(|value| value.to_string_lossy().into_owned())
        .filter(|value| !value.is_empty())
}

/// A comma-separated setting as its non-empty, trimmed items.
fn list(setting: &GucSetting<Option<CString>>) -> Vec<String> {
    text(setting)
        .map(|items| {
            items
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
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

pub fn signup_open() -> bool {
    SIGNUP.get() == Signup::Open
}

pub fn signup_role() -> Option<String> {
    text(&SIGNUP_ROLE)
}

pub fn password_min_length() -> usize {
    usize::try_from(PASSWORD_MIN_LENGTH.get()).unwrap_or(10)
}

pub fn password_min_score() -> u8 {
    u8::try_from(PASSWORD_MIN_SCORE.get()).unwrap_or(3)
}

pub fn password_blocklist_file() -> Option<String> {
    text(&PASSWORD_BLOCKLIST_FILE)
}

pub fn mfa_issuer() -> String {
    text(&MFA_ISSUER).unwrap_or_else(|| MFA_ISSUER_DEFAULT.to_string_lossy().into_owned())
}

/// `pg_auth.mfa_required_roles` as role names.
pub fn mfa_required_roles() -> Vec<String> {
    list(&MFA_REQUIRED_ROLES)
}

pub fn webauthn_rp_id() -> Option<String> {
    text(&WEBAUTHN_RP_ID)
}

/// `pg_auth.webauthn_origins` as a list.
pub fn webauthn_origins() -> Vec<String> {
    list(&WEBAUTHN_ORIGINS)
}

pub fn mfa_max_failures() -> i32 {
    MFA_MAX_FAILURES.get()
}

pub fn authenticator_role() -> String {
    text(&AUTHENTICATOR_ROLE)
        .unwrap_or_else(|| AUTHENTICATOR_DEFAULT.to_string_lossy().into_owned())
}

//! The `response.headers` values that PostgREST turns into Set-Cookie headers.
//!
//! Cookie design (the names and curl flow of the plpgsql + caddy-jwt setup,
//! `__Host-`/`__Secure-` prefixed with `pg_auth.cookie_prefixes`):
//! - the access cookie, `Path=/`, kept as long as the session: the JWT inside
//!   expires after `pg_auth.access_token_ttl`, but the cookie stays so that
//!   logout can still tell which session to end after that.
//! - the refresh cookie, `Path=pg_auth.refresh_cookie_path`: only the
//!   refresh RPC ever receives it.
//! - Logout removes each at the path it was set with (the legacy setup removed
//!   the refresh cookie at `/`, which left the real one in the browser).

use jwt_core::SetCookie;
use pgrx::prelude::*;

use crate::error::{AuthError, OrRaise};
use crate::settings;

/// Both cookies of a session that lasts `max_age` more seconds.
#[pg_extern(stable, parallel_safe)]
fn session_cookies(access_token: &str, refresh_token: &str, max_age: i64) -> String {
    let max_age = Some(u64::try_from(max_age).unwrap_or(0));
    let refresh_path = settings::refresh_cookie_path();
    let names = settings::cookie_names();
    let domain = settings::cookie_domain();
    response_headers(&[
        cookie(&names.access, access_token, "/", max_age, domain.as_deref()),
        cookie(
            &names.refresh,
            refresh_token,
            &refresh_path,
            max_age,
            domain.as_deref(),
        ),
    ])
    .or_raise()
}

/// The access cookie alone, of a session that lasts `max_age` more seconds:
/// a step-up's new token (the refresh cookie, which only the refresh RPC
/// receives, stays as it is).
#[pg_extern(stable, parallel_safe)]
fn access_cookie(access_token: &str, max_age: i64) -> String {
    let max_age = Some(u64::try_from(max_age).unwrap_or(0));
    let names = settings::cookie_names();
    let domain = settings::cookie_domain();
    response_headers(&[cookie(
        &names.access,
        access_token,
        "/",
        max_age,
        domain.as_deref(),
    )])
    .or_raise()
}

/// Removes both cookies.
#[pg_extern(stable, parallel_safe)]
fn logout_cookies() -> String {
    let refresh_path = settings::refresh_cookie_path();
    let names = settings::cookie_names();
    let domain = settings::cookie_domain();
    response_headers(&[
        cookie(&names.access, "", "/", Some(0), domain.as_deref()),
        cookie(
            &names.refresh,
            "",
            &refresh_path,
            Some(0),
            domain.as_deref(),
        ),
    ])
    .or_raise()
}

fn cookie<'a>(
    name: &'a str,
    value: &'a str,
    path: &'a str,
    max_age: Option<u64>,
    domain: Option<&'a str>,
) -> SetCookie<'a> {
    SetCookie {
        name,
        value,
        path,
        max_age,
        secure: settings::cookie_secure(),
        same_site: Some(settings::cookie_same_site()),
        domain,
    }
}

fn response_headers(cookies: &[SetCookie<'_>]) -> Result<String, AuthError> {
    let headers = cookies
        .iter()
        .map(|cookie| {
            let value = cookie.to_header_value().map_err(AuthError::Cookie)?;
            Ok(serde_json::json!({ "Set-Cookie": value }))
        })
        .collect::<Result<Vec<_>, AuthError>>()?;
    Ok(serde_json::Value::Array(headers).to_string())
}

/// The auth RPCs' paths as browsers call them (jwt_core's list, which the
/// proxies serve and nothing else): `auth.check_session` lets them pass.
#[pg_extern(immutable, parallel_safe)]
fn auth_rpc_paths() -> Vec<&'static str> {
    jwt_core::AUTH_RPC_PATHS.to_vec()
}

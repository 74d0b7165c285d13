//! The `response.headers` values that PostgREST turns into Set-Cookie headers.
//!
//! Cookie design (compatible with the seed's names and curl flow):
//! - `access_token`, `Path=/`, kept as long as the session: the JWT inside
//!   expires after `pg_auth.access_token_ttl`, but the cookie stays so that
//!   logout can still tell which session to end after that.
//! - `refresh_token`, `Path=pg_auth.refresh_cookie_path` (the seed's
//!   `/rpc/refresh_token`): only the refresh RPC ever receives it.
//! - Logout removes each at the path it was set with; the seed removed the
//!   refresh cookie at `/`, which left the real one in the browser.

use jwt_core::SetCookie;
use pgrx::prelude::*;

use crate::error::{AuthError, OrRaise};
use crate::settings;

pub const ACCESS_COOKIE: &str = "access_token";
pub const REFRESH_COOKIE: &str = "refresh_token";

/// Both cookies of a session that lasts `max_age` more seconds.
#[pg_extern(stable, parallel_safe)]
fn session_cookies(access_token: &str, refresh_token: &str, max_age: i64) -> String {
    let max_age = Some(u64::try_from(max_age).unwrap_or(0));
    let refresh_path = settings::refresh_cookie_path();
    response_headers(&[
        cookie(ACCESS_COOKIE, access_token, "/", max_age),
        cookie(REFRESH_COOKIE, refresh_token, &refresh_path, max_age),
    ])
    .or_raise()
}

/// Removes both cookies.
#[pg_extern(stable, parallel_safe)]
fn logout_cookies() -> String {
    let refresh_path = settings::refresh_cookie_path();
    response_headers(&[
        cookie(ACCESS_COOKIE, "", "/", Some(0)),
        cookie(REFRESH_COOKIE, "", &refresh_path, Some(0)),
    ])
    .or_raise()
}

fn cookie<'a>(name: &'a str, value: &'a str, path: &'a str, max_age: Option<u64>) -> SetCookie<'a> {
    SetCookie {
        name,
        value,
        path,
        max_age,
        secure: settings::cookie_secure(),
        same_site: None,
    }
}

fn response_headers(cookies: &[SetCookie<'_>]) -> Result<String, AuthError> {
    let same_site = Some(settings::cookie_same_site()?);
    let headers = cookies
        .iter()
        .map(|cookie| {
            let cookie = SetCookie {
                same_site,
                ..cookie.clone()
            };
            let value = cookie.to_header_value().map_err(AuthError::Cookie)?;
            Ok(serde_json::json!({ "Set-Cookie": value }))
        })
        .collect::<Result<Vec<_>, AuthError>>()?;
    Ok(serde_json::Value::Array(headers).to_string())
}

//! Helpers for the `#[pg_test]`s in `tests/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use jwt_core::{Algorithm, Claims, Key, Verifier};
use pgrx::prelude::*;

/// 32 random bytes, base64: what `openssl rand -base64 32` gives.
pub const SECRET_B64: &str = "q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE=";

pub fn sql(query: &str) {
    Spi::run(query).unwrap();
}

pub fn text(query: &str) -> Option<String> {
    Spi::get_one::<String>(query).unwrap()
}

pub fn boolean(query: &str) -> bool {
    Spi::get_one::<bool>(query).unwrap().unwrap()
}

/// Runs `statement` and returns "SQLSTATE: message" of its error, if any;
/// the test's transaction goes on either way.
pub fn error_of(statement: &str) -> Option<String> {
    text(&format!(
        "do $$ begin perform ({statement}); perform set_config('test.error', '', true); \
         exception when others then perform set_config('test.error', sqlstate || ': ' || sqlerrm, true); end $$; \
         select nullif(current_setting('test.error'), '')"
    ))
}

pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A configured stack: the key, a role, and the seed's demo user.
pub fn configure() {
    sql(&format!("set pg_auth.jwt_secret = {}", literal(SECRET_B64)));
    sql("set pg_auth.jwt_secret_is_base64 = on");
    sql("do $$ begin create role basic_subscriber; exception when duplicate_object then null; end $$");
    sql("insert into auth.user (username, password, role) values ('demo', 'demo', 'basic_subscriber')");
}

pub fn key() -> Key {
    Key::from_secret(SECRET_B64, true).unwrap()
}

pub fn verify(token: &str) -> Claims {
    Verifier::new(&key(), &[Algorithm::HS256])
        .verify(token, db_now())
        .unwrap()
}

pub fn db_now() -> i64 {
    Spi::get_one::<i64>("select floor(extract(epoch from now()))::bigint")
        .unwrap()
        .unwrap()
}

/// The Set-Cookie values of `response.headers`, as PostgREST would send them.
pub fn set_cookies() -> Vec<String> {
    let headers = text("select current_setting('response.headers', true)").unwrap_or_default();
    let headers: serde_json::Value = serde_json::from_str(&headers).unwrap();
    headers
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["Set-Cookie"].as_str().unwrap().to_owned())
        .collect()
}

/// The value of cookie `name` among the Set-Cookie values.
pub fn cookie_value(cookies: &[String], name: &str) -> String {
    let prefix = format!("{name}=");
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"));
    cookie[prefix.len()..].split(';').next().unwrap().to_owned()
}

/// Plays PostgREST: the request's cookies, then a fresh response.
pub fn request_with_cookies(cookies: &[(&str, &str)]) {
    let object: serde_json::Map<String, serde_json::Value> = cookies
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
        .collect();
    let json = serde_json::Value::Object(object).to_string();
    sql(&format!(
        "select set_config('request.cookies', {}, true)",
        literal(&json)
    ));
    sql("select set_config('response.headers', '', true)");
    sql("select set_config('response.status', '', true)");
    sql("select set_config('request.jwt.claims', '', true)");
}

/// Logs `demo` in and returns (access token, refresh token).
pub fn login_demo() -> (String, String) {
    request_with_cookies(&[]);
    sql("select auth.login('demo', 'demo')");
    let cookies = set_cookies();
    (
        cookie_value(&cookies, "access_token"),
        cookie_value(&cookies, "refresh_token"),
    )
}

//! Helpers for the `#[pg_test]`s.

use std::os::unix::fs::PermissionsExt;

use jwt_core::{Algorithm, Claims, Key, Verifier};
use pgrx::prelude::*;

/// The test key file's content: 32 random bytes in base64, as `openssl rand
/// -base64 32 > file` writes them. The Rust and Python tests share it.
const SECRET_FILE: &str = include_str!("../../../tests/keys/jwt_secret.b64");

pub fn secret_b64() -> &'static str {
    SECRET_FILE.trim_end()
}

pub fn sql(query: &str) {
    Spi::run(query).unwrap();
}

pub fn text(query: &str) -> Option<String> {
    Spi::get_one::<String>(query).unwrap()
}

pub fn boolean(query: &str) -> bool {
    Spi::get_one::<bool>(query).unwrap().unwrap()
}

pub fn count(query: &str) -> i64 {
    Spi::get_one::<i64>(query).unwrap().unwrap()
}

/// Runs `statement` and returns "SQLSTATE: message" of its error, if any;
/// the test's transaction goes on either way.
pub fn error_of(statement: &str) -> Option<String> {
    text(&format!(
        "do $$ begin execute {}; perform set_config('test.error', '', true); \
         exception when others then perform set_config('test.error', sqlstate || ': ' || sqlerrm, true); end $$; \
         select nullif(current_setting('test.error'), '')",
        literal(statement)
    ))
}

/// Like `error_of`, with the error's DETAIL (the problem slug) appended.
pub fn problem_of(statement: &str) -> Option<String> {
    text(&format!(
        "do $$ declare d text; begin execute {}; perform set_config('test.error', '', true); \
         exception when others then get stacked diagnostics d = pg_exception_detail; \
         perform set_config('test.error', sqlstate || ': ' || sqlerrm || ' [' || d || ']', true); end $$; \
         select nullif(current_setting('test.error'), '')",
        literal(statement)
    ))
}

/// For the RPCs that answer their problems without raising (what they did
/// must commit): "code: message [details]" of the body they returned, or of
/// the error they raised; None when they succeeded.
pub fn answer_of(statement: &str) -> Option<String> {
    text(&format!(
        "do $$ declare d text; r json; begin execute {} into r; \
         perform set_config('test.error', coalesce((r ->> 'code') || ': ' || (r ->> 'message') \
         || ' [' || (r ->> 'details') || ']', ''), true); \
         exception when others then get stacked diagnostics d = pg_exception_detail; \
         perform set_config('test.error', sqlstate || ': ' || sqlerrm || ' [' || d || ']', true); end $$; \
         select nullif(current_setting('test.error'), '')",
        literal(statement)
    ))
}

/// The JSON an RPC answers (`expression` is its call), or null.
pub fn json_of(expression: &str) -> serde_json::Value {
    let answer = text(&format!("select ({expression})::text")).unwrap_or_default();
    serde_json::from_str(&answer).unwrap_or(serde_json::Value::Null)
}

pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Writes `content` to `name` in the data directory with `mode`, as the
/// server's OS user (the tests run inside the server), and returns its path.
pub fn write_data_file(name: &str, content: &str, mode: u32) -> String {
    let dir = text("select current_setting('data_directory')").unwrap();
    let path = format!("{dir}/{name}");
    let temporary = format!("{path}.{}", std::process::id());
    std::fs::write(&temporary, content).unwrap();
    std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(mode)).unwrap();
    std::fs::rename(&temporary, &path).unwrap();
    path
}

/// Points pg_auth.key_encryption_key_file at `new`: `sealed` (a statement
/// that opens something sealed under `old`) fails until
/// `auth.reseal_signing_keys(old)` seals everything again, once.
pub fn switch_key_encryption_key(old: &str, new: &str, sealed: &str) {
    sql(&format!(
        "set pg_auth.key_encryption_key_file = {}",
        literal(new)
    ));
    assert!(error_of(sealed).unwrap().contains("does not open"));
    assert_eq!(
        count(&format!(
            "select auth.reseal_signing_keys({})",
            literal(old)
        )),
        1
    );
}

/// The key file, and the settings that point at it.
pub fn configure_key() {
    let path = write_data_file("pg_auth_test.key", SECRET_FILE, 0o600);
    sql(&format!("set pg_auth.jwt_secret_file = {}", literal(&path)));
    sql("set pg_auth.jwt_secret_is_base64 = on");
}

/// The key-encryption key file of the test key pairs (tests/keys), and the
/// settings for key-pair signing; rotation may happen at once.
pub fn configure_key_pairs() {
    const KEK_FILE: &str = include_str!("../../../tests/keys/key_encryption_key.b64");
    let path = write_data_file("pg_auth_test.kek", KEK_FILE, 0o600);
    sql(&format!(
        "set pg_auth.key_encryption_key_file = {}",
        literal(&path)
    ));
    sql("set pg_auth.key_rotation_delay = 0");
}

/// The verifier of tokens signed by the published key pairs.
pub fn verify_with_published_keys(token: &str) -> Result<Claims, jwt_core::VerifyError> {
    let published = text("select auth.public_keys()::text").unwrap();
    Verifier::from_jwks(jwt_core::Jwks::parse(&published).unwrap()).verify(token, db_now())
}

/// The header of a token.
pub fn header_of(token: &str) -> serde_json::Value {
    let header = jwt_core::decode_base64url(token.split('.').next().unwrap()).unwrap();
    serde_json::from_slice(&header).unwrap()
}

/// PostgREST's roles as the deployment creates them.
pub fn create_roles() {
    sql("do $$ begin create role basic_subscriber nologin; exception when duplicate_object then null; end $$");
    sql("do $$ begin create role authenticator login noinherit; exception when duplicate_object then null; end $$");
    sql("grant basic_subscriber to authenticator");
}

/// A configured database: the key, the roles, and the demo user.
pub fn configure() {
    configure_key();
    create_roles();
    sql("insert into auth.user (username, password, role) values ('demo', 'demo', 'basic_subscriber')");
}

pub fn key() -> Key {
    Key::from_secret(secret_b64(), true).unwrap()
}

pub fn verify(token: &str) -> Claims {
    Verifier::new(&key(), &[Algorithm::HS256])
        .verify(token, db_now())
        .unwrap()
}

pub fn db_now() -> i64 {
    count("select floor(extract(epoch from now()))::bigint")
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

/// Plays PostgREST 12: the request's path, its headers (PostgREST leaves
/// `Cookie` out of them), its cookies as an object in which the last of two
/// cookies of one name wins, no claims, then a fresh response.
pub fn request(path: &str, cookie_header: &str) {
    let cookies: serde_json::Map<String, serde_json::Value> =
        jwt_core::Cookies::parse(cookie_header)
            .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
            .collect();
    for (name, value) in [
        ("request.path", path.to_owned()),
        ("request.headers", "{}".to_owned()),
        (
            "request.cookies",
            serde_json::Value::Object(cookies).to_string(),
        ),
        ("request.jwt.claims", String::new()),
        ("response.headers", String::new()),
        ("response.status", String::new()),
    ] {
        sql(&format!(
            "select set_config('{name}', {}, true)",
            literal(&value)
        ));
    }
}

/// A request carrying these cookies (`name=value` pairs).
pub fn request_with_cookies(path: &str, cookies: &[(&str, &str)]) {
    let header: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    request(path, &header.join("; "));
}

/// The verified claims PostgREST would set for `token`.
pub fn with_claims_of(token: &str) {
    let claims = serde_json::Value::Object(verify(token).as_map().clone()).to_string();
    sql(&format!(
        "select set_config('request.jwt.claims', {}, true)",
        literal(&claims)
    ));
}

/// Sets the request headers PostgREST would pass (lower-case names), e.g.
/// the proxy's `x-forwarded-for` and the browser's `user-agent`.
pub fn request_headers(headers: &[(&str, &str)]) {
    let object: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
        .collect();
    sql(&format!(
        "select set_config('request.headers', {}, true)",
        literal(&serde_json::Value::Object(object).to_string())
    ));
}

/// Logs `user` in and returns (access token, refresh token).
pub fn login(user: &str, password: &str) -> (String, String) {
    request("/rpc/login", "");
    sql(&format!(
        "select auth.login({}, {})",
        literal(user),
        literal(password)
    ));
    let cookies = set_cookies();
    (
        cookie_value(&cookies, "access_token"),
        cookie_value(&cookies, "refresh_token"),
    )
}

pub fn login_demo() -> (String, String) {
    login("demo", "demo")
}

/// "SQLSTATE: message" of the demo user's login as PostgREST calls it, if
/// it fails.
pub fn login_error() -> Option<String> {
    request("/rpc/login", "");
    error_of("select auth.login('demo', 'demo')")
}

/// "SQLSTATE: message" of setting `pg_auth.<name>` to `value` for this
/// transaction, if that is refused.
pub fn setting_error(name: &str, value: &str) -> Option<String> {
    error_of(&format!(
        "select set_config('pg_auth.{name}', {}, true)",
        literal(value)
    ))
}

/// Asserts that the check of each setting refuses its value when it is set.
pub fn assert_invalid_values(settings: &[(&str, &str)]) {
    for (name, value) in settings {
        assert_eq!(
            setting_error(name, value),
            Some(format!(
                "22023: invalid value for parameter \"pg_auth.{name}\": \"{value}\""
            )),
        );
    }
}

/// Presents `token` to the refresh RPC; the new refresh token, or the error.
pub fn refresh(token: &str) -> Result<String, String> {
    request_with_cookies("/rpc/refresh_token", &[("refresh_token", token)]);
    let answered = "select set_config('test.body', coalesce(auth.refresh_token()::text, ''), true)";
    match problem_of(answered) {
        Some(error) => Err(error),
        None => match text("select current_setting('response.status', true)").as_deref() {
            Some("204") => Ok(cookie_value(&set_cookies(), "refresh_token")),
            status => Err(format!(
                "{} {}",
                status.unwrap_or("no status"),
                text("select current_setting('test.body', true)").unwrap_or_default()
            )),
        },
    }
}

/// Moves every timestamp of the session tables `seconds` into the past, as
/// if that much time had gone by.
pub fn travel(seconds: i64) {
    let shift = format!("interval '{seconds} seconds'");
    sql(&format!(
        "update auth.refresh_token set created_at = created_at - {shift}, rotated_at = rotated_at - {shift}"
    ));
    sql(&format!(
        "update auth.session set created_at = created_at - {shift}, refreshed_at = refreshed_at - {shift}, \
         expires_at = expires_at - {shift}, revoked_at = revoked_at - {shift}"
    ));
    sql(&format!(
        "update auth.login_throttle set last_failure_at = last_failure_at - {shift}, \
         blocked_until = blocked_until - {shift}"
    ));
}

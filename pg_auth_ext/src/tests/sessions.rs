// The PostgREST flow at SQL level: login, refresh, logout, as PostgREST
// plays it (request.cookies in, response.headers out).


#[pg_test]
fn login_sets_both_cookies_with_a_session_token() {
    configure();
    let (access, refresh) = login_demo();
    let cookies = set_cookies();
    assert_eq!(cookies.len(), 2);
    assert!(cookies[0].starts_with("access_token="));
    assert!(cookies[0].contains("; Path=/;"), "{}", cookies[0]);
    assert!(cookies[0].ends_with("; HttpOnly; Secure; SameSite=Lax"), "{}", cookies[0]);
    assert!(cookies[1].contains("; Path=/rpc/refresh_token;"), "{}", cookies[1]);
    let claims = verify(&access);
    assert_eq!(claims.get_str("role"), Some("basic_subscriber"));
    assert_eq!(claims.get_str("sub"), Some("demo"));
    let sid = claims.get_str("sid").unwrap();
    assert!(boolean(&format!("select exists (select 1 from auth.session where id = '{sid}' and revoked_at is null)")));
    // 256 bits, stored only as a hash.
    assert_eq!(refresh.len(), 43);
    assert!(!boolean(&format!("select exists (select 1 from auth.refresh_token where encode(token_hash, 'escape') = {})", literal(&refresh))));
    assert!(boolean(&format!("select exists (select 1 from auth.refresh_token where token_hash = sha256({}::bytea))", literal(&refresh))));
}

#[pg_test]
fn cookie_attributes_follow_the_settings() {
    configure();
    sql("set pg_auth.cookie_secure = off");
    sql("set pg_auth.cookie_samesite = 'Strict'");
    sql("set pg_auth.refresh_cookie_path = '/api/rpc/refresh_token'");
    login_demo();
    let cookies = set_cookies();
    assert!(cookies[0].ends_with("; HttpOnly; SameSite=Strict"), "{}", cookies[0]);
    assert!(cookies[1].contains("; Path=/api/rpc/refresh_token;"), "{}", cookies[1]);
}

#[pg_test]
fn login_refuses_a_wrong_password_and_an_unknown_user_alike() {
    configure();
    let refused = Some("PT401: Invalid user or password".to_owned());
    assert_eq!(error_of("select auth.login('demo', 'wrong')"), refused);
    assert_eq!(error_of("select auth.login('nobody', 'demo')"), refused);
    assert_eq!(error_of(&format!("select auth.login('demo', '{}')", "x".repeat(100))), refused);
    assert_eq!(error_of("select auth.login('demo', '')"), refused);
}

#[pg_test(error = "pg_auth.jwt_secret is not set")]
fn login_needs_the_key() {
    sql("do $$ begin create role basic_subscriber; exception when duplicate_object then null; end $$");
    sql("insert into auth.user values ('demo', 'demo', 'basic_subscriber')");
    sql("select auth.login('demo', 'demo')");
}

#[pg_test(error = "pg_auth.jwt_secret: JWT secret is 8 bytes long; at least 32 are required (generate one with `openssl rand -base64 32`)")]
fn login_refuses_a_short_key() {
    configure();
    sql("set pg_auth.jwt_secret_is_base64 = off");
    sql("set pg_auth.jwt_secret = 'tooshort'");
    sql("select auth.login('demo', 'demo')");
}

#[pg_test]
fn refresh_rotates_the_token() {
    configure();
    let (_, first) = login_demo();
    request_with_cookies(&[("refresh_token", &first)]);
    sql("select auth.refresh_token()");
    let cookies = set_cookies();
    let second = cookie_value(&cookies, "refresh_token");
    assert_ne!(first, second);
    let claims = verify(&cookie_value(&cookies, "access_token"));
    assert_eq!(claims.get_str("username"), Some("demo"));
    assert!(boolean(&format!(
        "select rotated_at is not null from auth.refresh_token where token_hash = sha256({}::bytea)",
        literal(&first)
    )));
    // The rotated token within the grace window (two tabs): still accepted.
    request_with_cookies(&[("refresh_token", &first)]);
    sql("select auth.refresh_token()");
    assert_eq!(set_cookies().len(), 2);
}

#[pg_test]
fn reuse_after_the_grace_window_revokes_the_session() {
    configure();
    let (access, first) = login_demo();
    let sid = verify(&access).get_str("sid").unwrap().to_owned();
    request_with_cookies(&[("refresh_token", &first)]);
    sql("select auth.refresh_token()");
    let second = cookie_value(&set_cookies(), "refresh_token");
    // Eleven seconds later (the grace window is ten).
    sql("update auth.refresh_token set rotated_at = rotated_at - interval '11 seconds' where rotated_at is not null");
    request_with_cookies(&[("refresh_token", &first)]);
    sql("select auth.refresh_token()");
    assert_eq!(text("select current_setting('response.status', true)").as_deref(), Some("401"));
    assert!(boolean(&format!("select revoked_at is not null from auth.session where id = '{sid}'")));
    assert!(set_cookies().iter().all(|c| c.contains("Max-Age=0")));
    // The legitimate successor dies with the session.
    request_with_cookies(&[("refresh_token", &second)]);
    let refused = refresh_error();
    assert_eq!(refused.as_deref(), Some("PT401: Invalid or expired refresh token"));
}

fn refresh_error() -> Option<String> {
    error_of("select auth.refresh_token()")
}

#[pg_test]
fn refresh_refuses_missing_unknown_and_expired_tokens() {
    configure();
    request_with_cookies(&[]);
    assert_eq!(refresh_error().as_deref(), Some("PT401: Invalid or expired refresh token"));
    request_with_cookies(&[("refresh_token", "not-a-token")]);
    assert_eq!(refresh_error().as_deref(), Some("PT401: Invalid or expired refresh token"));
    let (_, refresh) = login_demo();
    sql("update auth.session set expires_at = now() - interval '1 second'");
    request_with_cookies(&[("refresh_token", &refresh)]);
    assert_eq!(refresh_error().as_deref(), Some("PT401: Invalid or expired refresh token"));
}

#[pg_test]
fn logout_ends_the_session_and_clears_both_cookies_at_their_paths() {
    configure();
    let (access, refresh) = login_demo();
    // A browser at /rpc/logout sends only the access cookie (Path=/).
    request_with_cookies(&[("access_token", &access)]);
    sql("select auth.logout()");
    let cookies = set_cookies();
    assert!(cookies.iter().any(|c| c.starts_with("access_token=; Path=/; Max-Age=0")), "{cookies:?}");
    assert!(cookies.iter().any(|c| c.starts_with("refresh_token=; Path=/rpc/refresh_token; Max-Age=0")), "{cookies:?}");
    request_with_cookies(&[("refresh_token", &refresh)]);
    assert_eq!(refresh_error().as_deref(), Some("PT401: Invalid or expired refresh token"));
}

#[pg_test]
fn logout_with_an_expired_access_cookie_still_ends_the_session() {
    configure();
    let (access, refresh) = login_demo();
    let mut claims = verify(&access).as_map().clone();
    claims.insert("exp".into(), (db_now() - 3600).into());
    let expired = sign_claims(Algorithm::HS256, &key(), &Claims::from(claims));
    request_with_cookies(&[("access_token", &expired)]);
    sql("select auth.logout()");
    request_with_cookies(&[("refresh_token", &refresh)]);
    assert_eq!(refresh_error().as_deref(), Some("PT401: Invalid or expired refresh token"));
}

#[pg_test]
fn logout_ignores_forged_access_cookies() {
    configure();
    let (access, refresh) = login_demo();
    let forged = format!("{}x", &access[..access.len() - 1]);
    request_with_cookies(&[("access_token", &forged)]);
    sql("select auth.logout()");
    assert_eq!(set_cookies().len(), 2, "cookies are cleared anyway");
    request_with_cookies(&[("refresh_token", &refresh)]);
    assert_eq!(refresh_error(), None, "the session was not ended by a forged token");
}

#[pg_test]
fn check_session_refuses_tokens_of_ended_sessions() {
    configure();
    let (access, _) = login_demo();
    let claims = verify(&access);
    let claims_json = serde_json::Value::Object(claims.as_map().clone()).to_string();
    sql(&format!("select set_config('request.jwt.claims', {}, true)", literal(&claims_json)));
    sql("select auth.check_session()");
    sql("update auth.session set revoked_at = now()");
    let error = error_of("select auth.check_session()");
    assert_eq!(error.as_deref(), Some("PT401: Session has ended"));
    // Tokens without a session claim (e.g. from generate_access_token) pass.
    sql(r#"select set_config('request.jwt.claims', '{"role":"basic_subscriber"}', true)"#);
    sql("select auth.check_session()");
}

#[pg_test]
fn cleanup_removes_ended_sessions_with_their_tokens() {
    configure();
    login_demo();
    login_demo();
    sql("update auth.session set expires_at = now() - interval '1 day' where id = (select id from auth.session limit 1)");
    assert_eq!(Spi::get_one::<i32>("select auth.cleanup_expired_sessions()").unwrap(), Some(1));
    assert_eq!(Spi::get_one::<i64>("select count(*) from auth.session").unwrap(), Some(1));
    assert_eq!(Spi::get_one::<i64>("select count(*) from auth.refresh_token").unwrap(), Some(1));
}

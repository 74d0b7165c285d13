// What an unprivileged role (PostgREST's anon, or authenticator) can reach.


fn as_anon(query: &str) -> Option<String> {
    sql("do $$ begin create role anon_test nologin; exception when duplicate_object then null; end $$");
    sql("grant usage on schema auth to anon_test");
    sql("grant execute on function auth.login(text, text), auth.logout(), auth.refresh_token() to anon_test");
    sql("set local role anon_test");
    let error = error_of(query);
    sql("reset role");
    error
}

#[pg_test]
fn anon_cannot_read_the_key() {
    configure();
    let denied = "42501: must be superuser or have privileges of pg_read_all_settings to examine \"pg_auth.jwt_secret\"";
    assert_eq!(as_anon("select current_setting('pg_auth.jwt_secret')").as_deref(), Some(denied));
    assert_eq!(
        as_anon("select setting from pg_settings where name = 'pg_auth.jwt_secret'"),
        None,
        "pg_settings hides the row"
    );
    sql("set local role anon_test");
    let visible = Spi::get_one::<i64>("select count(*) from pg_settings where name = 'pg_auth.jwt_secret'").unwrap();
    sql("reset role");
    assert_eq!(visible, Some(0));
}

#[pg_test]
fn anon_cannot_change_settings() {
    configure();
    assert_eq!(
        as_anon("select set_config('pg_auth.access_token_ttl', '999999', true)").as_deref(),
        Some("42501: permission denied to set parameter \"pg_auth.access_token_ttl\"")
    );
}

#[pg_test]
fn anon_cannot_sign_or_read_users() {
    configure();
    assert_eq!(
        as_anon("select auth.sign_raw('{}', 'x', 'HS256')").as_deref(),
        Some("42501: permission denied for function sign_raw")
    );
    assert_eq!(
        as_anon("select auth.issue_access_token('postgres', 'demo', gen_random_uuid())").as_deref(),
        Some("42501: permission denied for function issue_access_token")
    );
    assert_eq!(
        as_anon("select count(*) from auth.user").as_deref(),
        Some("42501: permission denied for table user")
    );
    assert_eq!(
        as_anon("select count(*) from auth.session").as_deref(),
        Some("42501: permission denied for table session")
    );
}

#[pg_test]
fn anon_can_log_in_through_the_rpc() {
    configure();
    request_with_cookies(&[]);
    assert_eq!(as_anon("select auth.login('demo', 'demo')"), None);
}

//! What other roles can reach, where the key is (and is not), and attacks
//! through schema auth.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::*;

    /// Runs `query` as a role like PostgREST's anon; its error, if any.
    fn as_anon(query: &str) -> Option<String> {
        sql("do $$ begin create role anon_test nologin; exception when duplicate_object then null; end $$");
        sql("grant usage on schema auth to anon_test");
        sql("grant execute on function auth.login(text, text), auth.logout(text), auth.refresh_token(), auth.check_session() to anon_test");
        sql("set local role anon_test");
        let error = error_of(query);
        sql("reset role");
        error
    }

    #[pg_test]
    fn anon_cannot_sign_or_read_the_tables() {
        configure();
        for (query, denied) in [
            (
                "select auth.sign_raw('{}', 'x', 'HS256')",
                "function sign_raw",
            ),
            (
                "select auth.issue_access_token('postgres', 'demo', gen_random_uuid())",
                "function issue_access_token",
            ),
            (
                "select auth.cleanup_expired_sessions()",
                "function cleanup_expired_sessions",
            ),
            ("select count(*) from auth.user", "table user"),
            ("select count(*) from auth.session", "table session"),
            (
                "select count(*) from auth.refresh_token",
                "table refresh_token",
            ),
        ] {
            assert_eq!(
                as_anon(query),
                Some(format!("42501: permission denied for {denied}")),
                "{query}"
            );
        }
    }

    #[pg_test]
    fn anon_can_log_in_through_the_rpc() {
        configure();
        request("/rpc/login", "");
        assert_eq!(as_anon("select auth.login('demo', 'demo')"), None);
    }

    #[pg_test]
    fn anon_cannot_change_settings() {
        configure();
        for (name, value) in [
            ("access_token_ttl", "999999"),
            ("jwt_secret_file", "/tmp/mine"),
        ] {
            assert_eq!(
                as_anon(&format!(
                    "select set_config('pg_auth.{name}', '{value}', true)"
                )),
                Some(format!(
                    "42501: permission denied to set parameter \"pg_auth.{name}\""
                )),
            );
        }
    }

    /// A function added to schema auth later (an upgrade, an admin's helper)
    /// used to be executable by every role, PostgREST's visitors included.
    #[pg_test]
    fn functions_created_in_auth_later_are_not_executable_by_public() {
        configure();
        sql("create function auth.admin_helper() returns int language sql as 'select 1'");
        sql("create table auth.admin_notes (note text)");
        assert_eq!(
            as_anon("select auth.admin_helper()").as_deref(),
            Some("42501: permission denied for function admin_helper")
        );
        assert!(!boolean(
            "select has_function_privilege('public', 'auth.admin_helper()', 'execute')"
        ));
        assert!(!boolean(
            "select has_table_privilege('public', 'auth.admin_notes', 'select')"
        ));
    }

    /// No setting can hold the key any more: not the server configuration
    /// (where a change is logged with its value, and pg_read_all_settings
    /// reads it), nor a role's or a database's settings (which every role
    /// reads in pg_db_role_setting).
    #[pg_test]
    fn the_key_cannot_be_put_in_a_setting() {
        configure();
        let database = text("select quote_ident(current_database())").unwrap();
        let secret = literal(secret_b64());
        for statement in [
            format!("alter role anon_key_test set pg_auth.jwt_secret = {secret}"),
            format!("alter database {database} set pg_auth.jwt_secret = {secret}"),
            format!("select set_config('pg_auth.jwt_secret', {secret}, true)"),
        ] {
            sql("do $$ begin create role anon_key_test nologin; exception when duplicate_object then null; end $$");
            let error = error_of(&statement).unwrap_or_default();
            assert!(
                error.contains("invalid configuration parameter name \"pg_auth.jwt_secret\""),
                "{statement}: {error}"
            );
        }
        // Nothing a role can read holds it, even for a superuser.
        assert_eq!(
            count(&format!(
                "select count(*) from pg_settings where setting like '%' || {secret} || '%'"
            )),
            0
        );
        assert_eq!(
            count(&format!("select count(*) from pg_db_role_setting s, unnest(s.setconfig) c where c like '%' || {secret} || '%'")),
            0
        );
    }

    #[pg_test]
    fn the_key_file_must_be_private_to_the_server() {
        create_roles();
        sql("insert into auth.user values ('demo', 'demo', 'basic_subscriber')");
        sql("set pg_auth.jwt_secret_is_base64 = on");
        let login_error = |path: &str| {
            sql(&format!("set pg_auth.jwt_secret_file = {}", literal(path)));
            login_error()
        };
        let readable = write_data_file("pg_auth_test_readable.key", secret_b64(), 0o644);
        assert_eq!(
            login_error(&readable),
            Some(format!("F0000: pg_auth.jwt_secret_file {readable:?}: has group or world permissions: allow only its owner (chmod 600)"))
        );
        let missing = format!("{readable}.missing");
        assert_eq!(
            login_error(&missing),
            Some(format!(
                "F0000: pg_auth.jwt_secret_file {missing:?}: entity not found"
            ))
        );
        let data_dir = text("select current_setting('data_directory')").unwrap();
        assert_eq!(
            login_error(&data_dir),
            Some(format!(
                "F0000: pg_auth.jwt_secret_file {data_dir:?}: is not a regular file"
            ))
        );
        let short = write_data_file("pg_auth_test_short.key", "c2hvcnQ=\n", 0o600);
        assert_eq!(
            login_error(&short),
            Some("F0000: pg_auth.jwt_secret_file: JWT secret is 5 bytes long; at least 32 are required (generate one with `openssl rand -base64 32`)".into())
        );
        // Relative paths are relative to the data directory.
        write_data_file("pg_auth_test.key", &format!("{}\n", secret_b64()), 0o600);
        assert_eq!(login_error("pg_auth_test.key"), None);
    }

    /// A role allowed to create objects in schema auth could add an overload
    /// that a loosely typed call inside a SECURITY DEFINER function would
    /// prefer, and so run its code as the superuser owning the functions
    /// (one login made such a role superuser). Every call is exact now.
    #[pg_test]
    fn overloads_planted_in_auth_are_never_called() {
        configure();
        sql("do $$ begin create role planter nologin; exception when duplicate_object then null; end $$");
        sql("grant usage, create on schema auth to planter");
        sql("set local role planter");
        let hijack = "begin perform set_config('test.hijacked', 'yes', false); return null; end";
        for signature in [
            "issue_access_token(role_ name, user_ text, session_id uuid) returns text",
            "session_cookies(a text, r text, max_age numeric) returns text",
            "session_cookies(a text, r text, max_age integer) returns text",
            "verify_password(p text, h name) returns boolean",
            "role_is_usable(r text) returns boolean",
            "role_problem(r text) returns text",
            "hash_token(t varchar) returns bytea",
            "request_cookie(n varchar) returns text",
            "fail(slug varchar) returns text",
            "parse_session_id(sid varchar) returns uuid",
            "session_of(t varchar) returns uuid",
            "cleanup_expired_sessions(n bigint) returns integer",
            "open_successor(t varchar, s bytea) returns text",
            "password_to_store(v varchar) returns text",
            "problem_of(s varchar) returns text",
        ] {
            sql(&format!(
                "create function auth.{signature} language plpgsql as $$ {hijack} $$"
            ));
        }
        sql("reset role");
        sql("select set_config('test.hijacked', 'no', false)");
        let (access, refresh_token) = login_demo();
        travel(60);
        refresh(&refresh_token).unwrap();
        request_with_cookies("/rpc/logout", &[("access_token", &access)]);
        sql("select auth.logout()");
        request("/task", "");
        with_claims_of(&access);
        let _ = error_of("select auth.check_session()");
        request("/rpc/login", "");
        let _ = error_of("select auth.login('demo', 'wrong')");
        sql("update auth.user set password = 'changed', role = 'basic_subscriber' where username = 'demo'");
        sql("select auth.cleanup_expired_sessions()");
        assert_eq!(
            text("select current_setting('test.hijacked')").as_deref(),
            Some("no")
        );
    }

    /// Only an entry point runs with the extension owner's rights: an RPC,
    /// an administrator's function (both documented) or a trigger. A
    /// helper runs with its caller's, which is an entry point's, so that
    /// "SECURITY DEFINER" reads as "callable from outside".
    #[pg_test]
    fn only_entry_points_run_as_the_extension_owner() {
        let documented = [
            include_str!("../../../docs/extension.md"),
            include_str!("../../../docs/mfa.md"),
        ]
        .concat();
        let definers = text(
            "select string_agg(p.proname, ' ' order by p.proname) from pg_proc p \
             where p.pronamespace = 'auth'::regnamespace and p.prosecdef \
               and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype)",
        )
        .unwrap_or_default();
        let definers: Vec<&str> = definers.split(' ').collect();
        assert!(definers.len() > 30, "{definers:?}");
        // The names the docs call as auth.NAME(...) or /rpc/NAME.
        let called: Vec<&str> = ["auth.", "/rpc/"]
            .iter()
            .flat_map(|prefix| documented.split(prefix).skip(1))
            .map(|after| after.split(|c: char| !c.is_ascii_alphanumeric() && c != '_'))
            .filter_map(|mut words| words.next())
            .collect();
        let undocumented: Vec<&&str> = definers
            .iter()
            .filter(|name| !called.contains(name))
            .collect();
        assert!(
            undocumented.is_empty(),
            "helpers running as the owner: {undocumented:?}"
        );
    }

    /// A SECURITY DEFINER function that took the caller's search_path would
    /// run the caller's objects with the owner's rights: each pins its own.
    #[pg_test]
    fn every_entry_point_pins_its_search_path() {
        let definers = "from pg_proc p where p.pronamespace = 'auth'::regnamespace and p.prosecdef";
        assert!(count(&format!("select count(*) {definers}")) > 30);
        assert_eq!(
            text(&format!(
                "select string_agg(p.proname, ' ') {definers} \
                 and not 'search_path=pg_catalog, pg_temp' = any(coalesce(p.proconfig, '{{}}'))"
            )),
            None
        );
    }
}

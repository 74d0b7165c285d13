//! What may be stored in auth.user, and what a change of an account ends.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::*;

    fn ended_because(access: &str) -> Option<String> {
        let sid = verify(access).get_str("sid").unwrap().to_owned();
        text(&format!(
            "select end_reason from auth.session where id = '{sid}'"
        ))
    }

    fn session_check(access: &str) -> Option<String> {
        request("/task", "");
        with_claims_of(access);
        problem_of("select auth.check_session()")
    }

    #[pg_test]
    fn a_users_role_must_be_one_postgrest_may_switch_to() {
        configure();
        sql("do $$ begin create role not_granted nologin; exception when duplicate_object then null; end $$");
        let insert = |role: &str| {
            error_of(&format!(
                "insert into auth.user values ('someone', 'pw', {})",
                literal(role)
            ))
        };
        let refused = [
            ("no_such_role", "role no_such_role does not exist"),
            ("postgres", "role postgres is a superuser"),
            (
                "pg_read_all_settings",
                "role pg_read_all_settings is a reserved pg_ role",
            ),
            (
                "pg_write_server_files",
                "role pg_write_server_files is a reserved pg_ role",
            ),
            (
                "authenticator",
                "role authenticator is the role PostgREST logs in as",
            ),
            (
                "not_granted",
                "role not_granted is not granted to authenticator",
            ),
        ];
        for (role, problem) in refused {
            assert_eq!(
                insert(role),
                Some(format!("22023: user someone: {problem}")),
                "{role}"
            );
        }
        assert_eq!(insert("basic_subscriber"), None);
    }

    /// A role dropped, or made superuser, after its users were created: the
    /// users cannot sign in or refresh any more.
    #[pg_test]
    fn a_role_that_became_unusable_refuses_login_and_refresh() {
        configure();
        let (_, refresh_token) = login_demo();
        sql("revoke basic_subscriber from authenticator");
        request("/rpc/login", "");
        assert_eq!(
            answer_of("select auth.login('demo', 'demo')").as_deref(),
            Some("PT403: This account cannot sign in [account_unusable]")
        );
        travel(60);
        assert_eq!(
            refresh(&refresh_token),
            Err("PT403: This account cannot sign in [account_unusable]".into())
        );
        // The wrong password still says only that.
        request("/rpc/login", "");
        assert_eq!(
            answer_of("select auth.login('demo', 'wrong')").as_deref(),
            Some("PT401: Invalid user or password [invalid_credentials]")
        );
    }

    #[pg_test]
    fn a_password_change_ends_every_session_of_the_user() {
        configure();
        let (access, refresh_token) = login_demo();
        sql("insert into auth.user values ('other', 'pw', 'basic_subscriber')");
        let (other, _) = login("other", "pw");
        sql("update auth.user set password = 'a new one' where username = 'demo'");
        assert_eq!(ended_because(&access).as_deref(), Some("password_changed"));
        assert_eq!(
            session_check(&access).as_deref(),
            Some("PT401: Session has ended [session_ended]")
        );
        travel(60);
        assert!(refresh(&refresh_token).is_err());
        assert_eq!(ended_because(&other), None, "other users keep theirs");
        // Setting the same row without changing the password ends nothing.
        let (again, _) = login("demo", "a new one");
        sql("update auth.user set username = username where username = 'demo'");
        assert_eq!(ended_because(&again), None);
    }

    #[pg_test]
    fn a_role_change_ends_the_users_sessions() {
        configure();
        sql("do $$ begin create role premium nologin; exception when duplicate_object then null; end $$");
        sql("grant premium to authenticator");
        let (access, _) = login_demo();
        sql("update auth.user set role = 'premium' where username = 'demo'");
        assert_eq!(ended_because(&access).as_deref(), Some("role_changed"));
        let (fresh, _) = login_demo();
        assert_eq!(verify(&fresh).get_str("role"), Some("premium"));
    }

    /// After `bob` becomes `bob_old` and a new `bob` signs up, the old token
    /// (sub = bob) must not read the new bob's rows.
    #[pg_test]
    fn a_rename_ends_the_users_sessions_and_sub_must_match_the_session() {
        configure();
        let (access, _) = login_demo();
        sql("update auth.user set username = 'demo_old' where username = 'demo'");
        assert_eq!(ended_because(&access).as_deref(), Some("username_changed"));
        sql("insert into auth.user values ('demo', 'pw', 'basic_subscriber')");
        assert_eq!(
            session_check(&access).as_deref(),
            Some("PT401: Session has ended [session_ended]")
        );
        // Even a live session refuses a token naming another user.
        let (live, _) = login("demo", "pw");
        let mut claims = verify(&live).as_map().clone();
        claims.insert("sub".into(), "demo_old".into());
        let claims = serde_json::Value::Object(claims).to_string();
        request("/task", "");
        sql(&format!(
            "select set_config('request.jwt.claims', {}, true)",
            literal(&claims)
        ));
        assert_eq!(
            problem_of("select auth.check_session()").as_deref(),
            Some("PT401: Session has ended [session_ended]")
        );
    }
}

//! Sessions users can see and end: logout scopes, `auth.sessions()`,
//! `auth.end_session`, `auth.end_user_sessions`, `auth.change_password`,
//! and the idle timeout.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::*;

    fn response_headers() -> String {
        text("select current_setting('response.headers', true)").unwrap_or_default()
    }

    fn sid(access: &str) -> String {
        verify(access).get_str("sid").unwrap().to_owned()
    }

    fn ended_because(access: &str) -> Option<String> {
        text(&format!(
            "select end_reason from auth.session where id = '{}'",
            sid(access)
        ))
    }

    /// Three sessions of demo from three browsers, one of another user.
    fn three_sessions() -> [String; 3] {
        configure();
        sql("insert into auth.user values ('other', 'pw', 'basic_subscriber')");
        let mut sessions = Vec::new();
        for browser in ["Firefox", "Chrome", "Safari"] {
            request("/rpc/login", "");
            request_headers(&[("user-agent", browser), ("x-forwarded-for", "203.0.113.9")]);
            sql("select auth.login('demo', 'demo')");
            sessions.push(cookie_value(&set_cookies(), "access_token"));
        }
        let _ = login("other", "pw");
        [
            sessions[0].clone(),
            sessions[1].clone(),
            sessions[2].clone(),
        ]
    }

    fn logout_with(access: &str, scope: Option<&str>) {
        request_with_cookies("/rpc/logout", &[("access_token", access)]);
        with_claims_of(access);
        match scope {
            Some(scope) => sql(&format!("select auth.logout({})", literal(scope))),
            None => sql("select auth.logout()"),
        }
    }

    /// An access token found in an old log is no credential to end a user's
    /// other sessions (redteam I7): it ends only its own session.
    #[pg_test]
    fn an_expired_access_token_ends_only_its_own_session() {
        let [first, second, third] = three_sessions();
        let mut old = verify(&first).as_map().clone();
        old.insert("exp".into(), (db_now() - 60).into());
        let old = jwt_core::sign(
            jwt_core::Algorithm::HS256,
            &key(),
            &serde_json::Value::Object(old).to_string(),
        );
        // Expired: neither the proxy nor PostgREST passes its claims on.
        request_with_cookies("/rpc/logout", &[("access_token", &old)]);
        sql("select auth.logout('global')");
        assert_eq!(ended_because(&first).as_deref(), Some("logout"));
        assert_eq!(ended_because(&second), None, "global needs a live token");
        assert_eq!(ended_because(&third), None);
        logout_with(&second, Some("others"));
        assert_eq!(
            ended_because(&third).as_deref(),
            Some("signed_out_elsewhere"),
            "a live one ends the others"
        );
    }

    #[pg_test]
    fn logout_scopes() {
        let [first, second, third] = three_sessions();
        logout_with(&first, Some("others"));
        assert_eq!(ended_because(&first), None, "others: this session stays");
        assert_eq!(response_headers(), "", "and keeps its cookies");
        assert_eq!(
            ended_because(&second).as_deref(),
            Some("signed_out_elsewhere")
        );
        assert_eq!(
            ended_because(&third).as_deref(),
            Some("signed_out_elsewhere")
        );
        assert_eq!(
            count(
                "select count(*) from auth.session where username = 'other' and revoked_at is null"
            ),
            1,
            "another user's session is untouched"
        );
        let [first, second, _] = three_sessions_again();
        logout_with(&first, None);
        assert_eq!(
            ended_because(&first).as_deref(),
            Some("logout"),
            "local, as before"
        );
        assert_eq!(ended_because(&second), None);
        logout_with(&second, Some("global"));
        assert_eq!(
            count(
                "select count(*) from auth.session where username = 'demo' and revoked_at is null"
            ),
            0
        );
        assert_eq!(
            set_cookies().len(),
            2,
            "global clears this browser's cookies"
        );
        assert_eq!(
            error_of("select auth.logout('everywhere')").as_deref(),
            Some("22023: logout scope must be local, others or global")
        );
        assert_eq!(
            count("select count(*) from auth.audit_event where event = 'logout'"),
            3
        );
    }

    /// More sessions in the same database (three_sessions configures once).
    fn three_sessions_again() -> [String; 3] {
        let mut sessions = Vec::new();
        for _ in 0..3 {
            sessions.push(login_demo().0);
        }
        [
            sessions[0].clone(),
            sessions[1].clone(),
            sessions[2].clone(),
        ]
    }

    #[pg_test]
    fn users_see_their_own_sessions_only() {
        let [first, second, _] = three_sessions();
        request("/rpc/sessions", "");
        with_claims_of(&second);
        assert_eq!(count("select count(*) from auth.sessions()"), 3);
        assert_eq!(
            text("select string_agg(login_user_agent, ',' order by created_at, login_user_agent) from auth.sessions()")
                .map(|agents| agents.split(',').count()),
            Some(3)
        );
        assert_eq!(
            text("select id::text from auth.sessions() where current"),
            Some(sid(&second))
        );
        assert_eq!(
            text("select distinct login_address::text from auth.sessions()").as_deref(),
            Some("203.0.113.9/32")
        );
        // Without a token, or with an ended session's: nothing to list.
        request("/rpc/sessions", "");
        assert_eq!(
            problem_of("select count(*) from auth.sessions()").as_deref(),
            Some("PT401: Authentication required [missing]")
        );
        logout_with(&first, None);
        request("/rpc/sessions", "");
        with_claims_of(&first);
        assert_eq!(
            problem_of("select count(*) from auth.sessions()").as_deref(),
            Some("PT401: Session has ended [session_ended]")
        );
    }

    #[pg_test]
    fn users_end_their_own_sessions_and_not_others() {
        let [first, second, _] = three_sessions();
        let others = text("select id::text from auth.session where username = 'other'").unwrap();
        request("/rpc/end_session", "");
        with_claims_of(&first);
        let not_found = Some("PT404: No such session [session_not_found]".to_owned());
        assert_eq!(
            problem_of(&format!("select auth.end_session('{others}')")),
            not_found,
            "someone else's session: not found, not forbidden"
        );
        assert_eq!(
            problem_of("select auth.end_session(gen_random_uuid())"),
            not_found
        );
        assert_eq!(
            count(&format!(
                "select count(*) from auth.session where id = '{others}' and revoked_at is null"
            )),
            1
        );
        sql(&format!("select auth.end_session('{}')", sid(&second)));
        assert_eq!(ended_because(&second).as_deref(), Some("ended_by_user"));
        assert_eq!(
            response_headers(),
            "",
            "ending another of one's sessions keeps these cookies"
        );
        assert_eq!(
            problem_of(&format!("select auth.end_session('{}')", sid(&second))),
            not_found,
            "already ended"
        );
        sql(&format!("select auth.end_session('{}')", sid(&first)));
        assert_eq!(
            set_cookies().len(),
            2,
            "ending one's own session clears its cookies"
        );
        // Administrators end all of a user's sessions.
        assert_eq!(count("select auth.end_user_sessions('other')::bigint"), 1);
        assert_eq!(
            text("select details ->> 'by' from auth.audit_event where event = 'session_ended' and username = 'other'")
                .as_deref(),
            Some("admin")
        );
    }

    #[pg_test]
    fn a_password_change_keeps_this_session_and_ends_the_others() {
        let [first, second, third] = three_sessions();
        request("/rpc/change_password", "");
        with_claims_of(&first);
        assert_eq!(
            answer_of("select auth.change_password('wrong', 'new password')").as_deref(),
            Some("PT401: Invalid user or password [invalid_credentials]")
        );
        assert_eq!(
            ended_because(&second),
            None,
            "a wrong password changes nothing"
        );
        request("/rpc/change_password", "");
        with_claims_of(&first);
        assert_eq!(
            answer_of("select auth.change_password('demo', 'violet otter galaxy 91')"),
            None
        );
        assert_eq!(ended_because(&first), None);
        assert_eq!(ended_because(&second).as_deref(), Some("password_changed"));
        assert_eq!(ended_because(&third).as_deref(), Some("password_changed"));
        request("/rpc/login", "");
        assert_eq!(
            answer_of("select auth.login('demo', 'violet otter galaxy 91')"),
            None
        );
        assert_eq!(
            count("select count(*) from auth.audit_event where event = 'password_changed'"),
            1
        );
    }

    #[pg_test]
    fn an_idle_session_ends() {
        configure();
        sql("set pg_auth.session_idle_timeout = 3600");
        let (access, refresh_token) = login_demo();
        travel(1800);
        let refresh_token = refresh(&refresh_token).unwrap();
        travel(3000);
        assert!(
            refresh(&refresh_token).is_ok(),
            "refreshed within the timeout: alive"
        );
        let (idle_access, idle_refresh) = login_demo();
        travel(3601);
        let refused = refresh(&idle_refresh).unwrap_err();
        assert!(
            refused.starts_with("401 ") && refused.contains("invalid_refresh_token"),
            "{refused}"
        );
        assert_eq!(ended_because(&idle_access).as_deref(), Some("idle"));
        let _ = access;
    }

    /// An idle session is no session for the session API either: the
    /// liveness rule is one function now, and `current_session` lacked the
    /// idle check the others had (aesthetics review).
    #[pg_test]
    fn an_idle_session_cannot_use_the_session_api() {
        configure();
        sql("set pg_auth.session_idle_timeout = 60");
        let (access, _) = login_demo();
        with_claims_of(&access);
        assert!(count("select count(*) from auth.sessions()") == 1);
        travel(61);
        assert_eq!(
            problem_of("select count(*) from auth.sessions()").as_deref(),
            Some("PT401: Session has ended [session_ended]")
        );
    }

    /// A session that went idle is listed for the proxies while its last
    /// access token is still valid (a timeout shorter than its lifetime),
    /// although no statement marked it ended (redteam I5).
    #[pg_test]
    fn the_proxies_learn_of_idle_sessions() {
        configure();
        sql("set pg_auth.session_idle_timeout = 60");
        let (access, _) = login_demo();
        let listed = || {
            text("select auth.ended_sessions(null)::text")
                .unwrap()
                .contains(&sid(&access))
        };
        assert!(!listed(), "not idle yet");
        travel(61);
        assert!(listed(), "idle, and its token lives 600 s");
        travel(600);
        assert!(!listed(), "its token has expired");
        sql("set pg_auth.session_idle_timeout = 0");
        let (fresh, _) = login_demo();
        travel(120);
        assert!(!text("select auth.ended_sessions(null)::text")
            .unwrap()
            .contains(&sid(&fresh)));
    }

    #[pg_test]
    fn the_proxies_learn_which_sessions_ended() {
        let [first, second, _] = three_sessions();
        let ended = |since: &str| {
            let answer = text(&format!("select auth.ended_sessions({since})::text")).unwrap();
            let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
            answer["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["sid"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert!(ended("null").is_empty());
        logout_with(&first, None);
        assert_eq!(ended("null"), vec![sid(&first)]);
        let later = count("select ceil(extract(epoch from now()))::bigint + 1");
        assert!(ended(&later.to_string()).is_empty(), "nothing since");
        // Once its tokens have expired, an ended session is no longer listed.
        travel(601);
        assert!(ended("null").is_empty());
        let _ = second;
    }
}

//! The PostgREST flow at SQL level: login, refresh, logout and the session
//! check, as PostgREST plays them (request settings in, response settings out).

#[pgrx::pg_schema]
mod tests {
    use jwt_core::{sign_claims, Algorithm, Claims};
    use pgrx::prelude::*;

    use crate::tests::fixtures::*;

    fn session_of(access: &str) -> String {
        verify(access).get_str("sid").unwrap().to_owned()
    }

    fn session_row(sid: &str, column: &str) -> Option<String> {
        text(&format!(
            "select {column}::text from auth.session where id = '{sid}'"
        ))
    }

    fn refresh_rows(sid: &str) -> i64 {
        count(&format!(
            "select count(*) from auth.refresh_token where session_id = '{sid}'"
        ))
    }

    #[pg_test]
    fn login_sets_both_cookies_with_every_attribute() {
        configure();
        let (access, refresh) = login_demo();
        let lifetime = 30 * 24 * 3600;
        assert_eq!(
            set_cookies(),
            vec![
                format!("access_token={access}; Path=/; Max-Age={lifetime}; HttpOnly; Secure; SameSite=Lax"),
                format!("refresh_token={refresh}; Path=/rpc/refresh_token; Max-Age={lifetime}; HttpOnly; Secure; SameSite=Lax"),
            ]
        );
        let claims = verify(&access);
        assert_eq!(claims.get_str("role"), Some("basic_subscriber"));
        assert_eq!(claims.get_str("sub"), Some("demo"));
        let sid = session_of(&access);
        assert_eq!(session_row(&sid, "revoked_at"), None);
        // 256 bits, stored only as a hash.
        assert_eq!(refresh.len(), 43);
        assert!(boolean(&format!(
            "select exists (select 1 from auth.refresh_token where token_hash = sha256({}::bytea))",
            literal(&refresh)
        )));
        assert_eq!(refresh_rows(&sid), 1);
    }

    #[pg_test]
    fn cookie_attributes_follow_the_settings() {
        configure();
        sql("set pg_auth.cookie_secure = off");
        sql("set pg_auth.cookie_samesite = 'Strict'");
        sql("set pg_auth.refresh_cookie_path = '/api/rpc/refresh_token'");
        let (access, refresh) = login_demo();
        let max_age = 30 * 24 * 3600;
        assert_eq!(
            set_cookies(),
            vec![
                format!("access_token={access}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict"),
                format!("refresh_token={refresh}; Path=/api/rpc/refresh_token; Max-Age={max_age}; HttpOnly; SameSite=Strict"),
            ]
        );
    }

    /// Settings are checked when set, not at the next login; and a
    /// configuration problem is a server error (500), not a client's 400.
    #[pg_test]
    fn bad_settings_are_refused_when_set() {
        configure();
        assert_invalid_values(&[
            ("cookie_samesite", "Sometimes"),
            ("jwt_algorithm", "RS256"),
            ("refresh_cookie_path", "rpc/refresh; Domain=evil"),
        ]);
        sql("set pg_auth.cookie_secure = off");
        sql("set pg_auth.cookie_samesite = 'None'");
        assert_eq!(
            login_error().as_deref(),
            Some("F0000: cannot build cookie: SameSite=None requires Secure (browsers drop the cookie otherwise)")
        );
    }

    #[pg_test]
    fn login_refuses_a_wrong_password_and_an_unknown_user_alike() {
        configure();
        let refused = Some("PT401: Invalid user or password [invalid_credentials]".to_owned());
        assert_eq!(answer_of("select auth.login('demo', 'wrong')"), refused);
        assert_eq!(answer_of("select auth.login('nobody', 'demo')"), refused);
        assert_eq!(
            answer_of(&format!("select auth.login('demo', '{}')", "x".repeat(100))),
            refused
        );
        assert_eq!(answer_of("select auth.login('demo', '')"), refused);
        assert_eq!(count("select count(*) from auth.session"), 0);
    }

    #[pg_test]
    fn login_needs_the_key_file() {
        create_roles();
        sql("insert into auth.user values ('demo', 'demo', 'basic_subscriber')");
        request("/rpc/login", "");
        sql("reset pg_auth.jwt_secret_file");
        assert_eq!(
            error_of("select auth.login('demo', 'demo')").as_deref(),
            Some("F0000: pg_auth.jwt_secret_file is not set")
        );
    }

    #[pg_test]
    fn refresh_rotates_the_token() {
        configure();
        let (access, first) = login_demo();
        travel(60);
        let second = refresh(&first).unwrap();
        assert_ne!(first, second);
        let cookies = set_cookies();
        let new_access = cookie_value(&cookies, "access_token");
        assert_eq!(session_of(&new_access), session_of(&access));
        assert!(boolean(&format!(
            "select rotated_at is not null from auth.refresh_token where token_hash = auth.hash_token({})",
            literal(&first)
        )));
    }

    /// Within the grace window the rotated token gets the very token it was
    /// rotated to, however often: every tab lands on one chain, and no
    /// parallel sessions are minted (they used to be, one per replay).
    #[pg_test]
    fn the_grace_window_answers_with_the_same_successor() {
        configure();
        let (access, first) = login_demo();
        let sid = session_of(&access);
        travel(60);
        let second = refresh(&first).unwrap();
        for _ in 0..20 {
            assert_eq!(refresh(&first).unwrap(), second);
        }
        assert_eq!(refresh_rows(&sid), 2, "one rotated token and its successor");
        // The chain goes on from the successor.
        travel(60);
        let third = refresh(&second).unwrap();
        assert_ne!(third, second);
        // The first token, now past its grace window: reuse ends the session.
        let reused = refresh(&first).unwrap_err();
        let (status, body) = reused.split_once(' ').unwrap();
        assert_eq!(status, "401");
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (&body["code"], &body["details"]),
            (
                &serde_json::json!("PT401"),
                &serde_json::json!("refresh_reused")
            )
        );
        assert_eq!(
            session_row(&sid, "end_reason").as_deref(),
            Some("refresh_reused")
        );
        assert!(set_cookies()
            .iter()
            .any(|c| c.starts_with("access_token=; Path=/; Max-Age=0")));
        assert!(set_cookies()
            .iter()
            .any(|c| c.starts_with("refresh_token=; Path=/rpc/refresh_token; Max-Age=0")));
        // Every member of the family dies with it.
        assert_eq!(
            refresh(&third),
            Err("PT401: Invalid or expired refresh token [invalid_refresh_token]".into())
        );
    }

    /// A client looping the refresh RPC adds no rows: a refresh within
    /// pg_auth.refresh_min_interval of the token's issue keeps it.
    #[pg_test]
    fn refreshing_again_at_once_keeps_the_token_and_adds_no_row() {
        configure();
        let (access, first) = login_demo();
        let sid = session_of(&access);
        for _ in 0..50 {
            assert_eq!(refresh(&first).unwrap(), first);
        }
        assert_eq!(refresh_rows(&sid), 1);
        // A fresh access token each time all the same.
        assert_eq!(
            session_of(&cookie_value(&set_cookies(), "access_token")),
            sid
        );
    }

    #[pg_test]
    fn a_sessions_rotation_history_is_bounded() {
        configure();
        sql("set pg_auth.refresh_token_history = 5");
        let (access, mut token) = login_demo();
        let sid = session_of(&access);
        let first = token.clone();
        for _ in 0..20 {
            travel(60);
            token = refresh(&token).unwrap();
        }
        assert_eq!(
            refresh_rows(&sid),
            6,
            "five rotated tokens and the current one"
        );
        assert_eq!(
            count(&format!(
                "select count(*) from auth.refresh_token where session_id = '{sid}' and successor is not null"
            )),
            1,
            "only the latest rotation, within its grace window, keeps its successor"
        );
        // A pruned token is simply invalid; the session goes on.
        assert_eq!(
            refresh(&first),
            Err("PT401: Invalid or expired refresh token [invalid_refresh_token]".into())
        );
        assert_eq!(session_row(&sid, "revoked_at"), None);
    }

    #[pg_test]
    fn refresh_refuses_missing_unknown_and_expired_tokens() {
        configure();
        let invalid =
            Err("PT401: Invalid or expired refresh token [invalid_refresh_token]".to_owned());
        request("/rpc/refresh_token", "");
        assert_eq!(
            problem_of("select auth.refresh_token()").map(Err),
            Some(invalid.clone())
        );
        assert_eq!(refresh("not-a-token"), invalid);
        let (_, token) = login_demo();
        sql("update auth.session set expires_at = now() - interval '1 second'");
        assert_eq!(refresh(&token), invalid);
    }

    #[pg_test]
    fn logout_ends_the_session_and_clears_both_cookies_at_their_paths() {
        configure();
        let (access, refresh_token) = login_demo();
        let sid = session_of(&access);
        // A browser at /rpc/logout sends only the access cookie (Path=/).
        request_with_cookies("/rpc/logout", &[("access_token", &access)]);
        sql("select auth.logout()");
        assert_eq!(
            set_cookies(),
            vec![
                "access_token=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax".to_owned(),
                "refresh_token=; Path=/rpc/refresh_token; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax".to_owned(),
            ]
        );
        assert_eq!(session_row(&sid, "end_reason").as_deref(), Some("logout"));
        assert!(refresh(&refresh_token).is_err());
    }

    #[pg_test]
    fn logout_with_an_expired_access_cookie_still_ends_the_session() {
        configure();
        let (access, refresh_token) = login_demo();
        let mut claims = verify(&access).as_map().clone();
        claims.insert("exp".into(), (db_now() - 3600).into());
        let expired = sign_claims(Algorithm::HS256, &key(), &Claims::from(claims));
        request_with_cookies("/rpc/logout", &[("access_token", &expired)]);
        sql("select auth.logout()");
        assert_eq!(
            session_row(&session_of(&access), "end_reason").as_deref(),
            Some("logout")
        );
        assert!(refresh(&refresh_token).is_err());
    }

    #[pg_test]
    fn logout_ignores_forged_access_cookies() {
        configure();
        let (access, refresh_token) = login_demo();
        let forged = format!("{}x", &access[..access.len() - 1]);
        request_with_cookies("/rpc/logout", &[("access_token", &forged)]);
        sql("select auth.logout()");
        assert_eq!(set_cookies().len(), 2, "cookies are cleared anyway");
        assert_eq!(session_row(&session_of(&access), "revoked_at"), None);
        travel(60);
        assert!(
            refresh(&refresh_token).is_ok(),
            "the session was not ended by a forged token"
        );
    }

    #[pg_test]
    fn check_session_refuses_tokens_of_ended_sessions() {
        configure();
        let (access, _) = login_demo();
        request("/task", "");
        with_claims_of(&access);
        sql("select auth.check_session()");
        sql("update auth.session set revoked_at = now()");
        assert_eq!(
            problem_of("select auth.check_session()").as_deref(),
            Some("PT401: Session has ended [session_ended]")
        );
        // Tokens without a session claim (e.g. from generate_access_token) pass.
        sql(r#"select set_config('request.jwt.claims', '{"role":"basic_subscriber"}', true)"#);
        sql("select auth.check_session()");
    }

    /// The access cookie of an ended session (after refresh-token reuse, say)
    /// is still signature-valid and reaches the auth RPCs as Bearer: the user
    /// must still be able to log in again and to log out.
    #[pg_test]
    fn the_auth_rpcs_pass_the_session_check_with_an_ended_session() {
        configure();
        let (access, _) = login_demo();
        sql("update auth.session set revoked_at = now()");
        for path in ["/rpc/login", "/rpc/logout", "/rpc/refresh_token"] {
            request_with_cookies(path, &[("access_token", &access)]);
            with_claims_of(&access);
            assert_eq!(error_of("select auth.check_session()"), None, "{path}");
        }
        request_with_cookies("/rpc/login", &[("access_token", &access)]);
        with_claims_of(&access);
        sql("select auth.login('demo', 'demo')");
        assert_eq!(set_cookies().len(), 2);
    }

    /// With db-tx-end = commit-allow-override, `Prefer: tx=rollback` would
    /// send cookies for a rotation or a logout that never committed.
    #[pg_test]
    fn the_auth_rpcs_refuse_a_rollback() {
        configure();
        let (access, token) = login_demo();
        for (path, call) in [
            ("/rpc/login", "select auth.login('demo', 'demo')"),
            ("/rpc/refresh_token", "select auth.refresh_token()"),
            ("/rpc/logout", "select auth.logout()"),
        ] {
            request_with_cookies(
                path,
                &[("access_token", &access), ("refresh_token", &token)],
            );
            sql(
                r#"select set_config('request.headers', '{"prefer": "return=minimal, tx=rollback"}', true)"#,
            );
            assert_eq!(
                problem_of(call).as_deref(),
                Some("PT400: The auth RPCs always commit [rollback_refused]"),
                "{path}"
            );
        }
        // Every RPC that changes something for the signed-in user, through
        // auth.session_for_change.
        for call in [
            "auth.end_session(gen_random_uuid())",
            "auth.change_password('demo', 'a new password 123')",
            "auth.change_email('new@example.org', 'demo')",
            "auth.mfa_enroll_totp()",
            "auth.mfa_verify(gen_random_uuid(), '000000')",
            "auth.mfa_recover('0000-0000')",
            "auth.mfa_unenroll(gen_random_uuid())",
            "auth.passkey_register_begin('laptop')",
            "auth.passkey_register_finish(gen_random_uuid(), '{}')",
            "auth.mfa_passkey_begin()",
            "auth.mfa_passkey_finish(gen_random_uuid(), '{}')",
        ] {
            request("/rpc/any", "");
            with_claims_of(&access);
            request_headers(&[("prefer", "tx=rollback")]);
            assert_eq!(
                problem_of(&format!("select {call}")).as_deref(),
                Some("PT400: The auth RPCs always commit [rollback_refused]"),
                "{call}"
            );
        }
    }

    #[pg_test]
    fn cleanup_removes_sessions_nobody_can_use_with_their_tokens() {
        configure();
        sql("set pg_auth.access_token_ttl = 600");
        let (a, _) = login_demo();
        let (b, _) = login_demo();
        let (c, _) = login_demo();
        let (d, _) = login_demo();
        let (a, b, c, d) = (
            session_of(&a),
            session_of(&b),
            session_of(&c),
            session_of(&d),
        );
        sql(&format!(
            "update auth.session set expires_at = now() - interval '1 day' where id = '{a}'"
        ));
        sql(&format!(
            "update auth.session set revoked_at = now() - interval '11 minutes' where id = '{b}'"
        ));
        // Ended a minute ago: its access tokens may still be out there.
        sql(&format!(
            "update auth.session set revoked_at = now() - interval '1 minute' where id = '{c}'"
        ));
        assert_eq!(
            Spi::get_one::<i32>("select auth.cleanup_expired_sessions()").unwrap(),
            Some(2)
        );
        let left = count(&format!(
            "select count(*) from auth.session where id in ('{c}', '{d}')"
        ));
        assert_eq!(left, 2);
        assert_eq!(count("select count(*) from auth.session"), 2);
        assert_eq!(count("select count(*) from auth.refresh_token"), 2);
    }
}

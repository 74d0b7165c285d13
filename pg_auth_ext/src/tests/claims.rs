//! What access tokens carry: custom claims from the administrator's
//! function, `auth.me()`, and the cookies' names and domain.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::*;

    /// The app's own table, and the function that gives a user its claims.
    fn custom_claims_function(body: &str) {
        sql("create table if not exists public.profile (username text primary key, user_id int)");
        sql("insert into public.profile values ('demo', 42) on conflict do nothing");
        sql(&format!(
            "create or replace function public.app_claims(username text) returns jsonb language sql stable as $$ {body} $$"
        ));
        sql("set pg_auth.custom_claims_function = 'public.app_claims'");
    }

    #[pg_test]
    fn custom_claims_are_added_at_login_and_refresh() {
        configure();
        custom_claims_function(
            "select jsonb_build_object('user_id', p.user_id, 'plan', 'pro') from public.profile p where p.username = app_claims.username",
        );
        let (access, token) = login_demo();
        let claims = verify(&access);
        assert_eq!(claims.get("user_id"), Some(&serde_json::json!(42)));
        assert_eq!(claims.get_str("plan"), Some("pro"));
        assert_eq!(claims.get_str("role"), Some("basic_subscriber"));
        sql("update public.profile set user_id = 43");
        travel(60);
        refresh(&token).unwrap();
        let refreshed = verify(&cookie_value(&set_cookies(), "access_token"));
        assert_eq!(refreshed.get("user_id"), Some(&serde_json::json!(43)));
    }

    #[pg_test]
    fn custom_claims_cannot_override_the_extensions_own() {
        configure();
        custom_claims_function("select jsonb_build_object('role', 'postgres')");
        let error = login_error().unwrap();
        assert!(
            error.starts_with(
                "F0000: pg_auth.custom_claims_function set the claim \"role\", which pg_auth_ext owns"
            ),
            "{error}"
        );
    }

    #[pg_test]
    fn a_failing_or_missing_claims_function_fails_login_with_the_reason() {
        configure();
        custom_claims_function("select (1 / 0)::text::jsonb");
        assert_eq!(
            login_error().as_deref(),
            Some("F0000: pg_auth.custom_claims_function public.app_claims(text) failed for user demo: division by zero")
        );
        custom_claims_function("select '[1]'::jsonb");
        assert_eq!(
            login_error().as_deref(),
            Some("F0000: pg_auth.custom_claims_function must return a JSON object (or NULL)")
        );
        sql("set pg_auth.custom_claims_function = 'public.no_such_function'");
        assert_eq!(
            login_error().as_deref(),
            Some("F0000: pg_auth.custom_claims_function: no function public.no_such_function(text) returning jsonb")
        );
    }

    #[pg_test]
    fn a_claims_function_a_non_superuser_owns_must_be_security_definer() {
        configure();
        custom_claims_function("select jsonb_build_object('user_id', 42)");
        sql("create role claims_owner");
        sql("alter function public.app_claims(text) owner to claims_owner");
        assert_eq!(
            login_error().as_deref(),
            Some("F0000: pg_auth.custom_claims_function public.app_claims(text) must be owned by a superuser or be SECURITY DEFINER")
        );
        sql("alter function public.app_claims(text) security definer");
        let (access, _) = login_demo();
        assert_eq!(verify(&access).get("user_id"), Some(&serde_json::json!(42)));
        assert_invalid_values(&[("custom_claims_function", "app_claims")]);
    }

    #[pg_test]
    fn me_tells_the_app_who_is_signed_in() {
        configure();
        custom_claims_function("select jsonb_build_object('user_id', 7)");
        let (access, _) = login_demo();
        request("/rpc/me", "");
        with_claims_of(&access);
        let me: serde_json::Value =
            serde_json::from_str(&text("select auth.me()::text").unwrap()).unwrap();
        assert_eq!(me["username"], "demo");
        assert_eq!(me["role"], "basic_subscriber");
        assert_eq!(me["session_id"], verify(&access).get_str("sid").unwrap());
        assert_eq!(me["claims"]["user_id"], 7);
        assert!(me["session_expires_at"].is_string() && me["access_token_expires_at"].is_string());
        request("/rpc/me", "");
        assert_eq!(
            problem_of("select auth.me()").as_deref(),
            Some("PT401: Authentication required [missing]")
        );
    }

    #[pg_test]
    fn cookie_names_prefixes_and_domain_follow_the_settings() {
        configure();
        sql("set pg_auth.cookie_prefixes = on");
        let (access, token) = {
            request("/rpc/login", "");
            sql("select auth.login('demo', 'demo')");
            let cookies = set_cookies();
            assert!(
                cookies[0].starts_with("__Host-access_token="),
                "{cookies:?}"
            );
            assert!(
                cookies[1].starts_with("__Secure-refresh_token="),
                "{cookies:?}"
            );
            (
                cookie_value(&cookies, "__Host-access_token"),
                cookie_value(&cookies, "__Secure-refresh_token"),
            )
        };
        travel(60);
        request_with_cookies("/rpc/refresh_token", &[("__Secure-refresh_token", &token)]);
        sql("select auth.refresh_token()");
        assert!(set_cookies()[1].starts_with("__Secure-refresh_token="));
        request_with_cookies("/rpc/logout", &[("__Host-access_token", &access)]);
        sql("select auth.logout()");
        let sid = verify(&access).get_str("sid").unwrap().to_owned();
        assert_eq!(
            text(&format!(
                "select end_reason from auth.session where id = '{sid}'"
            ))
            .as_deref(),
            Some("logout")
        );
        // A Domain and the __Host- prefix exclude each other.
        sql("set pg_auth.cookie_domain = 'example.com'");
        assert!(login_error().unwrap().contains(
            "a __Secure- cookie must be Secure, and a __Host- cookie also Path=/ without Domain"
        ));
        sql("set pg_auth.cookie_prefixes = off");
        sql("set pg_auth.access_cookie_name = 'sid_cookie'");
        login_cookies_contain("sid_cookie=", "; Domain=example.com;");
        assert_invalid_values(&[
            ("cookie_domain", "example.com; Secure"),
            ("access_cookie_name", "a b"),
        ]);
    }

    fn login_cookies_contain(name: &str, attribute: &str) {
        request("/rpc/login", "");
        sql("select auth.login('demo', 'demo')");
        let cookies = set_cookies();
        assert!(
            cookies[0].starts_with(name) && cookies[0].contains(attribute),
            "{cookies:?}"
        );
    }

    /// PostgREST allows one db-pre-request: an app's own calls ours.
    #[pg_test]
    fn an_apps_pre_request_can_call_check_session() {
        configure();
        sql("create function public.app_pre_request() returns void language plpgsql as $$ begin perform auth.check_session(); perform set_config('app.checked', 'yes', true); end $$");
        let (access, _) = login_demo();
        request("/task", "");
        with_claims_of(&access);
        sql("select public.app_pre_request()");
        assert_eq!(
            text("select current_setting('app.checked')").as_deref(),
            Some("yes")
        );
        sql("update auth.session set revoked_at = now()");
        assert_eq!(
            problem_of("select public.app_pre_request()").as_deref(),
            Some("PT401: Session has ended [session_ended]")
        );
    }
}

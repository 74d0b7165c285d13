//! Brute-force defence and the audit trail: failed logins throttled per
//! username and address, per address and (only slowed) per username, with
//! a growing but bounded wait, the same for unknown users; and what the
//! audit trail records.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::*;

    const THROTTLED: &str = "PT429: Too many attempts [throttled]";
    const REFUSED: &str = "PT401: Invalid user or password [invalid_credentials]";

    fn attempt(user: &str, password: &str, address: &str) -> Option<String> {
        request("/rpc/login", "");
        request_headers(&[("x-forwarded-for", address), ("user-agent", "test")]);
        answer_of(&format!(
            "select auth.login({}, {})",
            literal(user),
            literal(password)
        ))
    }

    fn retry_after() -> i64 {
        let headers = text("select current_setting('response.headers', true)").unwrap();
        let headers: serde_json::Value = serde_json::from_str(&headers).unwrap();
        headers[0]["Retry-After"].as_str().unwrap().parse().unwrap()
    }

    fn throttle_settings() {
        configure();
        sql("set pg_auth.login_max_failures = 5");
        sql("set pg_auth.login_max_failures_per_address = 8");
        sql("set pg_auth.login_throttle_delay = 2");
        sql("set pg_auth.login_throttle_max_delay = 60");
    }

    #[pg_test]
    fn a_guesser_is_throttled_with_a_growing_bounded_wait_and_the_owner_is_not() {
        throttle_settings();
        const GUESSER: &str = "198.51.100.1";
        for _ in 0..5 {
            assert_eq!(attempt("demo", "wrong", GUESSER).as_deref(), Some(REFUSED));
        }
        assert_eq!(attempt("demo", "demo", GUESSER).as_deref(), Some(THROTTLED));
        assert_eq!(retry_after(), 2);
        assert_eq!(
            count("select count(*) from auth.session"),
            0,
            "a throttled attempt checks no password"
        );
        // The owner, from anywhere else, is not kept out (redteam R3-05).
        assert_eq!(attempt("demo", "demo", "198.51.100.2"), None);
        assert_eq!(attempt("demo", "demo", GUESSER).as_deref(), Some(THROTTLED));
        travel(3);
        assert_eq!(attempt("demo", "wrong", GUESSER).as_deref(), Some(REFUSED));
        assert_eq!(attempt("demo", "demo", GUESSER).as_deref(), Some(THROTTLED));
        assert_eq!(retry_after(), 4, "the wait doubles");
        for _ in 0..8 {
            travel(61);
            let _ = attempt("demo", "wrong", GUESSER);
            assert_eq!(
                attempt("demo", "demo", "198.51.100.2"),
                None,
                "one try per wait keeps nobody else out"
            );
        }
        let _ = attempt("demo", "demo", GUESSER);
        assert!(
            retry_after() <= 60,
            "never more than login_throttle_max_delay"
        );
        travel(61);
        assert_eq!(
            attempt("demo", "demo", GUESSER),
            None,
            "then the right password works"
        );
        assert_eq!(
            attempt("demo", "wrong", GUESSER).as_deref(),
            Some(REFUSED),
            "and a success forgot the pair's failures"
        );
    }

    #[pg_test]
    fn a_username_as_a_whole_only_slows_down_and_never_for_a_known_address() {
        throttle_settings();
        assert_eq!(attempt("demo", "demo", "198.51.100.9"), None);
        // Guesses spread over 50 addresses: ten times login_max_failures.
        for n in 0..50 {
            let _ = attempt("demo", "wrong", &format!("203.0.113.{n}"));
        }
        assert_eq!(
            attempt("demo", "demo", "203.0.113.200").as_deref(),
            Some(THROTTLED)
        );
        assert_eq!(retry_after(), 2, "the first delay, never doubled");
        travel(3);
        let _ = attempt("demo", "wrong", "203.0.113.201");
        let _ = attempt("demo", "demo", "203.0.113.202");
        assert_eq!(retry_after(), 2);
        assert_eq!(
            attempt("demo", "demo", "198.51.100.9"),
            None,
            "an address that signed in before is not held by the username's count"
        );
    }

    #[pg_test]
    fn unknown_users_are_throttled_exactly_like_real_ones() {
        throttle_settings();
        for _ in 0..5 {
            assert_eq!(
                attempt("nobody", "x", "198.51.100.1").as_deref(),
                Some(REFUSED)
            );
            assert_eq!(
                attempt("demo", "x", "198.51.100.2").as_deref(),
                Some(REFUSED)
            );
        }
        assert_eq!(
            attempt("nobody", "x", "198.51.100.1").as_deref(),
            Some(THROTTLED)
        );
        let headers = || text("select current_setting('response.headers', true)");
        let unknown = headers();
        assert_eq!(
            attempt("demo", "x", "198.51.100.2").as_deref(),
            Some(THROTTLED)
        );
        assert_eq!(headers(), unknown, "the same answer, headers and all");
    }

    #[pg_test]
    fn ipv6_clients_are_counted_per_network() {
        throttle_settings();
        for n in 1..=8 {
            let _ = attempt(&format!("user{n}"), "x", &format!("2001:db8:0:1::{n}"));
        }
        assert_eq!(
            attempt("demo", "demo", "2001:db8:0:1::ffff").as_deref(),
            Some(THROTTLED),
            "one /64 is one client (redteam R3-10)"
        );
        assert_eq!(attempt("demo", "demo", "2001:db8:0:2::1"), None);
        for n in 1..=8 {
            let _ = attempt(&format!("user{n}"), "x", "198.51.100.77");
        }
        assert_eq!(
            attempt("demo", "demo", "::ffff:198.51.100.77").as_deref(),
            Some(THROTTLED),
            "an IPv4-mapped address is its IPv4 address"
        );
        sql("set pg_auth.address_prefix_v6 = 128");
        assert_eq!(attempt("demo", "demo", "2001:db8:0:1::ffff"), None);
    }

    #[pg_test]
    fn a_flood_of_throttled_attempts_writes_one_audit_row_per_wait() {
        throttle_settings();
        for _ in 0..5 {
            let _ = attempt("demo", "wrong", "198.51.100.1");
        }
        for _ in 0..200 {
            assert_eq!(
                attempt("demo", "demo", "198.51.100.1").as_deref(),
                Some(THROTTLED)
            );
        }
        let throttled_rows =
            || count("select count(*) from auth.audit_event where event = 'login_throttled'");
        assert_eq!(throttled_rows(), 1, "redteam R3-06: one row, not 200");
        assert_eq!(
            count("select max(refused) from auth.login_throttle"),
            200,
            "the attempts are counted"
        );
        travel(3);
        let _ = attempt("demo", "wrong", "198.51.100.1");
        for _ in 0..50 {
            let _ = attempt("demo", "demo", "198.51.100.1");
        }
        assert_eq!(throttled_rows(), 2, "one more for the next wait");
    }

    #[pg_test]
    fn an_address_is_throttled_across_usernames() {
        throttle_settings();
        for n in 0..8 {
            assert_eq!(
                attempt(&format!("user{n}"), "x", "198.51.100.7").as_deref(),
                Some(REFUSED)
            );
        }
        assert_eq!(
            attempt("demo", "demo", "198.51.100.7").as_deref(),
            Some(THROTTLED)
        );
        assert_eq!(
            attempt("demo", "demo", "198.51.100.8"),
            None,
            "other addresses are not"
        );
        // A client cannot pick its own address: the proxy's entry is the last.
        assert_eq!(
            attempt("demo", "demo", "10.0.0.1, 198.51.100.7").as_deref(),
            Some(THROTTLED)
        );
        sql("set pg_auth.trusted_proxy_hops = 1");
        assert_eq!(
            attempt("demo", "demo", "198.51.100.7, 10.0.0.1").as_deref(),
            Some(THROTTLED)
        );
    }

    #[pg_test]
    fn the_throttle_state_is_pruned() {
        throttle_settings();
        for n in 0..20 {
            let _ = attempt(&format!("user{n}"), "x", &format!("198.51.100.{n}"));
        }
        assert_eq!(count("select count(*) from auth.login_throttle"), 60);
        travel(3601);
        sql("select auth.cleanup_expired_sessions(1000)");
        assert_eq!(count("select count(*) from auth.login_throttle"), 0);
    }

    #[pg_test]
    fn client_addresses_are_read_with_care() {
        configure();
        for (forwarded, address) in [
            ("203.0.113.5", Some("203.0.113.5/32")),
            ("1.2.3.4, 203.0.113.5", Some("203.0.113.5/32")),
            ("2001:db8::1", Some("2001:db8::1/128")),
            ("not an address", None),
            ("1.2.3", None),
            ("", None),
        ] {
            request_headers(&[("x-forwarded-for", forwarded)]);
            assert_eq!(
                text("select auth.client_address()::text").as_deref(),
                address,
                "{forwarded}"
            );
        }
    }

    #[pg_test]
    fn the_audit_trail_records_the_session_lifecycle() {
        configure();
        let _ = attempt("demo", "wrong", "198.51.100.1");
        let (access, refresh_token) = login_demo();
        travel(60);
        let _ = refresh(&refresh_token).unwrap();
        travel(60);
        let _ = refresh(&refresh_token);
        request_with_cookies("/rpc/logout", &[("access_token", &access)]);
        sql("select auth.logout()");
        assert_eq!(
            text("select string_agg(event, ',' order by event) from auth.audit_event").as_deref(),
            Some("login,login_failed,refresh,refresh_reused")
        );
        assert_eq!(
            text("select host(address) from auth.audit_event where event = 'login_failed'")
                .as_deref(),
            Some("198.51.100.1")
        );
        // Nobody but the owner reads it until granted.
        create_roles();
        assert!(!boolean(
            "select has_table_privilege('basic_subscriber', 'auth.audit_event', 'select')"
        ));
        // Retention: old rows go with the cleanup.
        sql("update auth.audit_event set at = at - interval '91 days'");
        sql("select auth.cleanup_expired_sessions(1000)");
        assert_eq!(count("select count(*) from auth.audit_event"), 0);
        // And pg_auth.audit = off records nothing.
        sql("set pg_auth.audit = off");
        let _ = login_demo();
        assert_eq!(count("select count(*) from auth.audit_event"), 0);
    }
}

//! Second factors: TOTP enrolment and step-up, replay, throttling, recovery
//! codes, removal, the `aal` of tokens and sessions, and
//! `pg_auth.mfa_required_roles`. (The end-to-end tests compute codes with an
//! independent implementation, pyotp.)

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::*;

    /// Signed in as demo, with a kek for the sealed secrets: the access token.
    fn signed_in() -> String {
        configure();
        configure_key_pairs();
        let (access, _) = login_demo();
        signed_in_request("/rpc/mfa_enroll_totp", &access);
        access
    }

    fn signed_in_request(path: &str, access: &str) {
        request(path, "");
        with_claims_of(access);
    }

    fn enrol(name: &str) -> (String, serde_json::Value) {
        let answer = json_of(&format!("auth.mfa_enroll_totp({})", literal(name)));
        (answer["id"].as_str().unwrap().to_owned(), answer)
    }

    /// The code of a factor `offset` seconds from now.
    fn code(factor: &str, offset: i64) -> String {
        let sealed = Spi::get_one::<Vec<u8>>(&format!(
            "select secret from auth.mfa_factor where id = '{factor}'"
        ))
        .unwrap()
        .unwrap();
        let id = pgrx::Uuid::from_bytes(*uuid_bytes(factor));
        crate::mfa::totp::code_at(id, &sealed, u64::try_from(db_now() + offset).unwrap())
    }

    fn uuid_bytes(text: &str) -> Box<[u8; 16]> {
        let hex: String = text.chars().filter(char::is_ascii_hexdigit).collect();
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        Box::new(bytes)
    }

    fn verify_code(factor: &str, code: &str) -> Option<String> {
        answer_of(&format!(
            "select auth.mfa_verify('{factor}', {})",
            literal(code)
        ))
    }

    /// Enrolled and verified: (factor id, the aal2 access token, recovery codes).
    fn enrolled() -> (String, String, Vec<String>) {
        signed_in();
        let (factor, _) = enrol("phone");
        let answer = json_of(&format!(
            "auth.mfa_verify('{factor}', {})",
            literal(&code(&factor, 0))
        ));
        let codes = answer["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        (factor, cookie_value(&set_cookies(), "access_token"), codes)
    }

    #[pg_test]
    fn a_password_session_is_aal1_and_says_so() {
        let access = signed_in();
        let claims = verify(&access);
        assert_eq!(claims.get_str("aal"), Some("aal1"));
        let amr = claims.get("amr").unwrap().as_array().unwrap();
        assert_eq!(amr.len(), 1);
        assert_eq!(amr[0]["method"], "password");
        assert!(amr[0]["timestamp"].as_i64().unwrap() >= db_now() - 1);
    }

    #[pg_test]
    fn enrolment_gives_an_otpauth_uri_and_a_qr_code_and_stores_the_secret_sealed() {
        signed_in();
        let (factor, answer) = enrol("phone");
        let uri = answer["totp"]["uri"].as_str().unwrap();
        let secret = answer["totp"]["secret"].as_str().unwrap();
        assert!(uri.starts_with("otpauth://totp/pg_auth:demo?"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
        assert_eq!(secret.len(), 32, "160 bits in base32");
        assert!(answer["totp"]["qr_code"].as_str().unwrap().contains("<svg"));
        assert!(!boolean(&format!(
            "select encode(secret, 'escape') like '%{secret}%' from auth.mfa_factor where id = '{factor}'"
        )));
        assert!(!boolean(&format!(
            "select verified_at is not null from auth.mfa_factor where id = '{factor}'"
        )));
        // Until verified, a login needs no second factor.
        let _ = login_demo();
        assert_eq!(
            text("select current_setting('response.status', true)").as_deref(),
            Some("204")
        );
    }

    #[pg_test]
    fn the_first_code_verifies_the_factor_steps_up_and_gives_ten_recovery_codes() {
        let (factor, stepped, codes) = enrolled();
        assert_eq!(codes.len(), 10);
        assert!(codes
            .iter()
            .all(|c| c.len() == 19 && c.matches('-').count() == 3));
        assert_eq!(count("select count(*) from auth.recovery_code"), 10);
        let claims = verify(&stepped);
        assert_eq!(claims.get_str("aal"), Some("aal2"));
        let methods: Vec<&str> = claims
            .get("amr")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["method"].as_str().unwrap())
            .collect();
        assert_eq!(methods, ["password", "totp"]);
        // Only the access cookie is new: the refresh cookie stays.
        assert_eq!(set_cookies().len(), 1);
        assert_eq!(count(&format!(
            "select count(*) from auth.audit_event where event = 'mfa_enrolled' and details ->> 'factor' = '{factor}'"
        )), 1);
        assert!(boolean("select aal = 'aal2' from auth.session"));
    }

    #[pg_test]
    fn a_refresh_keeps_the_level() {
        configure();
        configure_key_pairs();
        let (access, refresh_token) = login_demo();
        signed_in_request("/rpc/mfa_enroll_totp", &access);
        let (factor, _) = enrol("phone");
        assert_eq!(verify_code(&factor, &code(&factor, 0)), None);
        travel(3600);
        refresh(&refresh_token).unwrap();
        let renewed = cookie_value(&set_cookies(), "access_token");
        assert_eq!(verify(&renewed).get_str("aal"), Some("aal2"));
    }

    #[pg_test]
    fn a_login_to_an_account_with_a_factor_is_aal1_and_names_the_factors() {
        let (factor, _, _) = enrolled();
        request("/rpc/login", "");
        let answer = json_of("auth.login('demo', 'demo')");
        assert_eq!(answer["mfa_required"], true);
        assert_eq!(answer["factors"][0]["id"], factor.as_str());
        assert_eq!(answer["factors"][0]["type"], "totp");
        assert_ne!(
            text("select current_setting('response.status', true)").as_deref(),
            Some("204")
        );
        let access = cookie_value(&set_cookies(), "access_token");
        assert_eq!(verify(&access).get_str("aal"), Some("aal1"));
    }

    #[pg_test]
    fn a_code_is_accepted_once_and_wrong_or_old_codes_never() {
        let (factor, _, _) = enrolled();
        sql("set pg_auth.mfa_max_failures = 100");
        let (access, _) = login_demo();
        signed_in_request("/rpc/mfa_verify", &access);
        let invalid =
            Some("PT422: Invalid, expired or already used code [invalid_code]".to_owned());
        // The enrolment used this step's code: it, and the step before, are spent.
        assert_eq!(verify_code(&factor, &code(&factor, 0)), invalid);
        assert_eq!(verify_code(&factor, &code(&factor, -30)), invalid);
        assert_eq!(verify_code(&factor, &code(&factor, -90)), invalid);
        assert_eq!(verify_code(&factor, &code(&factor, 90)), invalid);
        for wrong in ["", "12345", "1234567", "abcdef", &"9".repeat(100_000)] {
            assert_eq!(verify_code(&factor, wrong), invalid, "{}", wrong.len());
        }
        // The next step's code passes (clock skew), once.
        assert_eq!(verify_code(&factor, &code(&factor, 30)), None);
        assert_eq!(verify_code(&factor, &code(&factor, 30)), invalid);
        assert!(count("select count(*) from auth.audit_event where event = 'mfa_failed'") >= 8);
    }

    #[pg_test]
    fn wrong_codes_make_a_factor_wait() {
        let (factor, _, _) = enrolled();
        sql("set pg_auth.mfa_max_failures = 3");
        sql("set pg_auth.login_throttle_delay = 60");
        for _ in 0..3 {
            assert!(verify_code(&factor, "000000")
                .unwrap()
                .contains("invalid_code"));
        }
        let throttled = verify_code(&factor, &code(&factor, 30)).unwrap();
        assert!(throttled.contains("[throttled]"), "{throttled}");
        assert!(text("select current_setting('response.headers', true)")
            .unwrap()
            .contains("Retry-After"));
        assert_eq!(
            count("select count(*) from auth.audit_event where event = 'mfa_throttled'"),
            1
        );
        // Once the wait is over, the right code passes and clears the count.
        sql("update auth.mfa_factor set blocked_until = now() - interval '1 second'");
        assert_eq!(verify_code(&factor, &code(&factor, 30)), None);
        assert!(boolean(
            "select failures = 0 and blocked_until is null from auth.mfa_factor"
        ));
    }

    #[pg_test]
    fn a_recovery_code_steps_up_once() {
        let (_, _, codes) = enrolled();
        let (access, _) = login_demo();
        signed_in_request("/rpc/mfa_recover", &access);
        let typed = codes[3].to_lowercase().replace('-', " ");
        let answer = json_of(&format!("auth.mfa_recover({})", literal(&typed)));
        assert_eq!(answer["recovery_codes_left"], 9);
        let stepped = cookie_value(&set_cookies(), "access_token");
        let methods = verify(&stepped).get("amr").unwrap().to_string();
        assert!(methods.contains("recovery"), "{methods}");
        signed_in_request("/rpc/mfa_recover", &access);
        for used_or_wrong in [codes[3].as_str(), "AAAA-AAAA-AAAA-AAAA", "", "not a code"] {
            assert!(answer_of(&format!(
                "select auth.mfa_recover({})",
                literal(used_or_wrong)
            ))
            .unwrap()
            .contains("invalid_code"));
        }
        assert_eq!(
            count("select count(*) from auth.recovery_code where used_at is not null"),
            1
        );
    }

    #[pg_test]
    fn removing_a_verified_factor_or_adding_another_takes_aal2() {
        let (factor, stepped, _) = enrolled();
        let (access, _) = login_demo();
        signed_in_request("/rpc/mfa_unenroll", &access);
        let insufficient = "PT403: This needs a second factor [insufficient_aal]";
        assert_eq!(
            problem_of(&format!("select auth.mfa_unenroll('{factor}')")).as_deref(),
            Some(insufficient)
        );
        assert_eq!(
            problem_of("select auth.mfa_enroll_totp('laptop')").as_deref(),
            Some(insufficient)
        );
        signed_in_request("/rpc/mfa_enroll_totp", &stepped);
        let (second, _) = enrol("laptop");
        assert_eq!(count("select count(*) from auth.mfa_factor"), 2);
        // An unverified factor goes without aal2; the last verified one takes the recovery codes.
        signed_in_request("/rpc/mfa_unenroll", &access);
        sql(&format!("select auth.mfa_unenroll('{second}')"));
        signed_in_request("/rpc/mfa_unenroll", &stepped);
        sql(&format!("select auth.mfa_unenroll('{factor}')"));
        assert_eq!(count("select count(*) from auth.mfa_factor"), 0);
        assert_eq!(count("select count(*) from auth.recovery_code"), 0);
        assert_eq!(
            problem_of(&format!("select auth.mfa_unenroll('{factor}')")).as_deref(),
            Some("PT404: No such factor [factor_not_found]")
        );
    }

    #[pg_test]
    fn another_users_factor_is_not_found() {
        let (factor, _, _) = enrolled();
        sql("insert into auth.user values ('other', 'other-password', 'basic_subscriber')");
        let (other, _) = login("other", "other-password");
        signed_in_request("/rpc/mfa_verify", &other);
        let not_found = Some("PT404: No such factor [factor_not_found]".to_owned());
        assert_eq!(verify_code(&factor, &code(&factor, 30)), not_found);
        assert_eq!(
            problem_of(&format!("select auth.mfa_unenroll('{factor}')")),
            not_found
        );
        assert_eq!(count("select count(*) from auth.mfa_factors()"), 0);
    }

    #[pg_test]
    fn bad_enrolments_store_nothing() {
        signed_in();
        for name in ["", "   ", &"x".repeat(65)] {
            let error =
                problem_of(&format!("select auth.mfa_enroll_totp({})", literal(name))).unwrap();
            assert!(error.starts_with("22023: friendly_name"), "{error}");
        }
        let _ = enrol("phone");
        let duplicate = problem_of("select auth.mfa_enroll_totp('phone')").unwrap();
        assert!(duplicate.starts_with("23505"), "{duplicate}");
        assert_eq!(count("select count(*) from auth.mfa_factor"), 1);
        for n in 1..10 {
            let _ = enrol(&format!("key {n}"));
        }
        assert_eq!(
            problem_of("select auth.mfa_enroll_totp('one too many')").as_deref(),
            Some("PT422: This account has as many factors as it may [too_many_factors]")
        );
        // Signed out: nothing to enrol.
        request("/rpc/mfa_enroll_totp", "");
        assert!(problem_of("select auth.mfa_enroll_totp('x')")
            .unwrap()
            .contains("[missing]"));
    }

    #[pg_test]
    fn roles_that_need_a_second_factor() {
        let access = signed_in();
        sql("set pg_auth.mfa_required_roles = 'admin, basic_subscriber'");
        request("/rpc/login", "");
        let answer = json_of("auth.login('demo', 'demo')");
        assert_eq!(answer["mfa_required"], true);
        assert_eq!(answer["factors"], serde_json::json!([]));
        signed_in_request("/task", &access);
        assert_eq!(
            problem_of("select auth.check_session()").as_deref(),
            Some("PT403: This needs a second factor [insufficient_aal]")
        );
        for allowed in [
            "/rpc/mfa_enroll_totp",
            "/rpc/mfa_verify",
            "/rpc/me",
            "/rpc/logout",
        ] {
            signed_in_request(allowed, &access);
            assert_eq!(problem_of("select auth.check_session()"), None, "{allowed}");
        }
        let (factor, _) = enrol("phone");
        assert_eq!(verify_code(&factor, &code(&factor, 0)), None);
        let stepped = cookie_value(&set_cookies(), "access_token");
        signed_in_request("/task", &stepped);
        assert_eq!(problem_of("select auth.check_session()"), None);
    }

    #[pg_test]
    fn a_new_key_encryption_key_reseals_the_totp_secrets() {
        let (factor, _, _) = enrolled();
        const KEK_FILE: &str = include_str!("../../../tests/keys/key_encryption_key.b64");
        let old = write_data_file("pg_auth_old.kek", KEK_FILE, 0o600);
        let new = write_data_file(
            "pg_auth_new.kek",
            "bmV3IGtleSBlbmNyeXB0aW9uIGtleSBvZiAzMiBieXRlcyE=\n",
            0o600,
        );
        let before = code(&factor, 0);
        switch_key_encryption_key(
            &old,
            &new,
            &format!("select auth.totp_step('{factor}', secret, '000000', 0) from auth.mfa_factor"),
        );
        assert_eq!(code(&factor, 0), before);
    }
}

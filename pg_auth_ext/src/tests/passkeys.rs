//! Passkeys at the SQL level: the settings, the options handed to the
//! browser, challenges used once and only by their user, and bad
//! credentials refused with nothing stored. (Real registrations and
//! sign-ins run in Chromium with its virtual authenticator:
//! tests/browser/test_passkeys.py.)

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::*;

    fn signed_in() -> String {
        configure();
        configure_key_pairs();
        sql("set pg_auth.webauthn_rp_id = 'localhost'");
        sql("set pg_auth.webauthn_origins = 'http://localhost:8000'");
        let (access, _) = login_demo();
        request("/rpc/passkey_register_begin", "");
        with_claims_of(&access);
        access
    }

    #[pg_test]
    fn passkeys_are_off_until_a_relying_party_is_set() {
        configure();
        request("/rpc/passkey_login_begin", "");
        assert_eq!(
            problem_of("select auth.passkey_login_begin()").as_deref(),
            Some("PT403: Passkeys are not set up on this server [passkeys_disabled]")
        );
    }

    #[pg_test]
    fn registration_asks_for_a_discoverable_credential_verified_by_its_user() {
        signed_in();
        let begun = json_of("auth.passkey_register_begin('laptop')");
        let options = &begun["options"]["publicKey"];
        assert_eq!(options["rp"]["id"], "localhost");
        assert_eq!(options["user"]["name"], "demo");
        assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
        assert_eq!(
            options["authenticatorSelection"]["userVerification"],
            "required"
        );
        assert!(options["challenge"].as_str().unwrap().len() >= 43);
        assert_eq!(
            count("select count(*) from auth.webauthn_challenge where kind = 'register'"),
            1
        );
        assert_eq!(count("select count(*) from auth.passkey"), 0);
    }

    #[pg_test]
    fn a_sign_in_asks_for_no_username_and_no_conditional_mediation() {
        signed_in();
        request("/rpc/passkey_login_begin", "");
        let begun = json_of("auth.passkey_login_begin()");
        assert!(begun["options"].get("mediation").is_none(), "{begun}");
        let options = &begun["options"]["publicKey"];
        assert_eq!(options["rpId"], "localhost");
        assert_eq!(options["userVerification"], "required");
        assert!(options
            .get("allowCredentials")
            .is_none_or(|c| c.as_array().unwrap().is_empty()));
    }

    #[pg_test]
    fn bad_credentials_are_refused_and_their_challenge_is_gone() {
        signed_in();
        let invalid = "PT401: This passkey could not be verified [invalid_passkey]";
        for credential in [
            "null",
            "{}",
            r#"{"id": "x", "rawId": "x", "response": {}, "type": "public-key"}"#,
            &format!(r#"{{"id": "{}"}}"#, "A".repeat(100_000)),
        ] {
            let begun = json_of("auth.passkey_register_begin('laptop')");
            let challenge = begun["challenge_id"].as_str().unwrap().to_owned();
            let finish = format!(
                "select auth.passkey_register_finish('{challenge}', {})",
                literal(credential)
            );
            assert_eq!(
                answer_of(&finish).as_deref(),
                Some(invalid),
                "{}",
                &credential[..credential.len().min(40)]
            );
            // Used once: the same challenge is unknown now.
            assert_eq!(answer_of(&finish).as_deref(), Some(invalid));
        }
        assert_eq!(count("select count(*) from auth.passkey"), 0);
        assert_eq!(count("select count(*) from auth.webauthn_challenge"), 0);
        assert!(count("select count(*) from auth.audit_event where event = 'mfa_failed'") >= 8);
        request("/rpc/passkey_login_finish", "");
        let unknown = "select auth.passkey_login_finish(gen_random_uuid(), '{}')";
        assert_eq!(answer_of(unknown).as_deref(), Some(invalid));
    }

    #[pg_test]
    fn a_challenge_is_only_its_users_and_expires() {
        signed_in();
        let begun = json_of("auth.passkey_register_begin('laptop')");
        let challenge = begun["challenge_id"].as_str().unwrap().to_owned();
        sql("insert into auth.user values ('other', 'other-password', 'basic_subscriber')");
        let (other, _) = login("other", "other-password");
        request("/rpc/passkey_register_finish", "");
        with_claims_of(&other);
        let finish = format!("select auth.passkey_register_finish('{challenge}', '{{}}')");
        assert!(answer_of(&finish).unwrap().contains("invalid_passkey"));
        // A login challenge is no registration challenge, and an old one is gone.
        request("/rpc/passkey_login_begin", "");
        let login_challenge = json_of("auth.passkey_login_begin()")["challenge_id"]
            .as_str()
            .unwrap()
            .to_owned();
        sql("update auth.webauthn_challenge set expires_at = now() - interval '1 second'");
        request("/rpc/passkey_login_finish", "");
        let late = format!("select auth.passkey_login_finish('{login_challenge}', '{{}}')");
        assert!(answer_of(&late).unwrap().contains("invalid_passkey"));
        assert_eq!(
            count("select auth.cleanup_expired_sessions(100)::bigint * 0"),
            0
        );
        assert_eq!(count("select count(*) from auth.webauthn_challenge"), 0);
    }

    #[pg_test]
    fn a_second_passkey_or_factor_takes_aal2() {
        signed_in();
        sql("insert into auth.passkey (id, username, user_handle, credential_id, credential, friendly_name) \
             values (gen_random_uuid(), 'demo', gen_random_uuid(), '\\x01', '{}', 'old')");
        assert_eq!(
            problem_of("select auth.passkey_register_begin('laptop')").as_deref(),
            Some("PT403: This needs a second factor [insufficient_aal]")
        );
        // The login now asks for a second factor, and lists the passkey.
        request("/rpc/login", "");
        let answer = json_of("auth.login('demo', 'demo')");
        assert_eq!(answer["mfa_required"], true);
        assert_eq!(answer["factors"][0]["type"], "passkey");
    }
}

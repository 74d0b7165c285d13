//! Key pairs: creation, rotation, revocation, what PostgREST is given, and
//! that no role reads a private key.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::*;

    fn keys_mode() {
        configure();
        configure_key_pairs();
        sql("set pg_auth.signing_mode = keys");
    }

    fn create_key(algorithm: &str) -> String {
        text(&format!("select auth.create_signing_key('{algorithm}')")).unwrap()
    }

    fn state_of(kid: &str) -> String {
        text(&format!(
            "select state from auth.signing_key where kid = {}",
            literal(kid)
        ))
        .unwrap()
    }

    fn published_kids() -> Vec<String> {
        let published: serde_json::Value =
            serde_json::from_str(&text("select auth.public_keys()::text").unwrap()).unwrap();
        published["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Another key-encryption key file: logins fail until the kept keys are
    /// sealed again under it.
    fn reseal_under_a_new_key_encryption_key() {
        let old = text("show pg_auth.key_encryption_key_file").unwrap();
        let new = write_data_file("pg_auth_new.kek", &"QUJD".repeat(11), 0o600);
        request("/rpc/login", "");
        switch_key_encryption_key(&old, &new, "select auth.login('demo', 'demo')");
    }

    #[pg_test]
    fn the_first_key_signs_at_once_and_names_itself() {
        keys_mode();
        let kid = create_key("ES256");
        assert_eq!(state_of(&kid), "current");
        let (access, token) = login_demo();
        let header = header_of(&access);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], kid.as_str());
        let claims = verify_with_published_keys(&access).unwrap();
        assert_eq!(claims.get_str("role"), Some("basic_subscriber"));
        // The kid is the public key's RFC 7638 thumbprint.
        let jwks = jwt_core::Jwks::parse(&text("select auth.jwks()::text").unwrap()).unwrap();
        assert_eq!(jwks.get(&kid).unwrap().thumbprint(), kid);
        // Refresh signs with it too, and logout finds the session by it.
        travel(60);
        refresh(&token).unwrap();
        let refreshed = cookie_value(&set_cookies(), "access_token");
        assert_eq!(header_of(&refreshed)["kid"], kid.as_str());
        assert_eq!(
            text(&format!(
                "select auth.session_of({})::text",
                literal(&access)
            )),
            verify_with_published_keys(&access)
                .unwrap()
                .get_str("sid")
                .map(str::to_owned)
        );
    }

    #[pg_test]
    fn eddsa_keys_sign_too() {
        keys_mode();
        let kid = create_key("EdDSA");
        let (access, _) = login_demo();
        assert_eq!(header_of(&access)["alg"], "EdDSA");
        assert_eq!(header_of(&access)["kid"], kid.as_str());
        assert!(verify_with_published_keys(&access).is_ok());
    }

    #[pg_test]
    fn rotation_waits_for_verifiers_then_keeps_old_tokens_valid() {
        keys_mode();
        let first = create_key("ES256");
        let (before, _) = login_demo();
        let second = create_key("EdDSA");
        assert_eq!(state_of(&second), "standby");
        // Published ahead of use, so verifiers have it when it signs.
        assert_eq!(published_kids(), vec![first.clone(), second.clone()]);
        sql("set pg_auth.key_rotation_delay = 300");
        let refused = error_of("select auth.rotate_signing_keys()").unwrap();
        assert!(
            refused.starts_with(&format!(
                "55000: standby signing key {second} was published 00:00:00 ago"
            )),
            "{refused}"
        );
        assert_eq!(
            text("select auth.rotate_signing_keys(force => true)").as_deref(),
            Some(second.as_str())
        );
        assert_eq!(
            (state_of(&first), state_of(&second)),
            ("previous".into(), "current".into())
        );
        let (after, _) = login_demo();
        assert_eq!(header_of(&after)["kid"], second.as_str());
        // Tokens of the previous key verify until they expire.
        assert!(verify_with_published_keys(&before).is_ok());
        assert_eq!(
            error_of("select auth.rotate_signing_keys()").as_deref(),
            Some("55000: no standby signing key to rotate to")
        );
    }

    #[pg_test]
    fn revocation_destroys_the_key_and_unpublishes_it() {
        keys_mode();
        let first = create_key("ES256");
        let (before, _) = login_demo();
        let second = create_key("ES256");
        assert_eq!(
            error_of(&format!(
                "select auth.revoke_signing_key({})",
                literal(&first)
            ))
            .as_deref(),
            Some(
                format!("55000: signing key {first} is current: rotate to another key first")
                    .as_str()
            )
        );
        sql("select auth.rotate_signing_keys()");
        sql(&format!(
            "select auth.revoke_signing_key({})",
            literal(&first)
        ));
        assert_eq!(state_of(&first), "revoked");
        assert!(boolean(&format!(
            "select private_key is null and revoked_at is not null from auth.signing_key where kid = {}",
            literal(&first)
        )));
        assert_eq!(published_kids(), vec![second]);
        assert_eq!(
            verify_with_published_keys(&before),
            Err(jwt_core::VerifyError::UnknownKey)
        );
        // Logout no longer trusts it either.
        assert_eq!(
            text(&format!(
                "select auth.session_of({})::text",
                literal(&before)
            )),
            None
        );
        assert_eq!(
            error_of("select auth.revoke_signing_key('no-such-kid')").as_deref(),
            Some("P0002: no signing key no-such-kid")
        );
    }

    #[pg_test]
    fn postgrest_gets_the_public_keys_of_keys_mode_only() {
        keys_mode();
        create_key("ES256");
        let role_setting = |name: &str| {
            text(&format!(
                "select (select substr(c, length('{name}=') + 1) from pg_db_role_setting s, unnest(s.setconfig) c \
                 where s.setrole = 'authenticator'::regrole \
                   and s.setdatabase = (select oid from pg_database where datname = current_database()) \
                   and c like '{name}=%')"
            ))
        };
        let published = role_setting("pgrst.jwt_secret").unwrap();
        assert_eq!(
            jwt_core::Jwks::parse(&published).unwrap().len(),
            1,
            "{published}"
        );
        assert!(!published.contains("\"d\""));
        assert_eq!(
            role_setting("pgrst.jwt_secret_is_base64").as_deref(),
            Some("false")
        );
        // Back to the shared secret: PostgREST's own jwt-secret applies again.
        sql("set pg_auth.signing_mode = secret");
        sql("select auth.publish_jwks()");
        assert_eq!(role_setting("pgrst.jwt_secret"), None);
        assert_eq!(role_setting("pgrst.jwt_secret_is_base64"), None);
    }

    /// pg_dump carries no per-database role settings: a restored database
    /// publishes its keys to PostgREST at the first token it issues.
    #[pg_test]
    fn a_restored_database_publishes_its_keys_at_the_first_login() {
        keys_mode();
        create_key("ES256");
        assert!(boolean("select auth.jwks_is_published()"));
        sql("do $$ begin execute format('alter role authenticator in database %I reset pgrst.jwt_secret', \
             current_database()); end $$");
        assert!(!boolean("select auth.jwks_is_published()"));
        let _ = login_demo();
        assert!(boolean("select auth.jwks_is_published()"));
    }

    /// Nothing caps or retired keys, and every verifier refuses a JWKS of
    /// more than 32 keys whole (crypto review C1): previous keys go once
    /// their last token has expired, creation stops at the cap, and logout
    /// never fails on a key set it cannot read.
    #[pg_test]
    fn keys_are_capped_and_retired_and_logout_survives_a_bad_set() {
        keys_mode();
        let first = create_key("EdDSA");
        let second = create_key("EdDSA");
        sql("select auth.rotate_signing_keys(force => true)");
        assert_eq!(state_of(&first), "previous");
        sql("select auth.cleanup_expired_sessions(10)");
        assert_eq!(
            state_of(&first),
            "previous",
            "its tokens may still be valid"
        );
        sql("update auth.signing_key set retired_at = now() - interval '11 minutes' where state = 'previous'");
        sql("select auth.cleanup_expired_sessions(10)");
        assert_eq!(
            state_of(&first),
            "revoked",
            "retired once its tokens expired"
        );
        assert!(!text("select auth.public_keys()::text")
            .unwrap()
            .contains(&first));
        assert_eq!(state_of(&second), "current");
        for _ in 0..31 {
            let _ = create_key("EdDSA");
        }
        assert_eq!(
            count("select count(*) from auth.signing_key where state <> 'revoked'"),
            32
        );
        assert!(error_of("select auth.create_signing_key('EdDSA')")
            .unwrap()
            .contains("already 32 published signing keys"));
        let (access, _) = login_demo();
        // A set no verifier would take is never published...
        sql(
            "insert into auth.signing_key (kid, algorithm, state, public_jwk, private_key) \
             select 'broken', 'EdDSA', 'standby', '{\"kty\": \"oct\"}', private_key \
             from auth.signing_key where state = 'current'",
        );
        assert!(error_of("select auth.publish_jwks()")
            .unwrap()
            .contains("refused by its verifiers"));
        // ...and logout still ends nothing it cannot name, and answers.
        request_with_cookies("/rpc/logout", &[("access_token", &access)]);
        sql("select auth.logout()");
        assert!(text("select current_setting('response.headers', true)")
            .unwrap()
            .contains("access_token=;"));
    }

    /// A previous key never signs again: rotation drops its private key
    /// (C9). A new key-encryption key file: the kept keys are sealed again
    /// under it (C10), and sign again.
    #[pg_test]
    fn rotation_drops_private_keys_and_a_new_kek_reseals_the_rest() {
        keys_mode();
        let first = create_key("ES256");
        let _second = create_key("EdDSA");
        sql("select auth.rotate_signing_keys(force => true)");
        assert!(boolean(&format!(
            "select private_key is null from auth.signing_key where kid = {}",
            literal(&first)
        )));
        reseal_under_a_new_key_encryption_key();
        let (access, _) = login_demo();
        assert!(verify_with_published_keys(&access).is_ok());
    }

    /// A backend keeps the key it opened (opening a P-256 key costs a
    /// scalar multiplication), but never past a change of what opened it:
    /// another key-encryption key refuses at once, a reseal signs again,
    /// and a rotation signs with the new key.
    #[pg_test]
    fn a_backend_keeps_the_opened_key_only_while_nothing_changes() {
        keys_mode();
        let first = create_key("ES256");
        let (one, _) = login_demo();
        let (two, _) = login_demo();
        for access in [&one, &two] {
            assert_eq!(header_of(access)["kid"], first.as_str());
            assert!(verify_with_published_keys(access).is_ok());
        }
        reseal_under_a_new_key_encryption_key();
        let (resealed, _) = login_demo();
        assert!(verify_with_published_keys(&resealed).is_ok());
        let second = create_key("ES256");
        sql("select auth.rotate_signing_keys(force => true)");
        let (rotated, _) = login_demo();
        assert_eq!(header_of(&rotated)["kid"], second.as_str());
        assert!(verify_with_published_keys(&rotated).is_ok());
    }

    #[pg_test]
    fn no_role_reads_a_private_key() {
        keys_mode();
        let kid = create_key("ES256");
        sql("do $$ begin create role anon nologin; exception when duplicate_object then null; end $$");
        sql("do $$ begin create role key_reader nologin; exception when duplicate_object then null; end $$");
        sql("grant pg_read_all_data to key_reader");
        for role in ["anon", "authenticator", "basic_subscriber"] {
            sql(&format!("set local role {role}"));
            let refused = error_of("select private_key from auth.signing_key").unwrap_or_default();
            sql("reset role");
            assert!(refused.starts_with("42501"), "{role}: {refused}");
        }
        // pg_read_all_data reads the row: a sealed key, useless without the
        // key-encryption key file.
        sql("set local role key_reader");
        let sealed = text("select encode(private_key, 'hex') from auth.signing_key").unwrap();
        sql("reset role");
        let sealed = (0..sealed.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&sealed[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>();
        assert_eq!(sealed.len(), crate::signing_keys::SEALED_BYTES);
        let secret = crate::signing_keys::private_key_of(&kid).to_bytes();
        assert!(!sealed.windows(secret.len()).any(|w| w == secret));
        // Nor does any setting or the published JWKS hold it.
        let everywhere = text(
            "select string_agg(coalesce(setting, ''), ' ') from pg_settings \
             union all select string_agg(array_to_string(setconfig, ' '), ' ') from pg_db_role_setting \
             limit 1",
        )
        .unwrap_or_default()
            + &text("select auth.public_keys()::text").unwrap();
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!everywhere.contains(&jwt_core::encode_base64url(&secret)));
        assert!(!everywhere.contains(&hex));
    }

    #[pg_test]
    fn configuration_mistakes_are_clear_errors() {
        configure();
        assert_eq!(
            error_of("select auth.create_signing_key('ES256')").as_deref(),
            Some("F0000: pg_auth.key_encryption_key_file is not set")
        );
        configure_key_pairs();
        assert_eq!(
            error_of("select auth.create_signing_key('RS256')").as_deref(),
            Some("22023: unsupported JWT algorithm \"RS256\": use ES256 or EdDSA (key pairs)")
        );
        sql("set pg_auth.signing_mode = keys");
        assert_eq!(
            login_error().as_deref(),
            Some("F0000: pg_auth.signing_mode is 'keys' but auth.signing_key has no current key")
        );
        let kid = create_key("ES256");
        // Another key-encryption key: the sealed key does not open.
        let other = write_data_file("pg_auth_other.kek", &"QUJD".repeat(11), 0o600);
        sql(&format!(
            "set pg_auth.key_encryption_key_file = {}",
            literal(&other)
        ));
        assert_eq!(
            login_error().as_deref(),
            Some(format!("F0000: the private key of signing key \"{kid}\" does not open with pg_auth.key_encryption_key_file").as_str())
        );
        let short = write_data_file("pg_auth_short.kek", "too short", 0o600);
        sql(&format!(
            "set pg_auth.key_encryption_key_file = {}",
            literal(&short)
        ));
        assert!(error_of("select auth.create_signing_key('ES256')")
            .unwrap()
            .ends_with("must hold at least 32 random bytes in base64 (openssl rand -base64 32), not text that is not base64"));
        // Nor a passphrase, however long, nor too few random bytes (C8).
        for (content, shown) in [
            (
                "a long passphrase that anyone might guess one day",
                "text that is not base64",
            ),
            ("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", "26 bytes"),
        ] {
            let weak = write_data_file("pg_auth_weak.kek", content, 0o600);
            sql(&format!(
                "set pg_auth.key_encryption_key_file = {}",
                literal(&weak)
            ));
            assert!(error_of("select auth.create_signing_key('ES256')")
                .unwrap()
                .ends_with(&format!("(openssl rand -base64 32), not {shown}")));
        }
    }

    #[pg_test]
    fn backups_keep_the_keys() {
        assert!(boolean(
            "select 'auth.signing_key'::regclass = any(extconfig) from pg_extension where extname = 'pg_auth_ext'"
        ));
    }
}

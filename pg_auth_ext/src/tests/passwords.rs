//! Password storage, import, bounds, and the work a login costs.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::passwords::rounds_checked;
    use crate::tests::fixtures::*;

    /// pgcrypto: crypt('demo', gen_salt('bf')), cost 6, as the legacy setup stored them.
    const PGCRYPTO_COST_6: &str = "$2a$06$5her.iFKmYlG8Xx4Q4OpVOnyWHV7j9YKOy5U/Ct0qvIkqbDMcW.DK";

    #[pg_test]
    #[cfg_attr(
        feature = "pg18",
        ignore = "the PostgreSQL 18 wheel is built without OpenSSL: no pgcrypto to compare with"
    )]
    fn passwords_are_stored_as_bcrypt_at_the_configured_cost() {
        configure();
        let stored = text("select password from auth.user where username = 'demo'").unwrap();
        assert!(stored.starts_with("$2a$10$"), "{stored}");
        assert!(boolean(
            "select auth.verify_password('demo', password) from auth.user"
        ));
        assert!(!boolean(
            "select auth.verify_password('Demo', password) from auth.user"
        ));
        // pgcrypto verifies our hashes too.
        sql("create extension if not exists pgcrypto");
        assert!(boolean(
            "select crypt('demo', password) = password from auth.user"
        ));
    }

    #[pg_test]
    fn pgcrypto_hashes_keep_working_and_are_upgraded_at_login() {
        configure();
        sql(&format!(
            "insert into auth.user values ('legacy', {}, 'basic_subscriber')",
            literal(PGCRYPTO_COST_6)
        ));
        assert_eq!(
            text("select password from auth.user where username = 'legacy'").as_deref(),
            Some(PGCRYPTO_COST_6),
            "a superuser imports the hash as it is"
        );
        // The stored hash above is crypt('demo', ...).
        let (access, _) = login("legacy", "demo");
        let upgraded = text("select password from auth.user where username = 'legacy'").unwrap();
        assert!(upgraded.starts_with("$2a$10$"), "{upgraded}");
        // The upgrade is not a password change: the new session lives.
        let sid = verify(&access).get_str("sid").unwrap().to_owned();
        assert!(boolean(&format!(
            "select revoked_at is null from auth.session where id = '{sid}'"
        )));
    }

    #[pg_test]
    fn hashes_of_other_costs_converge_to_the_configured_one() {
        configure();
        sql("set pg_auth.bcrypt_cost = 11");
        assert!(boolean(
            "select auth.password_needs_rehash(password) from auth.user"
        ));
        sql("set pg_auth.bcrypt_cost = 9");
        assert!(boolean(
            "select auth.password_needs_rehash(password) from auth.user"
        ));
        sql("set pg_auth.bcrypt_cost = 10");
        assert!(!boolean(
            "select auth.password_needs_rehash(password) from auth.user"
        ));
    }

    /// A caller who may write auth.user but is not a superuser (an app's
    /// signup role) must not choose a stored hash: a known hash, or one so
    /// costly that logins hang.
    #[pg_test]
    fn only_a_superuser_session_stores_existing_hashes() {
        configure();
        sql("do $$ begin create role signup_app nologin; exception when duplicate_object then null; end $$");
        sql("grant usage on schema auth to signup_app");
        sql("grant insert, update on auth.user to signup_app");
        sql("set local session authorization signup_app");
        let refused = error_of(&format!(
            "insert into auth.user values ('planted', {}, 'basic_subscriber')",
            literal(PGCRYPTO_COST_6)
        ));
        let plain =
            error_of("insert into auth.user values ('newbie', 'a password', 'basic_subscriber')");
        sql("reset session authorization");
        assert_eq!(
            refused.as_deref(),
            Some("42501: the password looks like a bcrypt hash, and only a superuser may store hashes as they are")
        );
        assert_eq!(
            plain, None,
            "a password is hashed for anyone allowed to write"
        );
        assert!(
            text("select password from auth.user where username = 'newbie'")
                .unwrap()
                .starts_with("$2a$10$")
        );
    }

    /// Cost 31 would make one login run for about 30 hours.
    #[pg_test]
    fn hashes_above_the_maximum_cost_are_refused_even_for_a_superuser() {
        configure();
        let cost_15 = PGCRYPTO_COST_6.replacen("$06$", "$15$", 1);
        let cost_31 = PGCRYPTO_COST_6.replacen("$06$", "$31$", 1);
        for hash in [&cost_15, &cost_31] {
            let error = error_of(&format!(
                "insert into auth.user values ('costly', {}, 'basic_subscriber')",
                literal(hash)
            ));
            assert!(
                error
                    .as_deref()
                    .unwrap_or_default()
                    .contains("is above the maximum of 14"),
                "{error:?}"
            );
        }
        assert_eq!(
            setting_error("bcrypt_cost", "15").as_deref(),
            Some("22023: 15 is outside the valid range for parameter \"pg_auth.bcrypt_cost\" (4 .. 14)")
        );
        // A hash stored before the bound (restored from an old backup) is
        // never verified at its cost: the login fails after the usual work.
        sql("alter table auth.user disable trigger prepare_user");
        sql(&format!(
            "update auth.user set password = {} where username = 'demo'",
            literal(&cost_31)
        ));
        sql("alter table auth.user enable trigger prepare_user");
        let before = rounds_checked();
        assert!(!boolean(
            "select auth.verify_password('demo', password) from auth.user"
        ));
        assert_eq!(rounds_checked() - before, (1 << 10) / 16);
    }

    #[pg_test(error = "password must not be empty")]
    fn empty_passwords_are_refused() {
        configure();
        sql("insert into auth.user values ('empty', '', 'basic_subscriber')");
    }

    #[pg_test(
        error = "password is 73 bytes long; bcrypt uses at most 72 bytes and longer passwords are refused rather than silently truncated"
    )]
    fn long_passwords_are_refused() {
        configure();
        sql(&format!(
            "insert into auth.user values ('long', '{}', 'basic_subscriber')",
            "x".repeat(73)
        ));
    }

    /// The work of a login, in Eksblowfish rounds (checked every 16): the
    /// same for an unknown user, a wrong password against a cheap pgcrypto
    /// hash or against one at the configured cost, and a refused password,
    /// and no extra hash the first time a backend sees an unknown user.
    #[pg_test]
    fn every_failed_login_costs_exactly_one_hash_at_the_configured_cost() {
        configure();
        sql(&format!(
            "insert into auth.user values ('legacy', {}, 'basic_subscriber')",
            literal(PGCRYPTO_COST_6)
        ));
        let work = |statement: &str| {
            let before = rounds_checked();
            sql(statement);
            rounds_checked() - before
        };
        let one_hash = (1 << 10) / 16;
        assert_eq!(
            work("select auth.verify_password('x', null)"),
            one_hash,
            "unknown user, first time"
        );
        assert_eq!(
            work("select auth.verify_password('x', null)"),
            one_hash,
            "unknown user"
        );
        assert_eq!(
            work("select auth.verify_password('wrong', password) from auth.user where username = 'legacy'"),
            one_hash,
            "cost-6 hash"
        );
        assert_eq!(
            work("select auth.verify_password('wrong', password) from auth.user where username = 'demo'"),
            one_hash,
            "cost-10 hash"
        );
        assert_eq!(
            work(
                "select auth.verify_password('', password) from auth.user where username = 'demo'"
            ),
            one_hash,
            "refused password"
        );
        assert_eq!(
            work("select auth.verify_password('x', 'not a hash')"),
            one_hash,
            "unusable hash"
        );
    }
}

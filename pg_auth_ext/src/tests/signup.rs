//! Accounts people open and recover: sign-up, verification, password reset,
//! the password policy, and the mail they leave in the outbox.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::passwords::rounds_checked;
    use crate::tests::fixtures::*;

    const STRONG: &str = "violet otter galaxy 91";
    const OTHER_STRONG: &str = "amber heron quartz 27";
    const SENT: &str = "If the address can be used, a mail is on its way";

    fn open_signup() {
        configure();
        sql("set pg_auth.signup = 'open'");
        sql("set pg_auth.signup_role = 'basic_subscriber'");
        sql("set pg_auth.site_url = 'https://app.example.com/'");
    }

    /// The `message` of the JSON an RPC answered ("" for none), or its
    /// problem as "code: message [details]".
    fn call(rpc: &str, statement: &str) -> String {
        request(&format!("/rpc/{rpc}"), "");
        answer(statement)
    }

    /// `call` within the request as it stands (claims set).
    fn answer(statement: &str) -> String {
        text(&format!(
            "do $$ declare d text; r json; begin execute {} into r; \
             perform set_config('test.out', coalesce((r ->> 'code') || ': ' || (r ->> 'message') \
             || ' [' || (r ->> 'details') || ']', r ->> 'message', ''), true); \
             exception when others then get stacked diagnostics d = pg_exception_detail; \
             perform set_config('test.out', sqlstate || ': ' || sqlerrm || ' [' || d || ']', true); end $$; \
             select current_setting('test.out')",
            literal(statement)
        ))
        .unwrap_or_default()
    }

    fn signup(email: &str, password: &str) -> String {
        call(
            "signup",
            &format!(
                "select auth.signup({}, {})",
                literal(email),
                literal(password)
            ),
        )
    }

    /// The hint of the error `statement` raises.
    fn hint_of(statement: &str) -> Option<String> {
        text(&format!(
            "do $$ declare h text; begin execute {}; perform set_config('test.hint', '', true); \
             exception when others then get stacked diagnostics h = pg_exception_hint; \
             perform set_config('test.hint', coalesce(h, ''), true); end $$; \
             select nullif(current_setting('test.hint'), '')",
            literal(statement)
        ))
    }

    /// The token of the last mail of `template` to `recipient`.
    fn mailed_token(template: &str, recipient: &str) -> String {
        text(&format!(
            "select data ->> 'token' from auth.outbox where template = {} and recipient = {} \
             order by id desc limit 1",
            literal(template),
            literal(recipient)
        ))
        .unwrap_or_else(|| panic!("no {template} mail to {recipient}"))
    }

    fn mails() -> i64 {
        count("select count(*) from auth.outbox")
    }

    #[pg_test]
    fn signup_is_off_until_opened() {
        configure();
        assert_eq!(
            signup("ann@example.org", STRONG),
            "PT403: Sign-up is closed [signup_disabled]"
        );
        assert_eq!(count("select count(*) from auth.user"), 1);
    }

    #[pg_test]
    fn a_new_account_verifies_its_address_then_logs_in_by_email() {
        open_signup();
        assert_eq!(signup("  Ann@Example.ORG ", STRONG), SENT);
        let token = mailed_token("verify_email", "ann@example.org");
        assert_eq!(
            text("select data ->> 'link' from auth.outbox where template = 'verify_email'"),
            Some(format!("https://app.example.com/?verify={token}"))
        );
        assert_eq!(
            text("select role || ' ' || email from auth.user where username = 'ann@example.org'")
                .as_deref(),
            Some("basic_subscriber ann@example.org")
        );
        // Only the token's hash is stored.
        assert_eq!(count("select count(*) from auth.link_token"), 1);
        assert_eq!(
            count(&format!(
                "select count(*) from auth.link_token where token_hash::text like '%{token}%'"
            )),
            0
        );
        assert_eq!(
            call(
                "login",
                &format!("select auth.login('ANN@example.org', {})", literal(STRONG))
            ),
            "PT403: Verify your email address first [email_not_verified]"
        );
        // A new link replaces the first.
        let first = token;
        assert_eq!(
            call(
                "resend_verification",
                "select auth.resend_verification('ann@example.org')"
            ),
            SENT
        );
        let token = mailed_token("verify_email", "ann@example.org");
        assert_ne!(token, first);
        assert_eq!(
            call(
                "verify_email",
                &format!("select auth.verify_email({})", literal(&first))
            ),
            "PT400: This link is invalid or has expired [invalid_link]"
        );
        let verify_link = format!("select auth.verify_email({})", literal(&token));
        assert_eq!(call("verify_email", &verify_link), "");
        assert_eq!(
            call("verify_email", &verify_link),
            "PT400: This link is invalid or has expired [invalid_link]"
        );
        let (access, _) = login("ann@example.org", STRONG);
        assert_eq!(verify(&access).get_str("username"), Some("ann@example.org"));
        assert_eq!(
            count(
                "select count(*) from auth.audit_event where event in ('signup', 'email_verified')"
            ),
            2
        );
    }

    #[pg_test]
    fn an_existing_address_gets_the_same_answer_and_work_and_a_notice() {
        open_signup();
        assert_eq!(signup("bob@example.org", STRONG), SENT);
        let before = rounds_checked();
        assert_eq!(signup("carol@example.org", STRONG), SENT);
        let new_account = rounds_checked() - before;
        let before = rounds_checked();
        assert_eq!(signup("BOB@example.org", OTHER_STRONG), SENT);
        assert_eq!(
            rounds_checked() - before,
            new_account,
            "the same bcrypt work"
        );
        assert_eq!(
            count("select count(*) from auth.user where email = 'bob@example.org'"),
            1
        );
        assert_eq!(
            count("select count(*) from auth.outbox where template = 'signup_existing' and recipient = 'bob@example.org'"),
            1
        );
        // The existing password is untouched.
        sql("update auth.user set email_verified_at = now() where email = 'bob@example.org'");
        assert_eq!(
            call(
                "login",
                &format!(
                    "select auth.login('bob@example.org', {})",
                    literal(OTHER_STRONG)
                )
            ),
            "PT401: Invalid user or password [invalid_credentials]"
        );
    }

    #[pg_test]
    fn weak_passwords_and_bad_addresses_are_refused_with_the_reason() {
        open_signup();
        let short = "select auth.signup('dan@example.org', 'Xy7$q')";
        assert_eq!(
            problem_of(short).as_deref(),
            Some("PT422: This password is too weak [weak_password]")
        );
        assert_eq!(
            hint_of(short).as_deref(),
            Some("Use at least 10 characters")
        );
        let long = format!(
            "select auth.signup('dan@example.org', '{}')",
            "violet otter ".repeat(6)
        );
        assert_eq!(
            hint_of(&long).as_deref(),
            Some("Use at most 72 bytes (this one has 78)")
        );
        let guessable = "select auth.signup('dan@example.org', 'password123')";
        assert!(hint_of(guessable).unwrap().starts_with("Too easy to guess"));
        let own_address = "select auth.signup('dan.smith@example.org', 'dan.smith@example.org')";
        assert_eq!(
            hint_of(own_address).as_deref(),
            Some("Do not use your username or email address in the password")
        );
        let list = write_data_file("blocklist.txt", "Violet Otter Galaxy 91\n", 0o600);
        sql(&format!(
            "set pg_auth.password_blocklist_file = {}",
            literal(&list)
        ));
        assert_eq!(
            hint_of(&format!(
                "select auth.signup('dan@example.org', {})",
                literal(STRONG)
            ))
            .as_deref(),
            Some("This password is on the list of breached or banned passwords")
        );
        sql("reset pg_auth.password_blocklist_file");
        for address in [
            "dan@example.org\r\nBcc: eve@example.org",
            "dan",
            "<dan@example.org>",
            "",
        ] {
            assert_eq!(
                signup(address, STRONG),
                "PT422: Not a valid email address [invalid_email]",
                "{address:?}"
            );
        }
        assert_eq!(count("select count(*) from auth.user"), 1);
        assert_eq!(mails(), 0);
    }

    #[pg_test]
    fn a_reset_link_sets_a_new_password_ends_every_session_and_signs_in() {
        open_signup();
        sql("update auth.user set email = 'demo@example.org', email_verified_at = now() where username = 'demo'");
        let (old_access, old_refresh) = login_demo();
        let request_reset = |email: &str| {
            call(
                "request_password_reset",
                &format!("select auth.request_password_reset({})", literal(email)),
            )
        };
        // The same answer for an address without an account, and no mail.
        assert_eq!(request_reset("nobody@example.org"), SENT);
        assert_eq!(mails(), 0);
        // Audited all the same, with no account and no address.
        assert_eq!(
            count("select count(*) from auth.audit_event where event = 'password_reset_requested' and username is null and details = '{\"account\": false}'"),
            1
        );
        assert_eq!(request_reset("Demo@example.org"), SENT);
        let first = mailed_token("reset_password", "demo@example.org");
        assert_eq!(request_reset("demo@example.org"), SENT);
        let token = mailed_token("reset_password", "demo@example.org");
        let reset = |token: &str, password: &str| {
            call(
                "reset_password",
                &format!(
                    "select auth.reset_password({}, {})",
                    literal(token),
                    literal(password)
                ),
            )
        };
        let invalid = "PT400: This link is invalid or has expired [invalid_link]";
        assert_eq!(reset(&first, STRONG), invalid, "a newer link replaces it");
        assert_eq!(
            reset(&token, "short"),
            "PT422: This password is too weak [weak_password]"
        );
        assert_eq!(
            reset(&token, STRONG),
            "",
            "the link survives a weak password"
        );
        let cookies = set_cookies();
        assert_eq!(
            verify(&cookie_value(&cookies, "access_token")).get_str("username"),
            Some("demo")
        );
        assert_eq!(reset(&token, OTHER_STRONG), invalid, "used once");
        assert!(refresh(&old_refresh).is_err());
        with_claims_of(&old_access);
        request("/task", "");
        with_claims_of(&old_access);
        assert_eq!(
            problem_of("select auth.check_session()").as_deref(),
            Some("PT401: Session has ended [session_ended]")
        );
        login("demo", STRONG);
        assert_eq!(
            count("select count(*) from auth.audit_event where event in ('password_reset_requested', 'password_reset')"),
            4
        );
    }

    #[pg_test]
    fn links_expire_and_a_password_change_ends_them() {
        open_signup();
        sql("update auth.user set email = 'demo@example.org', email_verified_at = now() where username = 'demo'");
        call(
            "request_password_reset",
            "select auth.request_password_reset('demo@example.org')",
        );
        let token = mailed_token("reset_password", "demo@example.org");
        sql("update auth.link_token set expires_at = now() - interval '1 second'");
        assert_eq!(
            call(
                "reset_password",
                &format!(
                    "select auth.reset_password({}, {})",
                    literal(&token),
                    literal(STRONG)
                )
            ),
            "PT400: This link is invalid or has expired [invalid_link]"
        );
        sql("select auth.cleanup_expired_sessions()");
        assert_eq!(count("select count(*) from auth.link_token"), 0);
        call(
            "request_password_reset",
            "select auth.request_password_reset('demo@example.org')",
        );
        assert_eq!(count("select count(*) from auth.link_token"), 1);
        sql(&format!(
            "update auth.user set password = {} where username = 'demo'",
            literal(OTHER_STRONG)
        ));
        assert_eq!(count("select count(*) from auth.link_token"), 0);
    }

    #[pg_test]
    fn a_new_address_is_confirmed_by_its_link_and_the_old_one_is_told() {
        open_signup();
        sql("update auth.user set email = 'demo@example.org', email_verified_at = now() where username = 'demo'");
        sql("insert into auth.user (username, password, role, email) \
             values ('taken', 'taken', 'basic_subscriber', 'taken@example.org')");
        let (access, _) = login_demo();
        let change = |address: &str, password: &str| {
            request("/rpc/change_email", "");
            with_claims_of(&access);
            answer(&format!(
                "select auth.change_email({}, {})",
                literal(address),
                literal(password)
            ))
        };
        assert_eq!(
            change("new@example.org", "wrong"),
            "PT401: Invalid user or password [invalid_credentials]"
        );
        // Another account's address: the same answer, and no link.
        assert_eq!(change("taken@example.org", "demo"), SENT);
        assert_eq!(count("select count(*) from auth.link_token"), 0);
        assert_eq!(change("New@Example.org", "demo"), SENT);
        let token = mailed_token("change_email", "new@example.org");
        assert_eq!(
            text(
                "select data ->> 'new_email' from auth.outbox where template = 'email_changed' \
                  and recipient = 'demo@example.org'"
            )
            .as_deref(),
            Some("new@example.org")
        );
        let confirm = format!("select auth.confirm_email_change({})", literal(&token));
        assert_eq!(call("confirm_email_change", &confirm), "");
        assert_eq!(
            text("select email || ' ' || (email_verified_at is not null) from auth.user where username = 'demo'")
                .as_deref(),
            Some("new@example.org true")
        );
        assert_eq!(
            call("confirm_email_change", &confirm),
            "PT400: This link is invalid or has expired [invalid_link]"
        );
        login("new@example.org", "demo");
    }

    #[pg_test]
    fn a_sent_mail_keeps_no_token_and_the_outbox_is_the_owners() {
        open_signup();
        signup("erin@example.org", STRONG);
        let id = count("select id from auth.outbox");
        sql(&format!(
            "select auth.outbox_failed({id}, 'SMTP: connection refused')"
        ));
        sql(&format!(
            "select auth.outbox_failed({id}, 'SMTP: connection refused')"
        ));
        assert_eq!(
            text("select attempts || ' ' || last_error || ' ' || (next_attempt_at - now() = interval '2 seconds') \
                  || ' ' || (data ? 'token') from auth.outbox")
                .as_deref(),
            Some("2 SMTP: connection refused true true"),
            "retried later, twice as late each time, its token kept until sent"
        );
        sql(&format!("select auth.outbox_sent({id})"));
        assert_eq!(
            text("select (data ? 'token')::text || (data ? 'link')::text || (sent_at is not null)::text from auth.outbox")
                .as_deref(),
            Some("falsefalsetrue")
        );
        assert!(!boolean(
            "select has_table_privilege('basic_subscriber', 'auth.outbox', 'select')"
        ));
        assert!(!boolean(
            "select has_table_privilege('basic_subscriber', 'auth.link_token', 'select')"
        ));
    }
}

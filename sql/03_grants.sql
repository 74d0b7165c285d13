-- Who may call what. The auth RPCs go to anon and to every role a token can
-- name: a browser with a valid access cookie calls logout as that role.
grant usage on schema auth to anon, basic_subscriber;
grant execute on function
    auth.login(text, text),
    auth.logout(text),
    auth.refresh_token(),
    auth.check_session()
to anon, basic_subscriber;
-- Who is signed in, their sessions, a new password: for signed-in roles only.
-- (auth.end_user_sessions is for administrators: granted to no web role.)
grant execute on function
    auth.me(),
    auth.sessions(),
    auth.end_session(uuid),
    auth.change_password(text, text)
to basic_subscriber;
-- Second factors: for signed-in roles (docs/mfa.md).
grant execute on function
    auth.mfa_enroll_totp(text),
    auth.mfa_verify(uuid, text),
    auth.mfa_recover(text),
    auth.mfa_factors(),
    auth.mfa_unenroll(uuid),
    auth.passkey_register_begin(text),
    auth.passkey_register_finish(uuid, json),
    auth.mfa_passkey_begin(),
    auth.mfa_passkey_finish(uuid, json)
to basic_subscriber;
-- A sign-in with a passkey: anyone, like a login.
grant execute on function auth.passkey_login_begin(), auth.passkey_login_finish(uuid, json)
to anon, basic_subscriber;
-- The public keys, for the proxies' jwks_uri (and anyone).
grant execute on function auth.jwks() to anon, basic_subscriber;
-- The ended sessions, for the proxies' revocation_uri (they fetch without a
-- token; the filter never passes this path on to PostgREST for clients).
grant execute on function auth.ended_sessions(double precision) to anon;
-- Accounts people open and recover: anyone may call these (pg_auth.signup
-- decides whether sign-up is open; the others answer alike for every
-- address), within the proxies' per-client rate limit.
grant execute on function
    auth.signup(text, text),
    auth.verify_email(text),
    auth.resend_verification(text),
    auth.request_password_reset(text),
    auth.reset_password(text, text),
    auth.confirm_email_change(text)
to anon, basic_subscriber;
-- A new address needs the session and the password.
grant execute on function auth.change_email(text, text) to basic_subscriber;
-- The outbox (mail with one-time tokens in it) is the mailer's alone.
grant usage on schema auth to mailer;
grant select, update on auth.outbox to mailer;
grant execute on function auth.outbox_sent(bigint), auth.outbox_failed(bigint, text) to mailer;

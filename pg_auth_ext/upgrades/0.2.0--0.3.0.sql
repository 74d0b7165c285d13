-- The schema changes of 0.3.0 (frozen once released; see 0.1.0--0.2.0.sql).

-- The login throttle counts (username, address) pairs and IPv6 networks,
-- and throttled attempts during a wait (one audit row per wait).
alter table auth.login_throttle add column refused integer not null default 0;
drop function if exists auth.throttle_subjects(text, inet);
drop function if exists auth.record_login_success(text);
-- Only keys that may still sign keep their private key.
update auth.signing_key set private_key = null where state = 'previous';
alter table auth.signing_key drop constraint signing_key_private_key_check,
    add constraint signing_key_private_key_check check ((state in ('standby', 'current')) = (private_key is not null));
-- Live sessions by their last refresh: the idle ones, for auth.ended_sessions.
create index session_refreshed_at_idx on auth.session (refreshed_at) where revoked_at is null;

-- pg_auth_ext::settings::sql::address_prefix_v6
CREATE OR REPLACE FUNCTION "address_prefix_v6"() RETURNS INT /* i32 */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'address_prefix_v6_wrapper';

-- pg_auth_ext::signing_keys::max_published_keys
CREATE OR REPLACE FUNCTION "max_published_keys"() RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'max_published_keys_wrapper';

-- pg_auth_ext::signing_keys::check_jwks
CREATE OR REPLACE FUNCTION "check_jwks"(
	"jwks" TEXT /* & str */
) RETURNS void
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'check_jwks_wrapper';

-- pg_auth_ext::signing_keys::reseal_private_key
CREATE OR REPLACE FUNCTION "reseal_private_key"(
	"kid" TEXT, /* & str */
	"algorithm" TEXT, /* & str */
	"sealed" bytea, /* & [u8] */
	"old_key_file" TEXT /* & str */
) RETURNS bytea /* Vec < u8 > */
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'reseal_private_key_wrapper';

-- pg_auth_ext::cookies::auth_rpc_paths
CREATE OR REPLACE FUNCTION "auth_rpc_paths"() RETURNS TEXT[] /* Vec < & '_ str > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'auth_rpc_paths_wrapper';

-- pg_auth_ext::tokens::live_session_of
CREATE OR REPLACE FUNCTION "live_session_of"(
	"access_token" TEXT /* & str */
) RETURNS uuid /* Option < pgrx :: Uuid > */
STRICT STABLE PARALLEL RESTRICTED
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'live_session_of_wrapper';

-- Named results instead of arrays read by position. The library still
-- exports the old two for 0.2.0's SQL until this update runs.
drop function if exists auth.problem(text);
drop function if exists auth.login_throttle_settings();

-- pg_auth_ext::problems::problem_of
CREATE OR REPLACE FUNCTION "problem_of"(
	"slug" TEXT /* & str */
) RETURNS TABLE (
	"sqlstate" TEXT,  /* String */
	"message" TEXT,  /* String */
	"hint" TEXT  /* Option < String > */
)
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'problem_of_wrapper';

-- pg_auth_ext::settings::sql::login_throttle_limits
CREATE OR REPLACE FUNCTION "login_throttle_limits"() RETURNS TABLE (
	"max_failures" INT,  /* i32 */
	"max_failures_per_address" INT,  /* i32 */
	"first_delay" INT,  /* i32 */
	"max_delay" INT,  /* i32 */
	"failure_window" INT  /* i32 */
)
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'login_throttle_limits_wrapper';

-- Accounts people open and recover (signup.sql): an optional email address
-- per account, the one-time links mailed to it, the mail to send, and
-- their audit events.
alter table auth."user" add column email text unique check (length(email) <= 254),
    add column email_verified_at timestamptz;
create table auth.link_token (
    token_hash bytea primary key check (length(token_hash) = 32),
    kind text not null check (kind in ('verify_email', 'reset_password', 'change_email')),
    username text not null references auth."user" on update cascade on delete cascade,
    email text not null check (length(email) <= 254),
    expires_at timestamptz not null,
    unique (username, kind)
);
create index link_token_expires_at_idx on auth.link_token (expires_at);

-- Mail to send. The database never sends: a mailer LISTENs on
-- pg_auth_outbox, claims unsent rows (FOR UPDATE SKIP LOCKED), sends them
-- and marks them with auth.outbox_sent, which also drops their token (or
-- auth.outbox_failed, which retries later).
-- Nobody but the extension's owner reads it until the mailer's role is
-- granted SELECT and UPDATE.
create table auth.outbox (
    id bigint generated always as identity primary key,
    template text not null check (template in
        ('verify_email', 'reset_password', 'signup_existing', 'change_email', 'email_changed')),
    recipient text not null check (length(recipient) <= 254),
    data jsonb not null,
    created_at timestamptz not null default now(),
    sent_at timestamptz,
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error text check (length(last_error) <= 2000)
);
create index outbox_unsent_idx on auth.outbox (id) where sent_at is null;
create index outbox_created_at_idx on auth.outbox (created_at);
select pg_catalog.pg_extension_config_dump('auth.link_token', '');
select pg_catalog.pg_extension_config_dump('auth.outbox', '');
alter table auth.audit_event drop constraint audit_event_event_check,
    add constraint audit_event_event_check check (event in
        ('login', 'login_failed', 'login_throttled', 'refresh', 'refresh_reused', 'logout',
         'session_ended', 'password_changed', 'signing_key_created', 'signing_key_rotated',
         'signing_key_revoked', 'signup', 'email_verified', 'password_reset_requested',
         'password_reset', 'email_change_requested', 'email_changed', 'verification_requested',
         'mfa_enrolled', 'mfa_verified', 'mfa_failed', 'mfa_throttled', 'mfa_unenrolled',
         'recovery_code_used'));

-- pg_auth_ext::accounts::normalize_email
CREATE OR REPLACE FUNCTION "normalize_email"(
	"address" TEXT /* & str */
) RETURNS TEXT /* Option < String > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'normalize_email_wrapper';

-- pg_auth_ext::accounts::password_weakness
CREATE OR REPLACE FUNCTION "password_weakness"(
	"password" TEXT, /* & str */
	"username" TEXT, /* Option < & str > */
	"email" TEXT /* Option < & str > */
) RETURNS TEXT /* Option < String > */
STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'password_weakness_wrapper';

-- pg_auth_ext::accounts::new_link_token
CREATE OR REPLACE FUNCTION "new_link_token"() RETURNS TEXT /* String */
STRICT VOLATILE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'new_link_token_wrapper';

-- pg_auth_ext::settings::sql::signup_open
CREATE OR REPLACE FUNCTION "signup_open"() RETURNS bool /* bool */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'signup_open_wrapper';

-- pg_auth_ext::settings::sql::signup_role
CREATE OR REPLACE FUNCTION "signup_role"() RETURNS TEXT /* Option < String > */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'signup_role_wrapper';

-- pg_auth_ext::settings::sql::email_confirm_required
CREATE OR REPLACE FUNCTION "email_confirm_required"() RETURNS bool /* bool */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'email_confirm_required_wrapper';

-- pg_auth_ext::settings::sql::link_lifetime
CREATE OR REPLACE FUNCTION "link_lifetime"(
	"kind" TEXT /* & str */
) RETURNS interval /* Interval */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'link_lifetime_wrapper';

-- pg_auth_ext::settings::sql::site_url
CREATE OR REPLACE FUNCTION "site_url"() RETURNS TEXT /* Option < String > */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'site_url_wrapper';

-- Second factors (mfa.sql, passkeys.sql): the level of sessions, the
-- factors, the recovery codes, the passkeys and their challenges.
alter table auth.session
    add column aal text not null default 'aal1' check (aal in ('aal1', 'aal2')),
    add column amr jsonb not null default '[]' check (jsonb_typeof(amr) = 'array' and jsonb_array_length(amr) <= 10);
create table auth.mfa_factor (
    id uuid primary key,
    username text not null references auth."user" (username) on update cascade on delete cascade,
    kind text not null check (kind in ('totp')),
    friendly_name text not null check (length(friendly_name) between 1 and 64),
    secret bytea not null check (length(secret) <= 128),
    created_at timestamptz not null default now(),
    verified_at timestamptz,
    last_used_step bigint,
    last_used_at timestamptz,
    failures integer not null default 0,
    blocked_until timestamptz,
    unique (username, friendly_name)
);
create table auth.recovery_code (
    code_hash bytea primary key check (length(code_hash) = 32),
    username text not null references auth."user" (username) on update cascade on delete cascade,
    used_at timestamptz
);
create index recovery_code_username_idx on auth.recovery_code (username);

create table auth.passkey (
    id uuid primary key,
    username text not null references auth."user" (username) on update cascade on delete cascade,
    user_handle uuid not null,
    credential_id bytea not null unique check (length(credential_id) between 1 and 1023),
    credential jsonb not null,
    friendly_name text not null check (length(friendly_name) between 1 and 64),
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    unique (username, friendly_name)
);

create table auth.webauthn_challenge (
    id uuid primary key,
    kind text not null check (kind in ('register', 'login', 'second_factor')),
    username text references auth."user" (username) on update cascade on delete cascade,
    friendly_name text check (length(friendly_name) <= 64),
    user_handle uuid,
    state jsonb not null,
    expires_at timestamptz not null
);
create index webauthn_challenge_expires_at_idx on auth.webauthn_challenge (expires_at);
select pg_catalog.pg_extension_config_dump('auth.mfa_factor', '');
select pg_catalog.pg_extension_config_dump('auth.recovery_code', '');
select pg_catalog.pg_extension_config_dump('auth.passkey', '');
-- start_session gained the method of the login (password or passkey).
drop function if exists auth.start_session(auth."user");

-- pg_auth_ext::mfa::totp::new_totp_secret
CREATE OR REPLACE FUNCTION "new_totp_secret"(
	"factor_id" uuid, /* pgrx :: Uuid */
	"account" TEXT /* & str */
) RETURNS TABLE (
	"uri" TEXT,  /* String */
	"secret" TEXT,  /* String */
	"qr_svg" TEXT,  /* String */
	"sealed_secret" bytea  /* Vec < u8 > */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'new_totp_secret_wrapper';

-- pg_auth_ext::mfa::totp::totp_step
CREATE OR REPLACE FUNCTION "totp_step"(
	"factor_id" uuid, /* pgrx :: Uuid */
	"sealed_secret" bytea, /* & [u8] */
	"code" TEXT, /* & str */
	"after_step" bigint /* i64 */
) RETURNS bigint /* Option < i64 > */
STRICT STABLE PARALLEL RESTRICTED
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'totp_step_wrapper';

-- pg_auth_ext::mfa::totp::reseal_totp_secret
CREATE OR REPLACE FUNCTION "reseal_totp_secret"(
	"factor_id" uuid, /* pgrx :: Uuid */
	"sealed" bytea, /* & [u8] */
	"old_key_file" TEXT /* & str */
) RETURNS bytea /* Vec < u8 > */
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'reseal_totp_secret_wrapper';

-- pg_auth_ext::mfa::recovery::new_recovery_codes
CREATE OR REPLACE FUNCTION "new_recovery_codes"(
	"count" INT /* i32 */
) RETURNS TABLE (
	"code" TEXT,  /* String */
	"code_hash" bytea  /* Vec < u8 > */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'new_recovery_codes_wrapper';

-- pg_auth_ext::mfa::recovery::recovery_code_hash
CREATE OR REPLACE FUNCTION "recovery_code_hash"(
	"code" TEXT /* & str */
) RETURNS bytea /* :: std :: option :: Option < Vec < u8 > > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'recovery_code_hash_wrapper';

-- pg_auth_ext::settings::sql::mfa_required_roles
CREATE OR REPLACE FUNCTION "mfa_required_roles"() RETURNS TEXT[] /* Vec < String > */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_required_roles_wrapper';

-- pg_auth_ext::settings::sql::mfa_max_failures
CREATE OR REPLACE FUNCTION "mfa_max_failures"() RETURNS INT /* i32 */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_max_failures_wrapper';

-- pg_auth_ext::tokens::session_access_token
CREATE OR REPLACE FUNCTION "session_access_token"(
	"role_" TEXT, /* & str */
	"user_" TEXT, /* & str */
	"session_id" uuid, /* pgrx :: Uuid */
	"aal" TEXT, /* & str */
	"amr" jsonb, /* pgrx :: JsonB */
	"custom" jsonb /* Option < pgrx :: JsonB > */
) RETURNS TEXT /* String */
STABLE PARALLEL RESTRICTED
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'session_access_token_wrapper';

-- pg_auth_ext::cookies::access_cookie
CREATE OR REPLACE FUNCTION "access_cookie"(
	"access_token" TEXT, /* & str */
	"max_age" bigint /* i64 */
) RETURNS TEXT /* String */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'access_cookie_wrapper';

-- pg_auth_ext::mfa::passkey::passkey_registration_options
CREATE OR REPLACE FUNCTION "passkey_registration_options"(
	"user_handle" uuid, /* pgrx :: Uuid */
	"username" TEXT, /* & str */
	"existing" jsonb[] /* Vec < pgrx :: JsonB > */
) RETURNS TABLE (
	"options" jsonb,  /* pgrx :: JsonB */
	"state" jsonb  /* pgrx :: JsonB */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_registration_options_wrapper';

-- pg_auth_ext::mfa::passkey::passkey_registered
CREATE OR REPLACE FUNCTION "passkey_registered"(
	"credential_json" jsonb, /* pgrx :: JsonB */
	"state" jsonb /* pgrx :: JsonB */
) RETURNS TABLE (
	"credential_id" bytea,  /* :: std :: option :: Option < Vec < u8 > > */
	"passkey" jsonb,  /* Option < pgrx :: JsonB > */
	"problem" TEXT  /* Option < String > */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_registered_wrapper';

-- pg_auth_ext::mfa::passkey::passkey_login_options
CREATE OR REPLACE FUNCTION "passkey_login_options"() RETURNS TABLE (
	"options" jsonb,  /* pgrx :: JsonB */
	"state" jsonb  /* pgrx :: JsonB */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_login_options_wrapper';

-- pg_auth_ext::mfa::passkey::passkey_identify
CREATE OR REPLACE FUNCTION "passkey_identify"(
	"credential_json" jsonb /* pgrx :: JsonB */
) RETURNS TABLE (
	"user_handle" uuid,  /* pgrx :: Uuid */
	"credential_id" bytea  /* Vec < u8 > */
)
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_identify_wrapper';

-- pg_auth_ext::mfa::passkey::passkey_login_checked
CREATE OR REPLACE FUNCTION "passkey_login_checked"(
	"credential_json" jsonb, /* pgrx :: JsonB */
	"state" jsonb, /* pgrx :: JsonB */
	"passkey" jsonb /* pgrx :: JsonB */
) RETURNS TABLE (
	"passkey" jsonb,  /* Option < pgrx :: JsonB > */
	"problem" TEXT  /* Option < String > */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_login_checked_wrapper';

-- pg_auth_ext::mfa::passkey::passkey_challenge_options
CREATE OR REPLACE FUNCTION "passkey_challenge_options"(
	"passkeys" jsonb[] /* Vec < pgrx :: JsonB > */
) RETURNS TABLE (
	"options" jsonb,  /* pgrx :: JsonB */
	"state" jsonb  /* pgrx :: JsonB */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_challenge_options_wrapper';

-- pg_auth_ext::mfa::passkey::passkey_challenge_checked
CREATE OR REPLACE FUNCTION "passkey_challenge_checked"(
	"credential_json" jsonb, /* pgrx :: JsonB */
	"state" jsonb, /* pgrx :: JsonB */
	"passkeys" jsonb[] /* Vec < pgrx :: JsonB > */
) RETURNS TABLE (
	"credential_id" bytea,  /* :: std :: option :: Option < Vec < u8 > > */
	"passkey" jsonb,  /* Option < pgrx :: JsonB > */
	"problem" TEXT  /* Option < String > */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_challenge_checked_wrapper';

-- pg_auth_ext::settings::sql::passkeys_enabled
CREATE OR REPLACE FUNCTION "passkeys_enabled"() RETURNS bool /* bool */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkeys_enabled_wrapper';

-- @code

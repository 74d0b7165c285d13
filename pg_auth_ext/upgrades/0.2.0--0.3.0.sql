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

-- The C functions 0.3.0 adds, as lib.rs declares them; generate.py adds
-- where each lives (pgrx's NAME_wrapper in the library).
create or replace function auth.address_prefix_v6() returns int strict stable parallel safe language c;
create or replace function auth.max_published_keys() returns int immutable strict parallel safe language c;
create or replace function auth.check_jwks(jwks text) returns void immutable strict parallel safe language c;
create or replace function auth.reseal_private_key(kid text, algorithm text, sealed bytea, old_key_file text)
    returns bytea strict volatile language c;
create or replace function auth.auth_rpc_paths() returns text[] immutable strict parallel safe language c;
create or replace function auth.live_session_of(access_token text)
    returns uuid strict stable parallel restricted language c;

-- Named results instead of arrays read by position. The library still
-- exports the old two for 0.2.0's SQL until this update runs.
drop function if exists auth.problem(text);
drop function if exists auth.login_throttle_settings();
create or replace function auth.problem_of(slug text)
    returns table (sqlstate text, message text, hint text) immutable strict parallel safe language c;
create or replace function auth.login_throttle_limits()
    returns table (max_failures int, max_failures_per_address int, first_delay int, max_delay int,
                   failure_window int)
    strict stable parallel safe language c;

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
create or replace function auth.normalize_email(address text)
    returns text immutable strict parallel safe language c;
create or replace function auth.password_weakness(password text, username text, email text)
    returns text stable parallel safe language c;
create or replace function auth.new_link_token() returns text strict volatile parallel safe language c;
create or replace function auth.signup_open() returns bool strict stable parallel safe language c;
create or replace function auth.signup_role() returns text strict stable parallel safe language c;
create or replace function auth.email_confirm_required() returns bool strict stable parallel safe language c;
create or replace function auth.link_lifetime(kind text)
    returns interval strict stable parallel safe language c;
create or replace function auth.site_url() returns text strict stable parallel safe language c;

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
create or replace function auth.new_totp_secret(factor_id uuid, account text)
    returns table (uri text, secret text, qr_svg text, sealed_secret bytea) strict volatile language c;
create or replace function auth.totp_step(factor_id uuid, sealed_secret bytea, code text, after_step bigint)
    returns bigint strict stable parallel restricted language c;
create or replace function auth.reseal_totp_secret(factor_id uuid, sealed bytea, old_key_file text)
    returns bytea strict volatile language c;
create or replace function auth.new_recovery_codes(count int)
    returns table (code text, code_hash bytea) strict volatile language c;
create or replace function auth.recovery_code_hash(code text)
    returns bytea immutable strict parallel safe language c;
create or replace function auth.mfa_required_roles() returns text[] strict stable parallel safe language c;
create or replace function auth.mfa_max_failures() returns int strict stable parallel safe language c;
create or replace function auth.session_access_token(role_ text, user_ text, session_id uuid, aal text, amr jsonb, custom jsonb)
    returns text stable parallel restricted language c;
create or replace function auth.access_cookie(access_token text, max_age bigint)
    returns text strict stable parallel safe language c;
create or replace function auth.passkey_registration_options(user_handle uuid, username text, existing jsonb[])
    returns table (options jsonb, state jsonb) strict volatile language c;
create or replace function auth.passkey_registered(credential_json jsonb, state jsonb)
    returns table (credential_id bytea, passkey jsonb, problem text) strict volatile language c;
create or replace function auth.passkey_login_options()
    returns table (options jsonb, state jsonb) strict volatile language c;
create or replace function auth.passkey_identify(credential_json jsonb)
    returns table (user_handle uuid, credential_id bytea) immutable strict parallel safe language c;
create or replace function auth.passkey_login_checked(credential_json jsonb, state jsonb, passkey jsonb)
    returns table (passkey jsonb, problem text) strict volatile language c;
create or replace function auth.passkey_challenge_options(passkeys jsonb[])
    returns table (options jsonb, state jsonb) strict volatile language c;
create or replace function auth.passkey_challenge_checked(credential_json jsonb, state jsonb, passkeys jsonb[])
    returns table (credential_id bytea, passkey jsonb, problem text) strict volatile language c;
create or replace function auth.passkeys_enabled() returns bool strict stable parallel safe language c;

-- @code

-- Users, as in the plpgsql + caddy-jwt setup: existing rows and pgcrypto
-- bcrypt hashes keep working.
create table auth."user" (
    username text primary key check (length(username) >= 3),
    password text not null check (length(password) < 512),
    role name not null check (length(role) < 512),
    -- Optional (the legacy setup's accounts have none); stored as
    -- auth.normalize_email writes it (auth.prepare_user), one per account.
    email text unique check (length(email) <= 254),
    email_verified_at timestamptz
);

-- One row per login. It ends (revoked_at, end_reason) at logout, at reuse
-- of a rotated refresh token, and when the user's password, role or name
-- changes; it expires refresh_token_ttl after login whatever happens.
create table auth.session (
    id uuid primary key default gen_random_uuid(),
    username text not null references auth."user" (username) on update cascade on delete cascade,
    created_at timestamptz not null default now(),
    refreshed_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz,
    end_reason text check (end_reason in
        ('logout', 'refresh_reused', 'password_changed', 'role_changed', 'username_changed',
         'signed_out_elsewhere', 'ended_by_user', 'ended_by_admin', 'idle')),
    -- Where the client was at login and at its last refresh (auth.sessions()).
    login_address inet,
    login_user_agent text check (length(login_user_agent) <= 512),
    refreshed_address inet,
    refreshed_user_agent text check (length(refreshed_user_agent) <= 512),
    -- The authenticator assurance level its access tokens carry (`aal`):
    -- aal1 after a password, aal2 after a second factor (mfa.sql); `amr`,
    -- the methods used and when, one entry per method.
    aal text not null default 'aal1' check (aal in ('aal1', 'aal2')),
    amr jsonb not null default '[]' check (jsonb_typeof(amr) = 'array' and jsonb_array_length(amr) <= 10)
);
create index session_expires_at_idx on auth.session (expires_at);
create index session_username_idx on auth.session (username);
create index session_revoked_at_idx on auth.session (revoked_at) where revoked_at is not null;
-- Live sessions by their last refresh: the idle ones, for auth.ended_sessions.
create index session_refreshed_at_idx on auth.session (refreshed_at) where revoked_at is null;

-- Refresh tokens, stored only as SHA-256 so that a leaked table replays
-- nothing. A rotated token keeps its successor sealed under itself for the
-- grace window (see refresh.rs), and stays to detect its reuse until the
-- session has more than pg_auth.refresh_token_history newer ones.
create table auth.refresh_token (
    token_hash bytea primary key check (length(token_hash) = 32),
    session_id uuid not null references auth.session (id) on delete cascade,
    created_at timestamptz not null default now(),
    rotated_at timestamptz,
    successor bytea check (length(successor) = 32)
);
create index refresh_token_session_idx on auth.refresh_token (session_id, rotated_at);
create index refresh_token_successor_idx on auth.refresh_token (rotated_at) where successor is not null;

-- What happened, for auditors (README "Audit trail"): nobody but the
-- extension's owner reads it until a role is granted SELECT.
create table auth.audit_event (
    at timestamptz not null default now(),
    event text not null check (event in
        ('login', 'login_failed', 'login_throttled', 'refresh', 'refresh_reused', 'logout',
         'session_ended', 'password_changed', 'signing_key_created', 'signing_key_rotated',
         'signing_key_revoked', 'signup', 'email_verified', 'password_reset_requested',
         'password_reset', 'email_change_requested', 'email_changed', 'verification_requested',
         'mfa_enrolled', 'mfa_verified', 'mfa_failed', 'mfa_throttled', 'mfa_unenrolled',
         'recovery_code_used')),
    username text,
    session_id uuid,
    address inet,
    user_agent text check (length(user_agent) <= 512),
    details jsonb
);
create index audit_event_at_idx on auth.audit_event (at);
create index audit_event_username_idx on auth.audit_event (username, at);

-- The one-time tokens of mailed links (signup.sql): only their hash, one
-- live link per account and kind (a newer one replaces it), ended by use,
-- by expiry and by a password change.
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

-- Failed logins per username and address ('pair:<address> <name>'), per
-- client address ('address:<address>') and per username ('user:<name>'):
-- past the limits, logins wait (auth.login, throttle.sql). Unlogged: a
-- crash forgets them, and they are not replicated.
create unlogged table auth.login_throttle (
    subject text primary key check (length(subject) <= 600),
    failures integer not null,
    last_failure_at timestamptz not null,
    blocked_until timestamptz,
    -- Throttled attempts during the current wait.
    refused integer not null default 0
);
create index login_throttle_last_failure_at_idx on auth.login_throttle (last_failure_at);

-- Second factors (mfa.sql). A TOTP secret is stored sealed under the
-- key-encryption key, bound to its id (mfa/totp.rs); a code's step is
-- accepted once (last_used_step); wrong codes count per factor and, past
-- pg_auth.mfa_max_failures, make its checks wait (blocked_until).
-- Unverified factors are enrolments in progress, dropped after an hour.
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

-- Recovery codes, given at the first verified factor: only their SHA-256,
-- each usable once in place of a code (mfa/recovery.rs).
create table auth.recovery_code (
    code_hash bytea primary key check (length(code_hash) = 32),
    username text not null references auth."user" (username) on update cascade on delete cascade,
    used_at timestamptz
);
create index recovery_code_username_idx on auth.recovery_code (username);

-- Passkeys (passkeys.sql): WebAuthn credentials as webauthn-rs keeps them
-- (public key, signature counter: nothing secret), found by credential id
-- at sign-in. user_handle is the account's WebAuthn user id: random, one
-- per account, stored by the authenticator.
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

-- WebAuthn ceremonies in progress: each challenge is taken once by the RPC
-- that finishes it, and expires after two minutes.
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

-- pg_dump keeps the rows of these tables: a restored backup keeps every
-- account and session.
select pg_catalog.pg_extension_config_dump('auth."user"', '');
select pg_catalog.pg_extension_config_dump('auth.session', '');
select pg_catalog.pg_extension_config_dump('auth.refresh_token', '');
select pg_catalog.pg_extension_config_dump('auth.audit_event', '');
select pg_catalog.pg_extension_config_dump('auth.link_token', '');
select pg_catalog.pg_extension_config_dump('auth.outbox', '');
select pg_catalog.pg_extension_config_dump('auth.mfa_factor', '');
select pg_catalog.pg_extension_config_dump('auth.recovery_code', '');
select pg_catalog.pg_extension_config_dump('auth.passkey', '');

-- Users, as in the plpgsql + caddy-jwt setup: existing rows and pgcrypto
-- bcrypt hashes keep working.
create table auth."user" (
    username text primary key check (length(username) >= 3),
    password text not null check (length(password) < 512),
    role name not null check (length(role) < 512)
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
        ('logout', 'refresh_reused', 'password_changed', 'role_changed', 'username_changed'))
);
create index session_expires_at_idx on auth.session (expires_at);
create index session_username_idx on auth.session (username);
create index session_revoked_at_idx on auth.session (revoked_at) where revoked_at is not null;

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

-- pg_dump keeps the rows of these tables: a restored backup keeps every
-- account and session.
select pg_catalog.pg_extension_config_dump('auth."user"', '');
select pg_catalog.pg_extension_config_dump('auth.session', '');
select pg_catalog.pg_extension_config_dump('auth.refresh_token', '');

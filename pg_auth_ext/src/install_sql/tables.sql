-- Users, as in the seed: existing rows and pgcrypto bcrypt hashes keep working.
create table auth."user" (
    username text primary key check (length(username) >= 3),
    password text not null check (length(password) < 512),
    role name not null check (length(role) < 512)
);

-- One row per login. Logout and refresh-token reuse revoke it; it ends
-- refresh_token_ttl after login whatever happens to its tokens.
create table auth.session (
    id uuid primary key default gen_random_uuid(),
    username text not null references auth."user" (username) on update cascade on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz
);
create index session_expires_at_idx on auth.session (expires_at);
create index session_username_idx on auth.session (username);

-- Refresh tokens, stored only as SHA-256 so that a leaked table replays nothing.
-- A rotated token is kept until its session ends, to detect its reuse.
create table auth.refresh_token (
    id bigint generated always as identity primary key,
    session_id uuid not null references auth.session (id) on delete cascade,
    token_hash bytea not null unique,
    created_at timestamptz not null default now(),
    rotated_at timestamptz
);
create index refresh_token_session_idx on auth.refresh_token (session_id);

-- The seed's check that a user's role exists.
create function auth.check_role_exists() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = new.role) then
        raise foreign_key_violation using message = 'unknown database role: ' || new.role;
    end if;
    return new;
end
$$;
create constraint trigger ensure_user_role_exists
    after insert or update on auth."user"
    for each row execute function auth.check_role_exists();

-- Hash new passwords with bcrypt in Rust. A value that already is a bcrypt
-- hash is kept, so users can be imported with their hashes.
create function auth.encrypt_pass() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if (tg_op = 'INSERT' or new.password is distinct from old.password)
       and not auth.is_password_hash(new.password) then
        new.password := auth.hash_password(new.password);
    end if;
    return new;
end
$$;
create trigger encrypt_pass
    before insert or update on auth."user"
    for each row execute function auth.encrypt_pass();

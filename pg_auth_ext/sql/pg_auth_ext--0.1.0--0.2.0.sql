-- pg_auth_ext 0.1.0 to 0.2.0, run by ALTER EXTENSION pg_auth_ext UPDATE
-- (README "Upgrade": the 0.2.0 library must be installed and loaded first).
-- Frozen once released: later versions add their own scripts.
\echo Use "ALTER EXTENSION pg_auth_ext UPDATE" to load this file. \quit

-- Objects 0.2.0 no longer has, or has with another signature or result.
drop trigger encrypt_pass on auth."user";
drop function auth.encrypt_pass();
drop trigger ensure_user_role_exists on auth."user";
drop function auth.check_role_exists();
drop function auth.setting_seconds(text);
drop function auth.issue_session_cookies(auth.session, name);
drop function auth.parse_session_id(text);
-- refresh_token() now returns json: the old one is kept aside until the
-- grants the deployment gave it are copied to the new one (end of file).
alter function auth.refresh_token() rename to refresh_token_0_1_0;
-- So do login() (json: its failures commit) and logout() (a scope).
alter function auth.login(text, text) rename to login_0_1_0;
alter function auth.logout() rename to logout_0_1_0;

-- Sessions remember their last refresh, why they ended (NULL for those
-- that ended before this version), and where their client was.
alter table auth.session
    add column refreshed_at timestamptz not null default now(),
    add column end_reason text check (end_reason in
        ('logout', 'refresh_reused', 'password_changed', 'role_changed', 'username_changed',
         'signed_out_elsewhere', 'ended_by_user', 'ended_by_admin', 'idle')),
    add column login_address inet,
    add column login_user_agent text check (length(login_user_agent) <= 512),
    add column refreshed_address inet,
    add column refreshed_user_agent text check (length(refreshed_user_agent) <= 512);
update auth.session s set refreshed_at = coalesce(
    (select max(t.created_at) from auth.refresh_token t where t.session_id = s.id), s.created_at);
create index session_revoked_at_idx on auth.session (revoked_at) where revoked_at is not null;

-- Refresh tokens are keyed by their hash, unchanged (SHA-256 of the token):
-- every refresh cookie out there keeps working. A rotated token may carry
-- its successor sealed under itself.
alter table auth.refresh_token
    drop constraint refresh_token_pkey,
    drop constraint refresh_token_token_hash_key,
    drop column id,
    add constraint refresh_token_pkey primary key (token_hash),
    add constraint refresh_token_token_hash_check check (length(token_hash) = 32),
    add column successor bytea constraint refresh_token_successor_check check (length(successor) = 32);
drop index auth.refresh_token_session_idx;
create index refresh_token_session_idx on auth.refresh_token (session_id, rotated_at);
create index refresh_token_successor_idx on auth.refresh_token (rotated_at) where successor is not null;

-- The audit trail and the login throttle, new in 0.2.0 (see tables.sql).
create table auth.audit_event (
    at timestamptz not null default now(),
    event text not null check (event in
        ('login', 'login_failed', 'login_throttled', 'refresh', 'refresh_reused', 'logout',
         'session_ended', 'password_changed', 'signing_key_created', 'signing_key_rotated',
         'signing_key_revoked')),
    username text,
    session_id uuid,
    address inet,
    user_agent text check (length(user_agent) <= 512),
    details jsonb
);
create index audit_event_at_idx on auth.audit_event (at);
create index audit_event_username_idx on auth.audit_event (username, at);
create unlogged table auth.login_throttle (
    subject text primary key check (length(subject) <= 600),
    failures integer not null,
    last_failure_at timestamptz not null,
    blocked_until timestamptz
);
create index login_throttle_last_failure_at_idx on auth.login_throttle (last_failure_at);

-- pg_dump keeps the rows of these tables: a restored backup keeps every
-- account and session.
select pg_catalog.pg_extension_config_dump('auth."user"', '');
select pg_catalog.pg_extension_config_dump('auth.session', '');
select pg_catalog.pg_extension_config_dump('auth.refresh_token', '');
select pg_catalog.pg_extension_config_dump('auth.audit_event', '');

-- Every function of 0.2.0. CREATE OR REPLACE keeps the grants given to the
-- RPCs that kept their signature.
-- pg_auth_ext::settings::sql::access_cookie_name
CREATE OR REPLACE FUNCTION "access_cookie_name"() RETURNS TEXT /* String */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'access_cookie_name_wrapper';

-- pg_auth_ext::tokens::access_token
CREATE OR REPLACE FUNCTION "access_token"(
	"role_" TEXT, /* & str */
	"user_" TEXT, /* & str */
	"session_id" uuid, /* pgrx :: Uuid */
	"custom" jsonb /* Option < pgrx :: JsonB > */
) RETURNS TEXT /* String */
STABLE PARALLEL RESTRICTED
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'access_token_wrapper';

-- pg_auth_ext::settings::sql::access_token_ttl
CREATE OR REPLACE FUNCTION "access_token_ttl"() RETURNS interval /* Interval */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'access_token_ttl_wrapper';

-- pg_auth_ext::settings::sql::audit_enabled
CREATE OR REPLACE FUNCTION "audit_enabled"() RETURNS bool /* bool */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'audit_enabled_wrapper';

-- pg_auth_ext::settings::sql::audit_retention
CREATE OR REPLACE FUNCTION "audit_retention"() RETURNS interval /* Interval */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'audit_retention_wrapper';

-- pg_auth_ext::settings::sql::authenticator_role
CREATE OR REPLACE FUNCTION "authenticator_role"() RETURNS TEXT /* String */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'authenticator_role_wrapper';

-- pg_auth_ext::settings::sql::custom_claims_function
CREATE OR REPLACE FUNCTION "custom_claims_function"() RETURNS TEXT /* Option < String > */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'custom_claims_function_wrapper';

-- pg_auth_ext::request::forwarded_address
CREATE OR REPLACE FUNCTION "forwarded_address"(
	"forwarded_for" TEXT, /* Option < & str > */
	"hops" INT /* i32 */
) RETURNS TEXT /* Option < String > */
IMMUTABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'forwarded_address_wrapper';

-- pg_auth_ext::tokens::generate_access_token
CREATE OR REPLACE FUNCTION "generate_access_token"(
	"role_" TEXT, /* & str */
	"user_" TEXT, /* & str */
	"secret" TEXT /* & str */
) RETURNS TEXT /* String */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'generate_access_token_wrapper';

-- pg_auth_ext::signing_keys::generate_signing_key
CREATE OR REPLACE FUNCTION "generate_signing_key"(
	"algorithm" TEXT /* & str */
) RETURNS TABLE (
	"kid" TEXT,  /* String */
	"public_jwk" jsonb,  /* pgrx :: JsonB */
	"sealed_private_key" bytea  /* Vec < u8 > */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'generate_signing_key_wrapper';

-- pg_auth_ext::passwords::hash_password
CREATE OR REPLACE FUNCTION "hash_password"(
	"password" TEXT /* & str */
) RETURNS TEXT /* String */
STRICT VOLATILE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'hash_password_wrapper';

-- pg_auth_ext::refresh::hash_token
CREATE OR REPLACE FUNCTION "hash_token"(
	"token" TEXT /* & str */
) RETURNS bytea /* Vec < u8 > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'hash_token_wrapper';

-- pg_auth_ext::passwords::is_password_hash
CREATE OR REPLACE FUNCTION "is_password_hash"(
	"value" TEXT /* & str */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'is_password_hash_wrapper';

-- pg_auth_ext::tokens::issue_access_token
CREATE OR REPLACE FUNCTION "issue_access_token"(
	"role_" TEXT, /* & str */
	"user_" TEXT, /* & str */
	"session_id" uuid /* pgrx :: Uuid */
) RETURNS TEXT /* String */
STRICT STABLE PARALLEL RESTRICTED
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'issue_access_token_wrapper';

-- pg_auth_ext::settings::sql::key_rotation_delay
CREATE OR REPLACE FUNCTION "key_rotation_delay"() RETURNS interval /* Interval */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'key_rotation_delay_wrapper';

-- pg_auth_ext::settings::sql::login_throttle_settings
CREATE OR REPLACE FUNCTION "login_throttle_settings"() RETURNS INT[] /* Vec < i32 > */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'login_throttle_settings_wrapper';

-- Brute-force defence: failed logins are counted per username and per
-- client address. Past pg_auth.login_max_failures (or ..._per_address)
-- within pg_auth.login_failure_window, that username or address waits
-- pg_auth.login_throttle_delay, doubled at each further failure up to
-- pg_auth.login_throttle_max_delay: slow for a guesser, never a permanent
-- lockout. Unknown usernames are counted like real ones, so the answers
-- reveal nothing. Throttled attempts run no bcrypt and count no failure.

create or replace function auth.throttle_subjects(user_ text, address inet)
returns table (subject text, max_failures integer)
language sql stable set search_path = pg_catalog, pg_temp as $$
    select s.subject, s.max_failures
    from (values ('user:' || left(user_, 512), (auth.login_throttle_settings())[1]),
                 ('address:' || host(address), (auth.login_throttle_settings())[2])) s(subject, max_failures)
    where s.subject is not null and s.max_failures > 0;
$$;

-- Seconds until a login for `user_` from `address` may be tried, 0 if now.
create or replace function auth.login_wait(user_ text, address inet) returns integer
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select coalesce(ceil(extract(epoch from max(t.blocked_until) - now()))::integer, 0)
    from auth.login_throttle t
    where t.subject in (select s.subject from auth.throttle_subjects(user_, address) s)
      and t.blocked_until > now();
$$;

create or replace function auth.record_login_failure(user_ text, address inet) returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    settings integer[] := auth.login_throttle_settings();
    failure_window interval := make_interval(secs => settings[5]);
    counted record;
begin
    for counted in select * from auth.throttle_subjects(user_, address) loop
        insert into auth.login_throttle as t (subject, failures, last_failure_at)
        values (counted.subject, 1, now())
        on conflict (subject) do update set
            failures = case when t.last_failure_at < now() - failure_window then 1 else t.failures + 1 end,
            last_failure_at = now();
        update auth.login_throttle t
        set blocked_until = now() + make_interval(secs => least(
            settings[4]::double precision,
            settings[3] * power(2::double precision, least(t.failures - counted.max_failures, 30))))
        where t.subject = counted.subject and t.failures >= counted.max_failures;
    end loop;
end
$$;

-- A successful login forgets the username's failures (not the address's:
-- one good account must not let an address guess the others').
create or replace function auth.record_login_success(user_ text) returns void
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    delete from auth.login_throttle t where t.subject = 'user:' || left(user_, 512);
$$;

-- Forgets counts past the window, in a bounded batch.
create or replace function auth.prune_login_throttle(max_rows integer) returns void
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    delete from auth.login_throttle t
    where t.subject in (
        select o.subject from auth.login_throttle o
        where o.last_failure_at < now() - make_interval(secs => (auth.login_throttle_settings())[5])
          and (o.blocked_until is null or o.blocked_until < now())
        limit max_rows
        for update skip locked);
$$;

-- pg_auth_ext::cookies::logout_cookies
CREATE OR REPLACE FUNCTION "logout_cookies"() RETURNS TEXT /* String */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'logout_cookies_wrapper';

-- pg_auth_ext::refresh::new_refresh_token
CREATE OR REPLACE FUNCTION "new_refresh_token"() RETURNS TEXT /* String */
STRICT VOLATILE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'new_refresh_token_wrapper';

-- pg_auth_ext::refresh::open_successor
CREATE OR REPLACE FUNCTION "open_successor"(
	"token" TEXT, /* & str */
	"sealed" bytea /* & [u8] */
) RETURNS TEXT /* Option < String > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'open_successor_wrapper';

-- pg_auth_ext::tokens::parse_session_id
CREATE OR REPLACE FUNCTION "parse_session_id"(
	"sid" TEXT /* & str */
) RETURNS uuid /* Option < pgrx :: Uuid > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'parse_session_id_wrapper';

-- pg_auth_ext::passwords::password_needs_rehash
CREATE OR REPLACE FUNCTION "password_needs_rehash"(
	"hash" TEXT /* & str */
) RETURNS bool /* bool */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'password_needs_rehash_wrapper';

-- pg_auth_ext::passwords::password_to_store
CREATE OR REPLACE FUNCTION "password_to_store"(
	"value" TEXT /* & str */
) RETURNS TEXT /* String */
STRICT VOLATILE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'password_to_store_wrapper';

-- pg_auth_ext::passwords::password_write_is_rehash
CREATE OR REPLACE FUNCTION "password_write_is_rehash"() RETURNS bool /* bool */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'password_write_is_rehash_wrapper';

-- What may be stored in auth.user, and what a change of it ends.

-- Why PostgREST must not run a user's requests as `role_`, or NULL when it
-- may: the role must exist, be granted to the role PostgREST logs in as
-- (pg_auth.authenticator_role), and be neither a superuser, nor a reserved
-- pg_* role, nor that login role itself.
create or replace function auth.role_problem(role_ name) returns text
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select case
        when r.oid is null then 'role ' || quote_ident(role_) || ' does not exist'
        when r.rolsuper then 'role ' || quote_ident(role_) || ' is a superuser'
        when r.rolname like 'pg\_%' then 'role ' || quote_ident(role_) || ' is a reserved pg_ role'
        when a.oid is null then 'the authenticator role ' || quote_ident(auth.authenticator_role())
                                || ' does not exist (pg_auth.authenticator_role)'
        when r.oid = a.oid then 'role ' || quote_ident(role_) || ' is the role PostgREST logs in as'
        when not pg_has_role(a.oid, r.oid, 'MEMBER') then
            'role ' || quote_ident(role_) || ' is not granted to ' || quote_ident(a.rolname)
    end
    from (select) as one
    left join pg_roles r on r.rolname = role_
    left join pg_roles a on a.rolname = auth.authenticator_role();
$$;

create or replace function auth.role_is_usable(role_ name) returns boolean
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select auth.role_problem(role_) is null;
$$;

-- New passwords are hashed in Rust; see auth.password_to_store for when an
-- existing hash is kept.
create or replace function auth.prepare_user() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if tg_op = 'INSERT' or new.password is distinct from old.password then
        new.password := auth.password_to_store(new.password);
    end if;
    return new;
end
$$;
create trigger prepare_user
    before insert or update on auth."user"
    for each row execute function auth.prepare_user();

create or replace function auth.check_user_role() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    problem text;
begin
    if tg_op = 'INSERT' or new.role is distinct from old.role then
        problem := auth.role_problem(new.role);
        if problem is not null then
            raise exception 'user %: %', new.username, problem
                using errcode = 'invalid_parameter_value',
                      hint = 'a user''s role must exist, be granted to the role PostgREST logs in as, and be neither a superuser nor a pg_* role';
        end if;
    end if;
    return null;
end
$$;
create constraint trigger check_user_role
    after insert or update on auth."user"
    for each row execute function auth.check_user_role();

-- A new password, role or name ends every session of the user: a stolen
-- session must not outlive a password reset, and a token must not keep a
-- role or an identity the account no longer has. A rehash at login (same
-- password) ends nothing.
create or replace function auth.end_sessions_on_account_change() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    reason text := case
        when new.username is distinct from old.username then 'username_changed'
        when new.password is distinct from old.password and not auth.password_write_is_rehash()
            then 'password_changed'
        when new.role is distinct from old.role then 'role_changed'
    end;
begin
    if reason is not null then
        update auth.session s set revoked_at = now(), end_reason = reason
        where s.username in (old.username, new.username) and s.revoked_at is null;
    end if;
    return null;
end
$$;
create trigger end_sessions_on_account_change
    after update on auth."user"
    for each row execute function auth.end_sessions_on_account_change();

-- pg_auth_ext::problems::problem
CREATE OR REPLACE FUNCTION "problem"(
	"slug" TEXT /* & str */
) RETURNS TEXT[] /* Vec < Option < String > > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'problem_wrapper';

-- pg_auth_ext::settings::sql::refresh_cookie_name
CREATE OR REPLACE FUNCTION "refresh_cookie_name"() RETURNS TEXT /* String */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'refresh_cookie_name_wrapper';

-- pg_auth_ext::settings::sql::refresh_min_interval
CREATE OR REPLACE FUNCTION "refresh_min_interval"() RETURNS interval /* Interval */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'refresh_min_interval_wrapper';

-- pg_auth_ext::settings::sql::refresh_reuse_grace
CREATE OR REPLACE FUNCTION "refresh_reuse_grace"() RETURNS interval /* Interval */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'refresh_reuse_grace_wrapper';

-- pg_auth_ext::settings::sql::refresh_token_history
CREATE OR REPLACE FUNCTION "refresh_token_history"() RETURNS INT /* i32 */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'refresh_token_history_wrapper';

-- pg_auth_ext::refresh::seal_successor
CREATE OR REPLACE FUNCTION "seal_successor"(
	"token" TEXT, /* & str */
	"successor" TEXT /* & str */
) RETURNS bytea /* Vec < u8 > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'seal_successor_wrapper';

-- pg_auth_ext::cookies::session_cookies
CREATE OR REPLACE FUNCTION "session_cookies"(
	"access_token" TEXT, /* & str */
	"refresh_token" TEXT, /* & str */
	"max_age" bigint /* i64 */
) RETURNS TEXT /* String */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'session_cookies_wrapper';

-- pg_auth_ext::settings::sql::session_idle_timeout
CREATE OR REPLACE FUNCTION "session_idle_timeout"() RETURNS interval /* Option < Interval > */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'session_idle_timeout_wrapper';

-- pg_auth_ext::settings::sql::session_lifetime
CREATE OR REPLACE FUNCTION "session_lifetime"() RETURNS interval /* Interval */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'session_lifetime_wrapper';

-- pg_auth_ext::tokens::session_of
CREATE OR REPLACE FUNCTION "session_of"(
	"access_token" TEXT /* & str */
) RETURNS uuid /* Option < pgrx :: Uuid > */
STRICT STABLE PARALLEL RESTRICTED
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'session_of_wrapper';

-- pg_auth_ext::tokens::sign_raw

CREATE OR REPLACE FUNCTION auth.sign_raw(payload json, secret text, algorithm text DEFAULT 'HS256')
RETURNS text IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c AS 'MODULE_PATHNAME', 'sign_raw_wrapper';

-- pg_auth_ext::settings::sql::signing_mode
CREATE OR REPLACE FUNCTION "signing_mode"() RETURNS TEXT /* & '_ str */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'signing_mode_wrapper';

-- pg_auth_ext::settings::sql::trusted_proxy_hops
CREATE OR REPLACE FUNCTION "trusted_proxy_hops"() RETURNS INT /* i32 */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'trusted_proxy_hops_wrapper';

-- Who is asking (for the audit trail, the login throttle and the session
-- list), and the audit trail itself.

-- The client's address: the X-Forwarded-For entry pg_auth.trusted_proxy_hops
-- places from the right. The proxy in front of PostgREST appends the address
-- of its peer (Envoy with use_remote_address, Caddy, Traefik, the shipped
-- nginx config), so whatever a client wrote itself stays to the left of it.
-- NULL when there is no such entry or it is not an address. No SET clause
-- here or below: these run with their caller's rights (never SECURITY
-- DEFINER), and without one PostgreSQL inlines them into the caller's
-- query, under the caller's pinned search_path, instead of switching
-- settings at every call (which made an audit row cost three times more).
create or replace function auth.client_address() returns inet
language sql stable as $$
    select auth.forwarded_address(
        nullif(current_setting('request.headers', true), '')::json ->> 'x-forwarded-for',
        auth.trusted_proxy_hops())::inet;
$$;

create or replace function auth.client_user_agent() returns text
language sql stable as $$
    select left(nullif(current_setting('request.headers', true), '')::json ->> 'user-agent', 512);
$$;

-- Records an event with the request's address and user agent (plpgsql:
-- its plan is cached, where a SQL function's would be made at every call).
create or replace function auth.audit(event text, username text, session_id uuid, details jsonb default null)
returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
begin
    if auth.audit_enabled() then
        insert into auth.audit_event (event, username, session_id, address, user_agent, details)
        values (audit.event, audit.username, audit.session_id, auth.client_address(),
                auth.client_user_agent(), audit.details);
    end if;
end
$$;

-- Key pairs that sign access tokens when pg_auth.signing_mode = 'keys'
-- (signing_keys.rs). A key's life: standby (published, not yet signing:
-- verifiers fetch it ahead of use), current (signs; exactly one), previous
-- (no longer signs; its tokens verify until they expire), revoked (gone
-- from the JWKS, its private key destroyed). The kid is the RFC 7638
-- thumbprint of the public key. Only the extension's owner reads this table;
-- the private keys are sealed under pg_auth.key_encryption_key_file.
create table auth.signing_key (
    kid text primary key,
    algorithm text not null check (algorithm in ('ES256', 'EdDSA')),
    state text not null check (state in ('standby', 'current', 'previous', 'revoked')),
    public_jwk jsonb not null,
    private_key bytea,
    created_at timestamptz not null default now(),
    activated_at timestamptz,
    retired_at timestamptz,
    revoked_at timestamptz,
    constraint signing_key_private_key_check check ((state = 'revoked') = (private_key is null))
);
create unique index signing_key_current_idx on auth.signing_key (state) where state = 'current';
-- pg_dump keeps the keys (sealed): restore them with the same key file.
select pg_catalog.pg_extension_config_dump('auth.signing_key', '');

-- The public keys verifiers need: standby, current and previous.
create or replace function auth.public_keys() returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select json_build_object('keys', coalesce(json_agg(k.public_jwk order by k.created_at), '[]'::json))
    from auth.signing_key k
    where k.state <> 'revoked';
$$;

-- The JWKS for the proxies' jwks_uri: GET /rpc/jwks with Accept-Profile:
-- auth (the shipped proxies also serve it at /.well-known/jwks.json).
create or replace function auth.jwks() returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform set_config('response.headers', '[{"Cache-Control": "public, max-age=30"}]', true);
    return auth.public_keys();
end
$$;

-- Gives PostgREST the keys it must accept, in this transaction: in keys mode
-- the JWKS as pgrst.jwt_secret of the authenticator role in this database
-- (public keys only: role settings are readable by every role), in secret
-- mode nothing there (PostgREST's own jwt-secret then applies). PostgREST
-- reloads on the notification, once this commits.
create or replace function auth.publish_jwks() returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    target text := format('alter role %I in database %I',
                          auth.authenticator_role(), pg_catalog.current_database());
begin
    if auth.signing_mode() = 'keys' then
        execute format('%s set pgrst.jwt_secret = %L', target, auth.public_keys()::text);
        execute format('%s set pgrst.jwt_secret_is_base64 = %L', target, 'false');
    else
        execute format('%s reset pgrst.jwt_secret', target);
        execute format('%s reset pgrst.jwt_secret_is_base64', target);
    end if;
    notify pgrst, 'reload config';
end
$$;

-- A new key pair; its kid. The first key (no key is current) becomes
-- current at once; later ones wait in standby for auth.rotate_signing_keys.
create or replace function auth.create_signing_key(algorithm text default 'ES256') returns text
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    generated record;
    first_key boolean;
begin
    lock table auth.signing_key in share row exclusive mode;
    select g.kid, g.public_jwk, g.sealed_private_key into generated
    from auth.generate_signing_key(create_signing_key.algorithm) g;
    first_key := not exists (select 1 from auth.signing_key k where k.state = 'current');
    insert into auth.signing_key (kid, algorithm, state, public_jwk, private_key, activated_at)
    values (generated.kid, create_signing_key.algorithm,
            case when first_key then 'current' else 'standby' end,
            generated.public_jwk, generated.sealed_private_key,
            case when first_key then now() end);
    perform auth.publish_jwks();
    perform auth.audit('signing_key_created', null, null, json_build_object(
        'kid', generated.kid, 'algorithm', create_signing_key.algorithm, 'current', first_key, 'by', session_user)::jsonb);
    return generated.kid;
end
$$;

-- The oldest standby key becomes current, the current one previous; the new
-- current kid. A standby key younger than pg_auth.key_rotation_delay is
-- refused: a verifier that has not fetched it yet would refuse its tokens.
-- force skips that wait (a compromised current key: rotate, then revoke it).
create or replace function auth.rotate_signing_keys(force boolean default false) returns text
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    next_key auth.signing_key;
begin
    lock table auth.signing_key in share row exclusive mode;
    select k.* into next_key from auth.signing_key k
    where k.state = 'standby' order by k.created_at limit 1;
    if next_key.kid is null then
        raise exception 'no standby signing key to rotate to'
            using errcode = 'object_not_in_prerequisite_state',
                  hint = 'SELECT auth.create_signing_key(''ES256''), then rotate once verifiers have fetched it';
    end if;
    if not force and next_key.created_at > now() - auth.key_rotation_delay() then
        raise exception 'standby signing key % was published % ago: verifiers may not have fetched it yet',
                next_key.kid, date_trunc('second', now() - next_key.created_at)
            using errcode = 'object_not_in_prerequisite_state',
                  hint = format('rotate after %s (pg_auth.key_rotation_delay), or with force => true in an emergency',
                                next_key.created_at + auth.key_rotation_delay());
    end if;
    update auth.signing_key k set state = 'previous', retired_at = now() where k.state = 'current';
    update auth.signing_key k set state = 'current', activated_at = now() where k.kid = next_key.kid;
    perform auth.publish_jwks();
    perform auth.audit('signing_key_rotated', null, null,
                       json_build_object('kid', next_key.kid, 'forced', force, 'by', session_user)::jsonb);
    return next_key.kid;
end
$$;

-- Takes a key out of the JWKS and destroys its private key: its tokens are
-- refused by PostgREST at once and by the proxies at their next JWKS fetch.
-- The current key cannot be revoked: rotate first.
create or replace function auth.revoke_signing_key(kid text) returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    target auth.signing_key;
begin
    lock table auth.signing_key in share row exclusive mode;
    select k.* into target from auth.signing_key k where k.kid = revoke_signing_key.kid;
    if target.kid is null then
        raise exception 'no signing key %', kid using errcode = 'no_data_found';
    end if;
    if target.state = 'current' then
        raise exception 'signing key % is current: rotate to another key first', kid
            using errcode = 'object_not_in_prerequisite_state',
                  hint = 'SELECT auth.create_signing_key(''ES256''); SELECT auth.rotate_signing_keys(force => true);';
    end if;
    update auth.signing_key k set state = 'revoked', private_key = null, revoked_at = now()
    where k.kid = target.kid and k.state <> 'revoked';
    perform auth.publish_jwks();
    perform auth.audit('signing_key_revoked', null, null, json_build_object('kid', kid, 'by', session_user)::jsonb);
end
$$;

-- pg_auth_ext::passwords::upgrade_password_hash
CREATE OR REPLACE FUNCTION "upgrade_password_hash"(
	"username" TEXT, /* & str */
	"password" TEXT /* & str */
) RETURNS void
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'upgrade_password_hash_wrapper';

-- pg_auth_ext::passwords::verify_password
CREATE OR REPLACE FUNCTION "verify_password"(
	"password" TEXT, /* Option < & str > */
	"hash" TEXT /* Option < & str > */
) RETURNS bool /* bool */
VOLATILE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'verify_password_wrapper';

-- The PostgREST RPCs. They answer through response.headers (Set-Cookie) and
-- read request.cookies; failures carry a slug in `details` (see
-- jwt_core::Problem). Every call inside is to a schema-qualified function
-- with arguments of exactly its parameter types, so that no other overload
-- can ever be a better match.

-- Raises the problem `slug`: PostgREST answers with its HTTP status.
create or replace function auth.fail(slug text) returns void
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
declare
    problem text[] := auth.problem(slug);
begin
    if problem[3] is null then
        raise exception using errcode = problem[1], message = problem[2], detail = slug;
    end if;
    raise exception using errcode = problem[1], message = problem[2], detail = slug, hint = problem[3];
end
$$;

-- The body PostgREST would answer for the problem `slug`, for an RPC that
-- must commit and so answers without raising.
create or replace function auth.problem_body(slug text) returns json
language sql stable set search_path = pg_catalog, pg_temp as $$
    select json_build_object('code', p[1], 'message', p[2], 'details', slug, 'hint', p[3])
    from (select auth.problem(slug) as p) problem;
$$;

-- Answers the problem `slug` without raising, for an RPC whose changes
-- (an ended session, a counted failure, an audit row) must commit.
create or replace function auth.problem_answer(slug text) returns json
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
begin
    perform set_config('response.status', substr((auth.problem(slug))[1], 3), true);
    return auth.problem_body(slug);
end
$$;

-- The 429 answer of a throttled attempt: committed (the audit row stays),
-- with Retry-After.
create or replace function auth.throttled_answer(wait integer) returns json
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
begin
    perform set_config('response.headers', json_build_array(json_build_object('Retry-After', wait::text))::text, true);
    return auth.problem_answer('throttled'::text);
end
$$;

-- A request cookie, or NULL. PostgREST 12 keeps only the last of two cookies
-- of one name (and does not pass the raw Cookie header on): the proxy
-- refuses such requests before they get here.
create or replace function auth.request_cookie(name text) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select nullif(nullif(current_setting('request.cookies', true), '')::json ->> name, '');
$$;

-- The RPCs' cookies describe what they commit: a request PostgREST would roll
-- back (Prefer: tx=rollback with db-tx-end = commit-allow-override) is
-- refused, or a rotation or logout would be undone behind the client's back.
create or replace function auth.require_commit() returns void
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
begin
    if nullif(current_setting('request.headers', true), '')::json ->> 'prefer' ~* 'tx\s*=\s*rollback' then
        perform auth.fail('rollback_refused'::text);
    end if;
end
$$;

-- Ends what no client can use any more, in one bounded batch that skips
-- rows in use: sessions past their lifetime, and ended sessions once their
-- access tokens have expired. Also forgets sealed successors past the grace
-- window. Returns the number of sessions removed.
create or replace function auth.cleanup_expired_sessions(max_rows integer default 1000) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    removed integer;
begin
    with doomed as (
        select s.id from auth.session s
        where s.expires_at < now() or s.revoked_at < now() - auth.access_token_ttl()
           or s.refreshed_at < now() - auth.session_idle_timeout() - auth.access_token_ttl()
        limit max_rows
        for update skip locked
    ), gone as (
        delete from auth.session s using doomed where s.id = doomed.id returning 1
    )
    select count(*)::integer into removed from gone;
    update auth.refresh_token t set successor = null
    where t.token_hash in (
        select o.token_hash from auth.refresh_token o
        where o.successor is not null and o.rotated_at < now() - auth.refresh_reuse_grace()
        limit max_rows
        for update skip locked);
    perform auth.prune_login_throttle(max_rows);
    delete from auth.audit_event a
    where a.ctid in (select o.ctid from auth.audit_event o where o.at < now() - auth.audit_retention()
                     limit max_rows);
    return removed;
end
$$;

-- The claims pg_auth.custom_claims_function adds for a user (NULL: none).
-- The function is the administrator's: it runs as this extension's owner,
-- and any error in it fails the login or refresh with its message.
create or replace function auth.custom_claims(username text) returns jsonb
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    named text := auth.custom_claims_function();
    claims_function regprocedure;
    result jsonb;
begin
    if named is null then
        return null;
    end if;
    claims_function := to_regprocedure(named || '(text)');
    if claims_function is null
       or (select p.prorettype from pg_proc p where p.oid = claims_function) <> 'jsonb'::regtype then
        raise exception 'pg_auth.custom_claims_function: no function %(text) returning jsonb', named
            using errcode = 'config_file_error';
    end if;
    -- Called from here it would run with this extension's privileges: whoever
    -- owns it could then act as a superuser by changing its body.
    if not exists (select from pg_proc p join pg_roles r on r.oid = p.proowner
                   where p.oid = claims_function and (p.prosecdef or r.rolsuper)) then
        raise exception 'pg_auth.custom_claims_function %(text) must be owned by a superuser or be SECURITY DEFINER', named
            using errcode = 'config_file_error';
    end if;
    begin
        execute format('select %s($1)', claims_function::regproc) using username into result;
    exception when others then
        raise exception 'pg_auth.custom_claims_function %(text) failed for user %: %', named, username, sqlerrm
            using errcode = 'config_file_error';
    end;
    return result;
end
$$;

-- Answers with both cookies of a session.
create or replace function auth.issue_session_cookies(session_ auth.session, role_ name, refresh text) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform set_config('response.headers', auth.session_cookies(
        auth.access_token(role_::text, session_.username, session_.id, auth.custom_claims(session_.username)),
        refresh,
        extract(epoch from session_.expires_at - now())::bigint), true);
end
$$;

-- Who is signed in: the claims of the request's access token, and its
-- session. For the app (the cookie is HttpOnly): GET /rpc/me with
-- Accept-Profile: auth.
create or replace function auth.me() returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    claims json := nullif(current_setting('request.jwt.claims', true), '')::json;
    current_session auth.session;
begin
    if claims ->> 'sid' is null then
        perform auth.fail('missing'::text);
    end if;
    select s.* into current_session from auth.session s where s.id = auth.parse_session_id(claims ->> 'sid');
    return json_build_object(
        'username', claims ->> 'username',
        'role', claims ->> 'role',
        'session_id', current_session.id,
        'session_created_at', current_session.created_at,
        'session_expires_at', current_session.expires_at,
        'access_token_expires_at', to_timestamp((claims ->> 'exp')::double precision),
        'claims', claims);
end
$$;

-- Answers 204 with both cookies, or (committed, so that the failure counts
-- and is audited) 401 invalid_credentials, 403 account_unusable, or 429
-- throttled with Retry-After, the same for unknown and known usernames.
create or replace function auth.login(user_ text, pass text) returns json
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    account auth."user";
    new_session auth.session;
    refresh text := auth.new_refresh_token();
    address inet := auth.client_address();
    wait integer;
begin
    perform auth.require_commit();
    wait := auth.login_wait(user_, address);
    if wait > 0 then
        perform auth.audit('login_throttled', left(user_, 512), null, json_build_object('retry_after', wait)::jsonb);
        return auth.throttled_answer(wait);
    end if;
    select * into account from auth."user" u where u.username = user_;
    -- The same bcrypt work whether the user exists or not, whatever the
    -- stored hash's cost: no user oracle.
    if not auth.verify_password(pass, account.password) or account.username is null then
        perform auth.record_login_failure(user_, address);
        perform auth.audit('login_failed', left(user_, 512), null);
        return auth.problem_answer('invalid_credentials'::text);
    end if;
    if not auth.role_is_usable(account.role) then
        perform auth.audit('login_failed', account.username, null, '{"reason": "account_unusable"}'::jsonb);
        return auth.problem_answer('account_unusable'::text);
    end if;
    perform auth.record_login_success(account.username);
    if auth.password_needs_rehash(account.password) then
        perform auth.upgrade_password_hash(account.username, pass);
    end if;
    perform auth.cleanup_expired_sessions(10);
    insert into auth.session (username, expires_at, login_address, login_user_agent)
    values (account.username, now() + auth.session_lifetime(), address, auth.client_user_agent())
    returning * into new_session;
    insert into auth.refresh_token (token_hash, session_id)
    values (auth.hash_token(refresh), new_session.id);
    perform auth.audit('login', account.username, new_session.id);
    perform auth.issue_session_cookies(new_session, account.role, refresh);
    perform set_config('response.status', '204', true);
    return null;
end
$$;

-- Rotation: a current token is exchanged for a new one, unless it was
-- issued less than pg_auth.refresh_min_interval ago (then it is kept, and
-- no row is added). A rotated token presented within the grace window gets
-- the successor it was rotated to (every tab ends up on one chain); after
-- it, the token was stolen or the client is broken: the session ends.
-- Answers 204 and no body (NULL), or 401 with the refresh_reused problem.
create or replace function auth.refresh_token() returns json
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    presented text := auth.request_cookie(auth.refresh_cookie_name());
    presented_hash bytea := auth.hash_token(coalesce(presented, ''));
    current_session auth.session;
    token auth.refresh_token;
    role_ name;
    answer text;
begin
    perform auth.require_commit();
    -- One lock order everywhere: the session, then its tokens (as the
    -- cascades of a user or session deletion take them).
    select s.* into current_session from auth.session s
    where s.id = (select t.session_id from auth.refresh_token t where t.token_hash = presented_hash)
    for update;
    select t.* into token from auth.refresh_token t where t.token_hash = presented_hash for update;
    if token.token_hash is null or current_session.id is null
       or current_session.revoked_at is not null or current_session.expires_at <= now() then
        perform auth.fail('invalid_refresh_token'::text);
    end if;

    if token.rotated_at is not null and token.rotated_at < now() - auth.refresh_reuse_grace() then
        -- This must commit, so answer 401 without raising.
        update auth.session s set revoked_at = now(), end_reason = 'refresh_reused'
        where s.id = current_session.id;
        perform auth.audit('refresh_reused', current_session.username, current_session.id);
        perform set_config('response.headers', auth.logout_cookies(), true);
        return auth.problem_answer('refresh_reused'::text);
    end if;
    if current_session.refreshed_at < now() - auth.session_idle_timeout() then
        update auth.session s set revoked_at = now(), end_reason = 'idle' where s.id = current_session.id;
        perform auth.audit('session_ended', current_session.username, current_session.id, '{"reason": "idle"}'::jsonb);
        perform set_config('response.headers', auth.logout_cookies(), true);
        return auth.problem_answer('invalid_refresh_token'::text);
    end if;

    select u.role into role_ from auth."user" u where u.username = current_session.username;
    if not auth.role_is_usable(role_) then
        perform auth.fail('account_unusable'::text);
    end if;

    if token.rotated_at is not null then
        answer := auth.open_successor(presented, token.successor);
        if answer is null then
            perform auth.fail('invalid_refresh_token'::text);
        end if;
    elsif token.created_at > now() - auth.refresh_min_interval() then
        answer := presented;
    else
        answer := auth.new_refresh_token();
        insert into auth.refresh_token (token_hash, session_id)
        values (auth.hash_token(answer), current_session.id);
        update auth.refresh_token t
        set rotated_at = now(), successor = auth.seal_successor(presented, answer)
        where t.token_hash = presented_hash;
        perform auth.prune_refresh_tokens(current_session.id);
    end if;
    update auth.session s
    set refreshed_at = now(), refreshed_address = auth.client_address(), refreshed_user_agent = auth.client_user_agent()
    where s.id = current_session.id;
    perform auth.audit('refresh', current_session.username, current_session.id);
    perform auth.issue_session_cookies(current_session, role_, answer);
    perform set_config('response.status', '204', true);
    return null;
end
$$;

-- Keeps a session's rotation history bounded: the newest
-- pg_auth.refresh_token_history rotated tokens stay to detect their reuse
-- (older ones are simply invalid), and successors past the grace window
-- are forgotten.
create or replace function auth.prune_refresh_tokens(session_id uuid) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    delete from auth.refresh_token t
    where t.session_id = prune_refresh_tokens.session_id and t.rotated_at is not null
      and t.token_hash not in (
          select r.token_hash from auth.refresh_token r
          where r.session_id = prune_refresh_tokens.session_id and r.rotated_at is not null
          order by r.rotated_at desc
          limit auth.refresh_token_history());
    update auth.refresh_token t set successor = null
    where t.session_id = prune_refresh_tokens.session_id and t.successor is not null
      and t.rotated_at < now() - auth.refresh_reuse_grace();
end
$$;

-- Ends the session server-side and removes both cookies. The session comes
-- from the verified JWT claims (a valid access cookie forwarded as Bearer),
-- from the access cookie itself (its signature is checked even if it has
-- expired), or from a refresh cookie. scope: 'local' (this session),
-- 'others' (the user's other sessions; this one and its cookies stay) or
-- 'global' (all of the user's sessions).
create or replace function auth.logout(scope text default 'local') returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    claimed uuid := auth.parse_session_id(
        nullif(current_setting('request.jwt.claims', true), '')::json ->> 'sid');
    from_access uuid := auth.session_of(auth.request_cookie(auth.access_cookie_name()));
    from_refresh uuid := (
        select t.session_id from auth.refresh_token t
        where t.token_hash = auth.hash_token(auth.request_cookie(auth.refresh_cookie_name())));
    own auth.session;
begin
    perform auth.require_commit();
    if scope is null or scope not in ('local', 'others', 'global') then
        raise exception 'logout scope must be local, others or global' using errcode = 'invalid_parameter_value';
    end if;
    select s.* into own from auth.session s
    where s.id in (claimed, from_access, from_refresh) and s.revoked_at is null
    order by s.id = claimed desc limit 1;
    if scope in ('others', 'global') and own.id is not null then
        update auth.session s set revoked_at = now(), end_reason = 'signed_out_elsewhere'
        where s.username = own.username and s.id <> own.id and s.revoked_at is null;
    end if;
    if scope in ('local', 'global') then
        update auth.session s set revoked_at = now(), end_reason = 'logout'
        where s.revoked_at is null and s.id in (claimed, from_access, from_refresh);
        perform set_config('response.headers', auth.logout_cookies(), true);
    end if;
    if own.id is not null then
        perform auth.audit('logout', own.username, own.id, json_build_object('scope', scope)::jsonb);
    end if;
end
$$;

-- For PostgREST's db-pre-request: refuses access tokens of ended sessions
-- (logout, reuse, password, role or name change) at once rather than when
-- they expire, and tokens whose user is not the session's. The auth RPCs
-- themselves are exempt: a browser holding the access cookie of an ended
-- session must still be able to log in again and to log out.
create or replace function auth.check_session() returns void
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    claims json := nullif(current_setting('request.jwt.claims', true), '')::json;
    sid text := claims ->> 'sid';
begin
    if sid is null
       or current_setting('request.path', true) in ('/rpc/login', '/rpc/logout', '/rpc/refresh_token') then
        return;
    end if;
    if not exists (select 1 from auth.session s
                   where s.id = auth.parse_session_id(sid)
                     and s.username = claims ->> 'sub'
                     and s.revoked_at is null and s.expires_at > now()
                     and (auth.session_idle_timeout() is null
                          or s.refreshed_at >= now() - auth.session_idle_timeout())) then
        perform auth.fail('session_ended'::text);
    end if;
end
$$;

-- Sessions users can see and end, and password changes.

-- The signed-in user's session (from the verified access token), or the
-- problem `missing`.
create or replace function auth.current_session() returns auth.session
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    claims json := nullif(current_setting('request.jwt.claims', true), '')::json;
    found auth.session;
begin
    select s.* into found from auth.session s
    where s.id = auth.parse_session_id(claims ->> 'sid') and s.username = claims ->> 'sub'
      and s.revoked_at is null and s.expires_at > now();
    if found.id is null then
        perform auth.fail(case when claims ->> 'sid' is null then 'missing' else 'session_ended' end);
    end if;
    return found;
end
$$;

-- The signed-in user's sessions that can still be refreshed, newest
-- first: GET /rpc/sessions with Accept-Profile: auth.
create or replace function auth.sessions()
returns table (id uuid, created_at timestamptz, refreshed_at timestamptz, expires_at timestamptz,
               login_address inet, login_user_agent text, refreshed_address inet,
               refreshed_user_agent text, current boolean)
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.current_session();
begin
    return query
        select s.id, s.created_at, s.refreshed_at, s.expires_at, s.login_address, s.login_user_agent,
               s.refreshed_address, s.refreshed_user_agent, s.id = own.id
        from auth.session s
        where s.username = own.username and s.revoked_at is null and s.expires_at > now()
          and (auth.session_idle_timeout() is null or s.refreshed_at >= now() - auth.session_idle_timeout())
        order by s.created_at desc;
end
$$;

-- Ends one of the signed-in user's sessions. Another user's session id is
-- "not found", exactly like an id that does not exist.
create or replace function auth.end_session(id uuid) returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.current_session();
    ended uuid;
begin
    perform auth.require_commit();
    update auth.session s set revoked_at = now(), end_reason = 'ended_by_user'
    where s.id = end_session.id and s.username = own.username and s.revoked_at is null
    returning s.id into ended;
    if ended is null then
        perform auth.fail('session_not_found'::text);
    end if;
    perform auth.audit('session_ended', own.username, ended, '{"by": "user"}'::jsonb);
    if ended = own.id then
        perform set_config('response.headers', auth.logout_cookies(), true);
    end if;
end
$$;

-- For administrators (not granted to web roles): ends every session of a
-- user; the number ended.
create or replace function auth.end_user_sessions(username text) returns integer
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    ended integer;
begin
    update auth.session s set revoked_at = now(), end_reason = 'ended_by_admin'
    where s.username = end_user_sessions.username and s.revoked_at is null;
    get diagnostics ended = row_count;
    perform auth.audit('session_ended', username, null,
                       json_build_object('by', 'admin', 'admin', session_user, 'sessions', ended)::jsonb);
    return ended;
end
$$;

-- The signed-in user's new password, given the current one; every other
-- session of the user ends (a thief's among them), this one stays. Wrong
-- current passwords count toward the login throttle, so a stolen session
-- cannot guess the password faster than the login form.
create or replace function auth.change_password(old_pass text, new_pass text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.current_session();
    address inet := auth.client_address();
    stored text;
    wait integer;
begin
    perform auth.require_commit();
    wait := auth.login_wait(own.username, address);
    if wait > 0 then
        return auth.throttled_answer(wait);
    end if;
    select u.password into stored from auth."user" u where u.username = own.username;
    if not auth.verify_password(old_pass, stored) then
        perform auth.record_login_failure(own.username, address);
        perform auth.audit('login_failed', own.username, own.id, '{"during": "change_password"}'::jsonb);
        return auth.problem_answer('invalid_credentials'::text);
    end if;
    -- The account trigger ends every session on a new password; this one
    -- is then taken back.
    update auth."user" u set password = new_pass where u.username = own.username;
    update auth.session s set revoked_at = null, end_reason = null where s.id = own.id;
    perform auth.audit('password_changed', own.username, own.id);
    perform set_config('response.status', '204', true);
    return null;
end
$$;

-- For the proxies (revocation_uri in their configuration): the sessions
-- ended since `since` (Unix seconds; NULL: all whose tokens may still be
-- valid), each with the time its last access token expires, and the
-- database's now for the next call. The proxies then refuse those tokens
-- without PostgREST's per-request auth.check_session. Nothing secret (ids
-- of sessions that can no longer do anything), but the shipped proxies
-- never serve it to clients.
create or replace function auth.ended_sessions(since double precision default null) returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select json_build_object(
        'now', extract(epoch from now()),
        'sessions', coalesce(json_agg(json_build_object(
            'sid', s.id,
            'until', extract(epoch from s.revoked_at + auth.access_token_ttl()))), '[]'::json))
    from auth.session s
    where s.revoked_at > now() - auth.access_token_ttl()
      and (since is null or s.revoked_at >= to_timestamp(since));
$$;

-- Nothing in schema auth is usable by PUBLIC: the deployment grants the RPCs
-- (login, logout, refresh_token and check_session) to its own roles.
revoke all on all functions in schema auth from public;
revoke all on all tables in schema auth from public;
revoke all on all sequences in schema auth from public;
revoke all on schema auth from public;

-- Nor is anything created in schema auth later (an upgrade, an
-- administrator's helper): PostgreSQL grants EXECUTE on every new function
-- to PUBLIC, which through PostgREST means to every visitor.
create or replace function auth.revoke_public_on_new_objects() returns event_trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    created record;
begin
    for created in
        select c.object_type, c.object_identity from pg_event_trigger_ddl_commands() c
        where c.schema_name = 'auth'
          and c.object_type in ('function', 'procedure', 'table', 'view', 'materialized view', 'sequence')
    loop
        execute format('revoke all on %s %s from public',
            case created.object_type
                when 'function' then 'function'
                when 'procedure' then 'procedure'
                when 'sequence' then 'sequence'
                else 'table'
            end,
            created.object_identity);
    end loop;
end
$$;
revoke all on function auth.revoke_public_on_new_objects() from public;
create event trigger auth_revoke_public_on_new_objects on ddl_command_end
    when tag in ('CREATE FUNCTION', 'CREATE PROCEDURE', 'CREATE TABLE', 'CREATE TABLE AS',
                 'SELECT INTO', 'CREATE VIEW', 'CREATE MATERIALIZED VIEW', 'CREATE SEQUENCE')
    execute function auth.revoke_public_on_new_objects();

-- The grants the deployment gave the RPCs whose signature or result
-- changed (to anon and the token roles), on the new ones.
do $$
declare
    renamed record;
    grant_ record;
begin
    for renamed in
        select * from (values ('auth.refresh_token_0_1_0()', 'auth.refresh_token()'),
                              ('auth.login_0_1_0(text, text)', 'auth.login(text, text)'),
                              ('auth.logout_0_1_0()', 'auth.logout(text)')) r(old, new)
    loop
        for grant_ in
            select acl.grantee::regrole::text as grantee
            from pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) acl
            where p.oid = renamed.old::pg_catalog.regprocedure
              and acl.privilege_type = 'EXECUTE' and acl.grantee not in (0, p.proowner)
        loop
            execute pg_catalog.format('grant execute on function %s to %s', renamed.new, grant_.grantee);
        end loop;
    end loop;
end
$$;
drop function auth.refresh_token_0_1_0();
drop function auth.login_0_1_0(text, text);
drop function auth.logout_0_1_0();

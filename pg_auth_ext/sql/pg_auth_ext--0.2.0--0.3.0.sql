-- pg_auth_ext 0.2.0 to 0.3.0, run by ALTER EXTENSION pg_auth_ext UPDATE
-- (docs/extension.md "Upgrade": the 0.3.0 library must be installed and loaded first).
-- Frozen once released: later versions add their own scripts.
\echo Use "ALTER EXTENSION pg_auth_ext UPDATE" to load this file. \quit

-- The login throttle counts (username, address) pairs and IPv6 networks,
-- and throttled attempts during a wait (one audit row per wait).
alter table auth.login_throttle add column refused integer not null default 0;
drop function auth.throttle_subjects(text, inet);
drop function auth.record_login_success(text);
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

-- Every function below as install_sql has it now (generate.py writes them).
-- Whether a session can still be used: not ended, within its lifetime,
-- and refreshed within pg_auth.session_idle_timeout. The one liveness rule
-- (no SET clause: inlined into its callers' queries, which pin search_path).
create or replace function auth.session_is_live(s auth.session) returns boolean
language sql stable as $$
    select s.revoked_at is null and s.expires_at > now()
       and (auth.session_idle_timeout() is null or s.refreshed_at >= now() - auth.session_idle_timeout());
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
    if sid is null or current_setting('request.path', true) = any(auth.auth_rpc_paths()) then
        return;
    end if;
    if not exists (select 1 from auth.session s
                   where s.id = auth.parse_session_id(sid)
                     and s.username = claims ->> 'sub'
                     and auth.session_is_live(s)) then
        perform auth.fail('session_ended'::text);
    end if;
end
$$;

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
      and auth.session_is_live(s);
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
        where s.username = own.username and auth.session_is_live(s)
        order by s.created_at desc;
end
$$;

-- The JWKS for the proxies' jwks_uri: GET /rpc/jwks with Accept-Profile:
-- auth (the shipped proxies also serve it at /.well-known/jwks.json). In
-- secret mode it says so ("shared_secret": true): the proxies then accept
-- tokens without kid beside those of the keys listed (which they learn
-- before a switch to key pairs), and refuse them once it is gone, as
-- PostgREST does.
create or replace function auth.jwks() returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform set_config('response.headers', '[{"Cache-Control": "public, max-age=30"}]', true);
    if auth.signing_mode() = 'secret' then
        return (auth.public_keys()::jsonb || '{"shared_secret": true}'::jsonb)::json;
    end if;
    return auth.public_keys();
end
$$;

-- The key an address is counted under, or NULL for no address.
create or replace function auth.address_key(address inet) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select case
        when family(address) = 4 then host(address)
        when address << '::ffff:0.0.0.0/96'::inet then host('0.0.0.0'::inet + (address - '::ffff:0.0.0.0'::inet))
        else text(network(set_masklen(address, auth.address_prefix_v6())))
    end;
$$;

-- doubling: the wait doubles at each further failure (pairs and
-- addresses), or stays the first delay (usernames).
create or replace function auth.throttle_subjects(user_ text, address inet)
returns table (subject text, max_failures integer, doubling boolean)
language sql stable set search_path = pg_catalog, pg_temp as $$
    select s.subject, s.max_failures, s.doubling
    from (select auth.login_throttle_settings() as t, auth.address_key(address) as a, left(user_, 512) as u) c,
         lateral (values ('pair:' || coalesce(c.a, '-') || ' ' || c.u, c.t[1], true),
                         ('address:' || c.a, c.t[2], true),
                         ('user:' || c.u, c.t[1] * 10, false)) s(subject, max_failures, doubling)
    where s.subject is not null and s.max_failures > 0;
$$;

-- Seconds until a login for `user_` from `address` may be tried, 0 if now.
create or replace function auth.login_wait(user_ text, address inet) returns integer
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select coalesce(ceil(extract(epoch from max(t.blocked_until) - now()))::integer, 0)
    from auth.login_throttle t
    join auth.throttle_subjects(user_, address) s on s.subject = t.subject
    where t.blocked_until > now()
      and (s.doubling or not exists (
          select from auth.session x where x.username = user_ and x.login_address = address));
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
        set blocked_until = now() + make_interval(secs => case when counted.doubling then least(
                settings[4]::double precision,
                settings[3] * power(2::double precision, least(t.failures - counted.max_failures, 30)))
                else settings[3] end),
            refused = 0
        where t.subject = counted.subject and t.failures >= counted.max_failures;
    end loop;
end
$$;

-- Counts a throttled attempt on the subjects that refused it; true for the
-- first of their current wait, which alone is audited (a flood of throttled
-- attempts writes one row per wait, not one per attempt).
create or replace function auth.record_login_refused(user_ text, address inet) returns boolean
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    with counted as (
        update auth.login_throttle t set refused = t.refused + 1
        where t.subject in (select s.subject from auth.throttle_subjects(user_, address) s)
          and t.blocked_until > now()
        returning t.refused)
    select coalesce(bool_or(c.refused = 1), false) from counted c;
$$;

-- A successful login forgets the username's failures and the pair's (not
-- the address's: one good account must not let an address guess the others').
create or replace function auth.record_login_success(user_ text, address inet) returns void
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    delete from auth.login_throttle t
    where t.subject in (select s.subject from auth.throttle_subjects(user_, address) s
                        where s.subject not like 'address:%');
$$;

-- pg_dump carries no per-database role settings: in a restored database
-- PostgREST has no JWKS and refuses every token. The first token issued
-- there (a login or a refresh) publishes it, so a restore needs no manual
-- step. One catalog look-up per token issued.
create or replace function auth.jwks_is_published() returns boolean
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select exists (
        select from pg_db_role_setting s
        where s.setrole = (select r.oid from pg_roles r where r.rolname = auth.authenticator_role())
          and s.setdatabase = (select d.oid from pg_database d where d.datname = pg_catalog.current_database())
          and exists (select from unnest(s.setconfig) c where c like 'pgrst.jwt_secret=%'));
$$;

create or replace function auth.ensure_jwks_published() returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
begin
    if auth.signing_mode() <> 'keys' or auth.jwks_is_published() then
        return;
    end if;
    -- Concurrent first logins publish once.
    perform pg_advisory_xact_lock(hashtext('pg_auth.publish_jwks'));
    if not auth.jwks_is_published() then
        perform auth.publish_jwks();
    end if;
end
$$;

-- Revokes the previous keys whose last token has expired (they left the
-- current state more than pg_auth.access_token_ttl, plus PostgREST's 30 s
-- skew, ago), so that keys do not pile up in the JWKS; run by key creation
-- and rotation and by auth.cleanup_expired_sessions. How many it revoked.
create or replace function auth.retire_expired_keys() returns integer
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    retired text[];
begin
    if not exists (select from auth.signing_key k
                   where k.state = 'previous'
                     and k.retired_at < now() - auth.access_token_ttl() - interval '30 seconds') then
        return 0;
    end if;
    lock table auth.signing_key in share row exclusive mode;
    with gone as (
        update auth.signing_key k set state = 'revoked', revoked_at = now()
        where k.state = 'previous' and k.retired_at < now() - auth.access_token_ttl() - interval '30 seconds'
        returning k.kid)
    select array_agg(g.kid) into retired from gone g;
    if retired is null then
        return 0;
    end if;
    perform auth.publish_jwks();
    perform auth.audit('signing_key_revoked', null, null,
                       json_build_object('kids', retired, 'reason', 'expired')::jsonb);
    return cardinality(retired);
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
        perform auth.check_jwks(auth.public_keys()::text);
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
    perform auth.retire_expired_keys();
    if (select count(*) from auth.signing_key k where k.state <> 'revoked') >= auth.max_published_keys() then
        raise exception 'already % published signing keys, the most a JWKS may hold', auth.max_published_keys()
            using errcode = 'object_not_in_prerequisite_state',
                  hint = 'revoke standby or previous keys with auth.revoke_signing_key(kid)';
    end if;
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
    perform auth.retire_expired_keys();
    update auth.signing_key k set state = 'previous', retired_at = now(), private_key = null
    where k.state = 'current';
    update auth.signing_key k set state = 'current', activated_at = now() where k.kid = next_key.kid;
    perform auth.publish_jwks();
    perform auth.audit('signing_key_rotated', null, null,
                       json_build_object('kid', next_key.kid, 'forced', force, 'by', session_user)::jsonb);
    return next_key.kid;
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
    perform auth.retire_expired_keys();
    delete from auth.audit_event a
    where a.ctid in (select o.ctid from auth.audit_event o where o.at < now() - auth.audit_retention()
                     limit max_rows);
    return removed;
end
$$;

-- For the proxies (revocation_uri in their configuration): the sessions
-- ended since `since` (Unix seconds; NULL: all whose tokens may still be
-- valid), each with the time its last access token expires, and the
-- database's now for the next call. The proxies then refuse those tokens
-- without PostgREST's per-request auth.check_session. Sessions that
-- pg_auth.session_idle_timeout ended (no statement marks them) are listed
-- from the moment they went idle while their last token is valid, which
-- happens only with a timeout shorter than pg_auth.access_token_ttl.
-- Nothing secret (ids of sessions that can no longer do anything), but the
-- shipped proxies never serve it to clients.
create or replace function auth.ended_sessions(since double precision default null) returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    with ended as (
        select s.id, s.revoked_at + auth.access_token_ttl() as until
        from auth.session s
        where s.revoked_at > now() - auth.access_token_ttl()
          and (since is null or s.revoked_at >= to_timestamp(since))
        union all
        select s.id, s.refreshed_at + auth.access_token_ttl()
        from auth.session s
        where auth.session_idle_timeout() is not null
          and s.revoked_at is null
          and s.refreshed_at > now() - auth.access_token_ttl()
          and s.refreshed_at < now() - auth.session_idle_timeout()
          and (since is null or s.refreshed_at + auth.session_idle_timeout() >= to_timestamp(since)))
    select json_build_object(
        'now', extract(epoch from now()),
        'sessions', coalesce(json_agg(json_build_object(
            'sid', e.id,
            'until', extract(epoch from e.until))), '[]'::json))
    from ended e;
$$;

-- After the key-encryption key file changed (pg_auth.key_encryption_key_file
-- names the new one): every private key still kept, sealed under the old
-- file `old_key_file`, is sealed again under the new one. How many. Only
-- the extension's owner may call it (it reads a file the server can read).
create or replace function auth.reseal_signing_keys(old_key_file text) returns integer
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    resealed integer;
begin
    lock table auth.signing_key in share row exclusive mode;
    update auth.signing_key k
    set private_key = auth.reseal_private_key(k.kid, k.algorithm, k.private_key, old_key_file)
    where k.private_key is not null;
    get diagnostics resealed = row_count;
    return resealed;
end
$$;

-- Answers with both cookies of a session.
create or replace function auth.issue_session_cookies(session_ auth.session, role_ name, refresh text) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform auth.ensure_jwks_published();
    perform set_config('response.headers', auth.session_cookies(
        auth.access_token(role_::text, session_.username, session_.id, auth.custom_claims(session_.username)),
        refresh,
        extract(epoch from session_.expires_at - now())::bigint), true);
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
        if auth.record_login_refused(user_, address) then
            perform auth.audit('login_throttled', left(user_, 512), null, json_build_object('retry_after', wait)::jsonb);
        end if;
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
    perform auth.record_login_success(account.username, address);
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

-- Ends the session server-side and removes both cookies. The session comes
-- from the verified JWT claims (a valid access cookie forwarded as Bearer),
-- from the access cookie itself (its signature is checked even if it has
-- expired), or from a refresh cookie. scope: 'local' (this session),
-- 'others' (the user's other sessions; this one and its cookies stay) or
-- 'global' (all of the user's sessions). Ending other sessions takes a live
-- credential: an access token within its exp, or a refresh token; an old
-- access token ends only its own session.
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
    live boolean;
begin
    perform auth.require_commit();
    if scope is null or scope not in ('local', 'others', 'global') then
        raise exception 'logout scope must be local, others or global' using errcode = 'invalid_parameter_value';
    end if;
    select s.* into own from auth.session s
    where s.id in (claimed, auth.live_session_of(auth.request_cookie(auth.access_cookie_name())), from_refresh)
      and s.revoked_at is null
    order by s.id = claimed desc limit 1;
    live := own.id is not null;
    if not live then
        -- An old access token still names (and ends) its own session.
        select s.* into own from auth.session s
        where s.id in (from_access, from_refresh) and s.revoked_at is null limit 1;
    end if;
    if scope in ('others', 'global') and live then
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

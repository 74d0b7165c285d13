-- The schema changes of 0.2.0 (released: frozen). generate.py builds every
-- upgrade script from the migrations since its version, with the code of
-- install_sql as it is now where `-- @code` stands.

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

-- The C functions of 0.2.0. CREATE OR REPLACE keeps the grants given to
-- those that kept their signature.
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

-- Sessions users can see and end, and password changes.

-- @code

create trigger prepare_user
    before insert or update on auth."user"
    for each row execute function auth.prepare_user();
create constraint trigger check_user_role
    after insert or update on auth."user"
    for each row execute function auth.check_user_role();
create trigger end_sessions_on_account_change
    after update on auth."user"
    for each row execute function auth.end_sessions_on_account_change();
-- Nothing in schema auth is usable by PUBLIC: the deployment grants the RPCs
-- (login, logout, refresh_token and check_session) to its own roles.
revoke all on all functions in schema auth from public;
revoke all on all tables in schema auth from public;
revoke all on all sequences in schema auth from public;
revoke all on schema auth from public;
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

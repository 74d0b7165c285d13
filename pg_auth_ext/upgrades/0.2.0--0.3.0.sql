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

-- @code

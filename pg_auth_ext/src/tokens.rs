//! JWT signing for SQL: `sign_raw` and `generate_access_token` of the
//! plpgsql + caddy-jwt setup, and the access tokens of sessions.

use jwt_core::{Algorithm, Key};
use pgrx::prelude::*;

use crate::error::{AuthError, OrRaise};
use crate::settings;
use crate::signing_keys::{self, Signer};

/// Larger payloads are refused: a token this size fits in no cookie, and a
/// payload near 1 GB would make the encoded token exceed what Postgres can
/// allocate, which aborts the backend.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// Signs `payload` exactly as written, with the legacy setup's rule for the
/// secret (decoded when it looks like base64) and its header: byte-identical
/// output. Unlike the old plpgsql, an unknown algorithm or a key under 32
/// bytes is an error.
///
/// The SQL argument is `json`, read here as its text: a `json` datum is the
/// text as written, which is exactly what must be signed.
#[pg_extern(
    immutable,
    parallel_safe,
    sql = r#"
CREATE FUNCTION auth.sign_raw(payload json, secret text, algorithm text DEFAULT 'HS256')
RETURNS text IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c AS 'MODULE_PATHNAME', 'sign_raw_wrapper';
"#
)]
fn sign_raw(payload: &str, secret: &str, algorithm: &str) -> String {
    if payload.len() > MAX_PAYLOAD_BYTES {
        AuthError::PayloadTooLarge {
            bytes: payload.len(),
            max: MAX_PAYLOAD_BYTES,
        }
        .raise();
    }
    let algorithm: Algorithm = algorithm
        .parse()
        .map_err(AuthError::UnknownAlgorithm)
        .or_raise();
    let key = Key::from_legacy_secret(secret)
        .and_then(|key| key.check_for(algorithm).map(|()| key))
        .map_err(AuthError::SecretArgument)
        .or_raise();
    jwt_core::sign(algorithm, &key, payload)
}

/// The legacy setup's access token (role, username, sub, exp) plus `iat`, and
/// `aud`/`iss` when configured; lifetime from `pg_auth.access_token_ttl`.
#[pg_extern(stable, parallel_safe)]
fn generate_access_token(role_: &str, user_: &str, secret: &str) -> String {
    let key = Key::from_legacy_secret(secret)
        .and_then(|key| key.check_for(settings::algorithm()).map(|()| key))
        .map_err(AuthError::SecretArgument)
        .or_raise();
    jwt_core::sign(
        settings::algorithm(),
        &key,
        &access_claims(role_, user_, None),
    )
}

/// The access token of a session, signed as `pg_auth.signing_mode` says
/// (kept with its 0.1.0 signature; `access_token` adds custom claims).
#[pg_extern(stable, parallel_restricted)]
fn issue_access_token(role_: &str, user_: &str, session_id: pgrx::Uuid) -> String {
    let signer = Signer::current().or_raise();
    let session_id = session_id.to_string();
    signer.sign(&access_claims(role_, user_, Some(&session_id)))
}

/// The access token of a session, with the members of `custom` (the result
/// of `pg_auth.custom_claims_function`) added. A custom claim may not set one
/// of the claims this extension owns. (0.2.0's: without the session's level.)
#[pg_extern(stable, parallel_restricted)]
fn access_token(
    role_: &str,
    user_: &str,
    session_id: pgrx::Uuid,
    custom: Option<pgrx::JsonB>,
) -> String {
    let session_id = session_id.to_string();
    sign_session_claims(claims_map(role_, user_, Some(&session_id)), custom)
}

/// [`access_token`] with the session's authenticator level: `aal` (`aal1`
/// or `aal2`) and `amr`, the methods used with their times.
#[pg_extern(stable, parallel_restricted)]
fn session_access_token(
    role_: &str,
    user_: &str,
    session_id: pgrx::Uuid,
    aal: &str,
    amr: pgrx::JsonB,
    custom: Option<pgrx::JsonB>,
) -> String {
    if aal != jwt_core::AAL1 && aal != jwt_core::AAL2 {
        AuthError::Internal(format!("unknown authenticator level {aal:?}")).raise();
    }
    let session_id = session_id.to_string();
    let mut claims = claims_map(role_, user_, Some(&session_id));
    claims.insert("aal".into(), aal.into());
    claims.insert("amr".into(), amr.0);
    sign_session_claims(claims, custom)
}

fn sign_session_claims(
    mut claims: serde_json::Map<String, serde_json::Value>,
    custom: Option<pgrx::JsonB>,
) -> String {
    let signer = Signer::current().or_raise();
    match custom.map(|custom| custom.0) {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(custom)) => {
            for (name, value) in custom {
                if RESERVED_CLAIMS.contains(&name.as_str()) {
                    AuthError::ReservedClaim(name).raise();
                }
                claims.insert(name, value);
            }
        }
        Some(_) => AuthError::CustomClaimsNotObject.raise(),
    }
    signer.sign(&serde_json::Value::Object(claims).to_string())
}

/// Claims the extension sets and a custom claims function may not.
pub const RESERVED_CLAIMS: [&str; 12] = [
    "role", "username", "sub", "sid", "iat", "exp", "nbf", "aud", "iss", "jti", "aal", "amr",
];

/// The session (`sid` claim) of an access token we signed (with the secret
/// or a published key pair), expired or not; NULL for anything else. Logout
/// uses it, so that a browser whose access token has expired can still end
/// its session.
#[pg_extern(stable, parallel_restricted)]
fn session_of(access_token: &str) -> Option<pgrx::Uuid> {
    parse_session_id(signed_claims(access_token)?.get_str("sid")?)
}

/// The claims of a token we signed, its times unchecked. A key set or key
/// file that cannot be read names no session: logout still clears the
/// cookies rather than fail.
fn signed_claims(access_token: &str) -> Option<jwt_core::Claims> {
    signing_keys::verifier()
        .ok()?
        .verify_signature(access_token)
        .ok()
}

/// How long after its `exp` an access token still names its session for
/// ending the user's other sessions: PostgREST's own clock-skew allowance.
const LIVE_TOKEN_LEEWAY_SECONDS: f64 = 30.0;

/// [`session_of`] for a token still within its `exp`: ending a user's other
/// sessions takes a live credential, not an old token found in a log.
#[pg_extern(stable, parallel_restricted)]
fn live_session_of(access_token: &str) -> Option<pgrx::Uuid> {
    let claims = signed_claims(access_token)?;
    let exp = claims.get("exp")?.as_f64()?;
    // transaction_epoch() is whole seconds: far below any exp.
    #[allow(clippy::cast_precision_loss)]
    let now = transaction_epoch() as f64;
    if now >= exp + LIVE_TOKEN_LEEWAY_SECONDS {
        return None;
    }
    parse_session_id(claims.get_str("sid")?)
}

/// A session id in its canonical text form, or NULL (the one parser of
/// `sid` claims, for Rust and SQL alike).
#[pg_extern(immutable, parallel_safe)]
fn parse_session_id(sid: &str) -> Option<pgrx::Uuid> {
    jwt_core::parse_session_id(sid).map(pgrx::Uuid::from_bytes)
}

fn access_claims(role: &str, user: &str, session_id: Option<&str>) -> String {
    serde_json::Value::Object(claims_map(role, user, session_id)).to_string()
}

fn claims_map(
    role: &str,
    user: &str,
    session_id: Option<&str>,
) -> serde_json::Map<String, serde_json::Value> {
    let now = transaction_epoch();
    let mut claims = serde_json::Map::new();
    claims.insert("role".into(), role.into());
    claims.insert("username".into(), user.into());
    claims.insert("sub".into(), user.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + settings::access_token_ttl()).into());
    if let Some(session_id) = session_id {
        claims.insert("sid".into(), session_id.into());
    }
    if let Some(audience) = settings::audience() {
        claims.insert("aud".into(), audience.into());
    }
    if let Some(issuer) = settings::issuer() {
        claims.insert("iss".into(), issuer.into());
    }
    claims
}

/// `extract(epoch from now())`: the transaction's start, as the legacy setup.
pub(crate) fn transaction_epoch() -> i64 {
    const POSTGRES_EPOCH_IN_UNIX_SECONDS: i64 = 946_684_800;
    // SAFETY: reads the current transaction's start timestamp.
    let micros = unsafe { pg_sys::GetCurrentTransactionStartTimestamp() };
    micros.div_euclid(1_000_000) + POSTGRES_EPOCH_IN_UNIX_SECONDS
}

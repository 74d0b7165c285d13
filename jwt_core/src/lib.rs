//! The one JWT/cookie core of the project, shared by the Postgres extension
//! (`pg_auth_ext`) and the proxy filter (`proxy_filter`).
//!
//! Tokens are signed with a shared secret (HS256/384/512, as PostgREST's
//! `jwt-secret`) or with a key pair (ES256, EdDSA) whose public halves are a
//! JWKS; a token with a `kid` is checked only with the key of that id, one
//! without only with the secret.
//!
//! Pure Rust with no I/O and no clock: callers pass the current time, so the
//! same code runs inside Postgres, inside a wasm VM and in unit tests.
//! Every failure is a value; nothing here panics on any input.

// Every public item says what it is for: this crate is the one both the
// extension and the proxies read first.
#![warn(missing_docs, unreachable_pub)]

mod algorithm;
mod asymmetric;
mod base64url;
mod claims;
mod cookie;
mod error;
mod jwk;
mod key;
mod problem;
mod session_id;
mod set_cookie;
mod sign;
mod verify;

pub use algorithm::Algorithm;
pub use asymmetric::{KeyAlgorithm, PrivateKey, PublicKey, PRIVATE_KEY_BYTES};
pub use claims::{Claims, AAL1, AAL2};
pub use cookie::{
    cookie_values, is_cookie_domain, is_cookie_name, is_cookie_path, CookieNames, Cookies,
    ACCESS_COOKIE, AUTH_RPC_PATHS, DEFAULT_REFRESH_PATH, HOST_PREFIX, REFRESH_COOKIE,
    SECURE_PREFIX,
};
pub use error::{JwkError, KeyError, UnknownAlgorithm, VerifyError};
pub use jwk::{is_kid, Jwk, Jwks, MAX_JWKS_KEYS};
pub use key::{Key, MIN_KEY_BYTES};
pub use problem::Problem;
pub use session_id::parse_session_id;
pub use set_cookie::{SameSite, SetCookie, SetCookieError};
pub use sign::{sign, sign_claims, sign_with_key};
pub use verify::{Verifier, DEFAULT_MAX_TOKEN_BYTES, ISSUED_AT_SKEW_SECONDS, MAX_LEEWAY_SECONDS};

/// Unpadded base64url, the encoding of JWS segments and of opaque tokens.
pub fn encode_base64url(bytes: &[u8]) -> String {
    base64url::encode(bytes)
}

/// The inverse of [`encode_base64url`]; `None` for anything not canonical.
pub fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    base64url::decode_segment(text)
}

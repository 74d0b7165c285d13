//! Opaque refresh tokens.

use pgrx::prelude::*;

use crate::error::{AuthError, OrRaise};

/// 256 random bits, base64url: the refresh token a client holds. Only its
/// SHA-256 is stored (`auth.refresh_token.token_hash`).
#[pg_extern(volatile, parallel_safe)]
fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AuthError::Random(e.to_string()))
        .or_raise();
    jwt_core::encode_base64url(&bytes)
}

//! Opaque refresh tokens: 256 random bits the client holds, of which only a
//! SHA-256 is stored. When a token is rotated, its successor is kept sealed
//! under the token itself, so that within the grace window a tab presenting
//! the rotated token gets the same successor as the tab that rotated it (one
//! chain per session, however many tabs), while the table alone, without
//! the token, reveals nothing.

use hmac::{Hmac, Mac};
use pgrx::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{AuthError, OrRaise};

const TOKEN_BYTES: usize = 32;

/// A new refresh token: 256 random bits, base64url.
#[pg_extern(volatile, parallel_safe)]
fn new_refresh_token() -> String {
    random_token()
}

/// 256 random bits, base64url: refresh tokens and mailed links.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| AuthError::Random(e.to_string()))
        .or_raise();
    jwt_core::encode_base64url(&bytes)
}

/// What is stored of a refresh token (`auth.refresh_token.token_hash`).
#[pg_extern(immutable, parallel_safe)]
fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// `successor` sealed under `token`: only a holder of `token` can open it.
#[pg_extern(immutable, parallel_safe)]
fn seal_successor(token: &str, successor: &str) -> Vec<u8> {
    seal(token, successor)
        .ok_or_else(|| AuthError::Internal("successor is not a refresh token".into()))
        .or_raise()
}

/// The successor sealed under `token`, or NULL when `sealed` is not one.
#[pg_extern(immutable, parallel_safe)]
fn open_successor(token: &str, sealed: &[u8]) -> Option<String> {
    open(token, sealed)
}

fn seal(token: &str, successor: &str) -> Option<Vec<u8>> {
    let plain = jwt_core::decode_base64url(successor).filter(|bytes| bytes.len() == TOKEN_BYTES)?;
    Some(xor(&plain, &sealing_pad(token)))
}

fn open(token: &str, sealed: &[u8]) -> Option<String> {
    (sealed.len() == TOKEN_BYTES)
        .then(|| jwt_core::encode_base64url(&xor(sealed, &sealing_pad(token))))
}

fn sealing_pad(token: &str) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(token.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
    mac.update(b"pg_auth_ext refresh successor");
    mac.finalize().into_bytes().into()
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_opens_its_successor() {
        let token = "A".repeat(43);
        let successor = jwt_core::encode_base64url(&[9; 32]);
        let sealed = seal(&token, &successor).unwrap();
        assert_ne!(sealed, jwt_core::decode_base64url(&successor).unwrap());
        assert_eq!(open(&token, &sealed), Some(successor.clone()));
        assert_ne!(open(&"B".repeat(43), &sealed), Some(successor));
        assert_eq!(open(&token, &sealed[1..]), None);
        assert_eq!(seal(&token, "not a token"), None);
    }
}

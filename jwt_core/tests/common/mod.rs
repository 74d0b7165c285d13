//! What the attack tests share: base64url, HS256 tokens of any header and
//! payload, and the check that every byte of a signature counts.

#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)]
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jwt_core::{Verifier, VerifyError};
use sha2::Sha256;

pub const NOW: i64 = 1_800_000_000;

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hmac_sha256(secret: &[u8], input: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A token of arbitrary header and payload text, HS256-signed with `secret`.
pub fn mint_hs256(secret: &[u8], header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    format!("{input}.{}", b64(&hmac_sha256(secret, &input)))
}

/// Asserts that `good` with any one byte of its signature XORed with `flip`
/// is refused as a bad signature: the check covers every byte.
pub fn every_signature_byte_counts(verifier: &Verifier, good: &str, flip: u8) {
    let (input, signature) = good.rsplit_once('.').unwrap();
    let raw = URL_SAFE_NO_PAD.decode(signature).unwrap();
    for i in 0..raw.len() {
        let mut altered = raw.clone();
        altered[i] ^= flip;
        let token = format!("{input}.{}", b64(&altered));
        assert_eq!(
            verifier.verify(&token, NOW),
            Err(VerifyError::BadSignature),
            "byte {i}"
        );
    }
}

//! Secrets stored sealed (ChaCha20-Poly1305) under the key read from
//! `pg_auth.key_encryption_key_file`: the private signing keys and the TOTP
//! secrets. A table, a dump of it, a `pg_read_all_data` member or the server
//! log reveal none of them. The associated data binds a sealed secret to its
//! row: a ciphertext copied onto another row does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

use crate::error::AuthError;

/// The layout of a sealed secret: a version byte, the nonce, the ciphertext
/// with its tag.
const SEAL_VERSION: u8 = 1;
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;

/// The length of a sealed secret of `secret_len` bytes.
pub const fn sealed_len(secret_len: usize) -> usize {
    1 + NONCE_BYTES + secret_len + TAG_BYTES
}

pub fn seal(kek: &[u8; 32], aad: &[u8], secret: &[u8]) -> Result<Vec<u8>, AuthError> {
    let mut nonce = [0u8; NONCE_BYTES];
    getrandom::fill(&mut nonce).map_err(|e| AuthError::Random(e.to_string()))?;
    let ciphertext = ChaCha20Poly1305::new(kek.into())
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad })
        .map_err(|_| AuthError::Internal("sealing a secret failed".into()))?;
    let mut sealed = Vec::with_capacity(sealed_len(secret.len()));
    sealed.push(SEAL_VERSION);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// The secret of `secret_len` bytes in `sealed`, or `None` when it does not
/// open under `kek` with `aad`.
pub fn open(kek: &[u8; 32], aad: &[u8], sealed: &[u8], secret_len: usize) -> Option<Vec<u8>> {
    let (&version, rest) = sealed.split_first()?;
    if version != SEAL_VERSION || sealed.len() != sealed_len(secret_len) {
        return None;
    }
    let (nonce, ciphertext) = rest.split_at_checked(NONCE_BYTES)?;
    ChaCha20Poly1305::new(kek.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
}

//! What signs and verifies access tokens. With `pg_auth.signing_mode =
//! 'secret'` the shared secret of `pg_auth.jwt_secret_file` (HS256/384/512);
//! with `'keys'` the current key pair of `auth.signing_key` (ES256 or EdDSA,
//! the `kid` in every token). Private keys are stored sealed (`sealing.rs`).
//! The key states and the SQL API are in `install_sql/signing_keys.sql`.

use jwt_core::{Algorithm, Jwks, Key, KeyAlgorithm, PrivateKey, Verifier, PRIVATE_KEY_BYTES};
use pgrx::prelude::*;

use crate::error::{AuthError, OrRaise};
use crate::settings::{self, SigningMode};
use crate::{key_file, sealing};

#[cfg(any(test, feature = "pg_test"))]
pub const SEALED_BYTES: usize = sealing::sealed_len(PRIVATE_KEY_BYTES);

/// A new key pair: its `kid` (the RFC 7638 thumbprint of its public key),
/// its public JWK, and its private key sealed under the key-encryption key.
/// `auth.create_signing_key` stores them.
#[pg_extern(volatile)]
fn generate_signing_key(
    algorithm: &str,
) -> TableIterator<
    'static,
    (
        name!(kid, String),
        name!(public_jwk, pgrx::JsonB),
        name!(sealed_private_key, Vec<u8>),
    ),
> {
    let algorithm: KeyAlgorithm = algorithm
        .parse()
        .map_err(AuthError::UnknownAlgorithm)
        .or_raise();
    let kek = key_file::key_encryption_key().or_raise();
    let key = new_private_key(algorithm).or_raise();
    let public = key.public_key();
    let kid = public.thumbprint();
    let sealed = seal(&kek, &kid, algorithm, &key.to_bytes()).or_raise();
    let jwk = pgrx::JsonB(public.to_jwk(&kid));
    TableIterator::once((kid, jwk, sealed))
}

/// Random bytes until they make a key (a P-256 scalar must be below the
/// group order: a draw fails with probability about 2^-32).
fn new_private_key(algorithm: KeyAlgorithm) -> Result<PrivateKey, AuthError> {
    for _ in 0..8 {
        let mut bytes = [0u8; PRIVATE_KEY_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
        let key = PrivateKey::from_bytes(algorithm, &bytes);
        bytes.fill(0);
        if let Some(key) = key {
            return Ok(key);
        }
    }
    Err(AuthError::Internal(
        "no valid private key in 8 draws".into(),
    ))
}

/// The associated data binds a sealed key to its row: a ciphertext copied
/// onto another kid or algorithm does not open.
fn associated_data(kid: &str, algorithm: KeyAlgorithm) -> Vec<u8> {
    format!("pg_auth_ext signing key|{kid}|{algorithm}").into_bytes()
}

fn seal(
    kek: &[u8; 32],
    kid: &str,
    algorithm: KeyAlgorithm,
    secret: &[u8],
) -> Result<Vec<u8>, AuthError> {
    sealing::seal(kek, &associated_data(kid, algorithm), secret)
}

fn open(kek: &[u8; 32], kid: &str, algorithm: KeyAlgorithm, sealed: &[u8]) -> Option<Vec<u8>> {
    sealing::open(
        kek,
        &associated_data(kid, algorithm),
        sealed,
        PRIVATE_KEY_BYTES,
    )
}

/// What signs access tokens now.
pub enum Signer {
    Secret(Algorithm, Key),
    Pair { kid: String, key: Box<PrivateKey> },
}

impl Signer {
    /// The signer `pg_auth.signing_mode` names.
    pub fn current() -> Result<Signer, AuthError> {
        match settings::signing_mode() {
            SigningMode::Secret => {
                let (algorithm, key) = (settings::algorithm(), key_file::shared_secret()?);
                key.check_for(algorithm).map_err(AuthError::Key)?;
                Ok(Signer::Secret(algorithm, key))
            }
            SigningMode::Keys => current_key_pair(),
        }
    }

    pub fn sign(&self, payload_json: &str) -> String {
        match self {
            Signer::Secret(algorithm, key) => jwt_core::sign(*algorithm, key, payload_json),
            Signer::Pair { kid, key } => jwt_core::sign_with_key(key, kid, payload_json),
        }
    }
}

fn current_key_pair() -> Result<Signer, AuthError> {
    let spi = |e: pgrx::spi::Error| AuthError::Internal(format!("reading auth.signing_key: {e}"));
    let row = Spi::connect(|client| {
        let table = client.select(
            "select kid, algorithm, private_key from auth.signing_key where state = 'current'",
            Some(1),
            &[],
        )?;
        match table.into_iter().next() {
            None => Ok(None),
            Some(row) => Ok(Some((
                row.get::<String>(1)?,
                row.get::<String>(2)?,
                row.get::<Vec<u8>>(3)?,
            ))),
        }
    })
    .map_err(spi)?;
    let Some((Some(kid), Some(algorithm), Some(sealed))) = row else {
        return Err(AuthError::NoCurrentKey);
    };
    let algorithm: KeyAlgorithm = algorithm.parse().map_err(AuthError::UnknownAlgorithm)?;
    let kek = key_file::key_encryption_key()?;
    let opened = fingerprint(&kek, &kid, algorithm, &sealed);
    if let Some(key) = OPENED.with(|cell| {
        cell.borrow()
            .as_ref()
            .filter(|(cached, _)| *cached == opened)
            .map(|(_, key)| key.clone())
    }) {
        return Ok(Signer::Pair { kid, key });
    }
    let sealed_key = || AuthError::SealedKey { kid: kid.clone() };
    let mut secret = open(&kek, &kid, algorithm, &sealed).ok_or_else(sealed_key)?;
    let key = PrivateKey::from_bytes(algorithm, &secret).ok_or_else(sealed_key);
    secret.fill(0);
    let key = Box::new(key?);
    OPENED.with(|cell| *cell.borrow_mut() = Some((opened, key.clone())));
    Ok(Signer::Pair { kid, key })
}

thread_local! {
    /// The key pair this backend opened last, by the fingerprint of what it
    /// was opened from. Opening a P-256 key derives its public key, a scalar
    /// multiplication that costs as much as the signature: a backend that
    /// signs many tokens opens the current key once. A rotation, a reseal or
    /// another key-encryption key changes the fingerprint.
    static OPENED: std::cell::RefCell<Option<([u8; 32], Box<PrivateKey>)>> =
        const { std::cell::RefCell::new(None) };
}

/// What a key was opened from: the key-encryption key, the row's kid,
/// algorithm and sealed bytes. A digest, so that no copy of the
/// key-encryption key stays in memory for the comparison.
fn fingerprint(kek: &[u8; 32], kid: &str, algorithm: KeyAlgorithm, sealed: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let aad = associated_data(kid, algorithm);
    let mut digest = Sha256::new();
    for part in [kek.as_slice(), aad.as_slice(), sealed] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    digest.finalize().into()
}

/// A sealed private key opened with the key-encryption key in `old_key_file`
/// and sealed again under `pg_auth.key_encryption_key_file`: one row of
/// `auth.reseal_signing_keys`, the rotation of the key-encryption key.
#[pg_extern(volatile)]
fn reseal_private_key(kid: &str, algorithm: &str, sealed: &[u8], old_key_file: &str) -> Vec<u8> {
    let resealed = || -> Result<Vec<u8>, AuthError> {
        let algorithm: KeyAlgorithm = algorithm.parse().map_err(AuthError::UnknownAlgorithm)?;
        let old = key_file::key_encryption_key_in("old_key_file", old_key_file.to_owned())?;
        let new = key_file::key_encryption_key()?;
        let mut secret =
            open(&old, kid, algorithm, sealed).ok_or_else(|| AuthError::SealedKey {
                kid: kid.to_owned(),
            })?;
        let sealed = seal(&new, kid, algorithm, &secret);
        secret.fill(0);
        sealed
    };
    resealed().or_raise()
}

/// The most keys a JWKS may hold, for `auth.create_signing_key`: every
/// verifier (jwt_core's) refuses a larger set whole.
#[pg_extern(immutable, parallel_safe)]
fn max_published_keys() -> i32 {
    i32::try_from(jwt_core::MAX_JWKS_KEYS).unwrap_or(i32::MAX)
}

/// Raises unless `jwks` is a set every verifier accepts (the same parser):
/// `auth.publish_jwks` never gives PostgREST and the proxies a set they
/// would refuse.
#[pg_extern(immutable, parallel_safe)]
fn check_jwks(jwks: &str) {
    if let Err(error) = Jwks::parse(jwks) {
        AuthError::Internal(format!(
            "the JWKS to publish is refused by its verifiers: {error}"
        ))
        .raise()
    }
}

/// What checks the signature of our own tokens (logout names a session by
/// an access token that may have expired): the published key pairs, and the
/// shared secret when one is configured (required in secret mode).
pub fn verifier() -> Result<Verifier, AuthError> {
    let published = Spi::get_one::<String>("select auth.public_keys()::text")
        .map_err(|e| AuthError::Internal(format!("reading auth.signing_key: {e}")))?
        .unwrap_or_default();
    let jwks = Jwks::parse(&published)
        .map_err(|e| AuthError::Internal(format!("auth.public_keys(): {e}")))?;
    let secret = match settings::signing_mode() {
        SigningMode::Secret => Some(key_file::shared_secret()?),
        SigningMode::Keys if key_file::has_shared_secret() => key_file::shared_secret().ok(),
        SigningMode::Keys => None,
    };
    let verifier = match secret {
        Some(key) => Verifier::new(&key, &[settings::algorithm()]),
        None => Verifier::from_jwks(Jwks::default()),
    };
    Ok(verifier.with_jwks(jwks))
}

/// A stored private key, opened: for the tests that check where it must
/// not appear.
#[cfg(any(test, feature = "pg_test"))]
pub fn private_key_of(kid: &str) -> PrivateKey {
    let query = format!(
        "select algorithm, private_key from auth.signing_key where kid = '{}'",
        kid.replace('\'', "''")
    );
    let (algorithm, sealed) = Spi::get_two::<String, Vec<u8>>(&query).unwrap_or((None, None));
    let algorithm: KeyAlgorithm = algorithm
        .unwrap_or_default()
        .parse()
        .map_err(AuthError::UnknownAlgorithm)
        .or_raise();
    let kek = key_file::key_encryption_key().or_raise();
    let secret = open(&kek, kid, algorithm, &sealed.unwrap_or_default()).unwrap_or_default();
    PrivateKey::from_bytes(algorithm, &secret)
        .ok_or_else(|| AuthError::SealedKey { kid: kid.into() })
        .or_raise()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_under_its_kek_kid_and_algorithm() {
        let kek = [7u8; 32];
        let secret = [9u8; PRIVATE_KEY_BYTES];
        let sealed = seal(&kek, "kid-a", KeyAlgorithm::ES256, &secret).unwrap();
        assert_eq!(sealed.len(), SEALED_BYTES);
        assert!(!sealed.windows(secret.len()).any(|w| w == secret));
        assert_eq!(
            open(&kek, "kid-a", KeyAlgorithm::ES256, &sealed).as_deref(),
            Some(&secret[..])
        );
        assert_eq!(
            open(&[8u8; 32], "kid-a", KeyAlgorithm::ES256, &sealed),
            None
        );
        assert_eq!(open(&kek, "kid-b", KeyAlgorithm::ES256, &sealed), None);
        assert_eq!(open(&kek, "kid-a", KeyAlgorithm::EdDSA, &sealed), None);
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert_eq!(open(&kek, "kid-a", KeyAlgorithm::ES256, &tampered), None);
        assert_eq!(open(&kek, "kid-a", KeyAlgorithm::ES256, &sealed[1..]), None);
        // Each seal draws its own nonce.
        assert_ne!(
            seal(&kek, "kid-a", KeyAlgorithm::ES256, &secret).unwrap(),
            sealed
        );
    }
}

//! ES256 (ECDSA P-256 with SHA-256, RFC 7518 section 3.4) and EdDSA
//! (Ed25519, RFC 8037): the key pairs the extension signs with, whose public
//! halves every verifier gets as a JWKS. The key fixes the algorithm: a token
//! is checked only under the algorithm of the key its `kid` names.

use core::fmt;

// The `signature` crate's trait signs ES256 (verification: es256.rs).
use p256::ecdsa::signature::Signer as _;

use crate::base64url;
use crate::error::JwkError;

mod es256;
#[cfg(test)]
mod wycheproof;

/// The asymmetric JWS algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA over P-256 with SHA-256 (RFC 7518 section 3.4): the default.
    ES256,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

impl KeyAlgorithm {
    /// Both.
    pub const ALL: [KeyAlgorithm; 2] = [KeyAlgorithm::ES256, KeyAlgorithm::EdDSA];

    /// The JWS `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::ES256 => "ES256",
            KeyAlgorithm::EdDSA => "EdDSA",
        }
    }
}

crate::algorithm::jws_names!(KeyAlgorithm, "ES256 or EdDSA (key pairs)");

/// A public key, as a JWK describes it.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// A P-256 point.
    Es256(Es256Key),
    /// An Ed25519 point.
    EdDsa(ed25519_dalek::VerifyingKey),
}

/// A P-256 public key and, from its first verification on, the tables that
/// make verifying with it fast (`es256.rs`). Clones share the tables.
#[derive(Clone)]
pub struct Es256Key {
    key: p256::ecdsa::VerifyingKey,
    tables: std::sync::Arc<std::sync::OnceLock<es256::KeyTable>>,
}

impl Es256Key {
    fn new(key: p256::ecdsa::VerifyingKey) -> Es256Key {
        Es256Key {
            key,
            tables: Default::default(),
        }
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let tables = self.tables.get_or_init(|| es256::key_table(&self.key));
        es256::verify(tables, message, signature)
    }
}

impl PartialEq for Es256Key {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Es256Key {}

impl PublicKey {
    /// The algorithm it verifies.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            PublicKey::Es256(_) => KeyAlgorithm::ES256,
            PublicKey::EdDsa(_) => KeyAlgorithm::EdDSA,
        }
    }

    /// A P-256 point from its affine coordinates (32 bytes each); refused
    /// when not on the curve.
    pub(crate) fn es256(x: &[u8], y: &[u8]) -> Result<PublicKey, JwkError> {
        if x.len() != 32 || y.len() != 32 {
            return Err(JwkError::BadCoordinates);
        }
        let point = p256::EncodedPoint::from_affine_coordinates(x.into(), y.into(), false);
        p256::ecdsa::VerifyingKey::from_encoded_point(&point)
            .map(|key| PublicKey::Es256(Es256Key::new(key)))
            .map_err(|_| JwkError::NotOnCurve)
    }

    /// An Ed25519 public key (32 bytes); refused when it does not decode to a
    /// curve point, is of small order (it would verify forged signatures) or
    /// is not in canonical form.
    pub(crate) fn ed25519(x: &[u8]) -> Result<PublicKey, JwkError> {
        let bytes: &[u8; 32] = x.try_into().map_err(|_| JwkError::BadCoordinates)?;
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| JwkError::NotOnCurve)?;
        if key.is_weak() {
            return Err(JwkError::NotOnCurve);
        }
        // RFC 8032 section 5.1.3: a y coordinate of p or more is not the
        // point's one encoding (crypto review C12).
        if key.to_edwards().compress().to_bytes() != *bytes {
            return Err(JwkError::NotOnCurve);
        }
        Ok(PublicKey::EdDsa(key))
    }

    /// Checks a JWS signature (raw R || S, not DER) over `message`. ECDSA
    /// signatures in high-S form are accepted: RFC 7515's own example is one,
    /// and so are half of what other signers write; a second spelling of a
    /// token signs the same claims (our signer writes low-S). Ed25519 uses
    /// the strict check (canonical S, no small-order keys).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Es256(key) => key.verify(message, signature),
            PublicKey::EdDsa(key) => {
                let Ok(bytes) = <&[u8; 64]>::try_from(signature) else {
                    return false;
                };
                let signature = ed25519_dalek::Signature::from_bytes(bytes);
                key.verify_strict(message, &signature).is_ok()
            }
        }
    }

    /// The base64url public coordinates: `x` and `y` of a P-256 point, `x`
    /// alone for Ed25519.
    fn coordinates(&self) -> (String, Option<String>) {
        match self {
            PublicKey::Es256(key) => {
                let point = key.key.to_encoded_point(false);
                let encode = |c: Option<&p256::FieldBytes>| {
                    base64url::encode(c.map(|c| c.as_slice()).unwrap_or_default())
                };
                (encode(point.x()), Some(encode(point.y())))
            }
            PublicKey::EdDsa(key) => (base64url::encode(key.as_bytes()), None),
        }
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in
    /// lexicographic order, base64url. The extension uses it as the `kid`,
    /// so a key id names exactly one key.
    pub fn thumbprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let canonical = match self.coordinates() {
            (x, Some(y)) => format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#),
            (x, None) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
        };
        base64url::encode(&Sha256::digest(canonical.as_bytes()))
    }

    /// The public JWK for `kid` (RFC 7518 section 6.2, RFC 8037 section 2).
    pub fn to_jwk(&self, kid: &str) -> serde_json::Value {
        let alg = self.algorithm().name();
        match self.coordinates() {
            (x, Some(y)) => serde_json::json!({
                "kty": "EC", "crv": "P-256", "x": x, "y": y, "alg": alg, "use": "sig", "kid": kid,
            }),
            (x, None) => serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "x": x, "alg": alg, "use": "sig", "kid": kid,
            }),
        }
    }
}

/// Never more than the algorithm: public keys are public, but a log line
/// should name the kid, not dump coordinates.
impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.algorithm())
    }
}

/// A private key, from its 32 secret bytes (the P-256 scalar, or the
/// Ed25519 seed). `Debug` never prints them.
#[derive(Clone)]
pub enum PrivateKey {
    /// A P-256 scalar.
    Es256(p256::ecdsa::SigningKey),
    /// An Ed25519 seed.
    EdDsa(ed25519_dalek::SigningKey),
}

/// How many secret bytes a private key has, for both algorithms.
pub const PRIVATE_KEY_BYTES: usize = 32;

impl PrivateKey {
    /// `None` when the bytes are no valid key (a P-256 scalar of zero or at
    /// least the group order; draw again).
    pub fn from_bytes(algorithm: KeyAlgorithm, secret: &[u8]) -> Option<PrivateKey> {
        let bytes: &[u8; PRIVATE_KEY_BYTES] = secret.try_into().ok()?;
        match algorithm {
            KeyAlgorithm::ES256 => p256::ecdsa::SigningKey::from_slice(bytes)
                .ok()
                .map(PrivateKey::Es256),
            KeyAlgorithm::EdDSA => Some(PrivateKey::EdDsa(ed25519_dalek::SigningKey::from_bytes(
                bytes,
            ))),
        }
    }

    /// The secret bytes, for the caller to encrypt before storing.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            PrivateKey::Es256(key) => key.to_bytes().to_vec(),
            PrivateKey::EdDsa(key) => key.to_bytes().to_vec(),
        }
    }

    /// The algorithm it signs with.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            PrivateKey::Es256(_) => KeyAlgorithm::ES256,
            PrivateKey::EdDsa(_) => KeyAlgorithm::EdDSA,
        }
    }

    /// Its public half, to publish.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Es256(key) => PublicKey::Es256(Es256Key::new(*key.verifying_key())),
            PrivateKey::EdDsa(key) => PublicKey::EdDsa(key.verifying_key()),
        }
    }

    /// A JWS signature (raw; ECDSA deterministic per RFC 6979, in low-S form).
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            PrivateKey::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature
                    .normalize_s()
                    .unwrap_or(signature)
                    .to_bytes()
                    .to_vec()
            }
            PrivateKey::EdDsa(key) => key.sign(message).to_bytes().to_vec(),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.algorithm())
    }
}

#[cfg(test)]
mod tests;

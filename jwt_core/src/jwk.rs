//! Strict JWK Set parsing (RFC 7517) for verifiers: public EC P-256 and
//! Ed25519 keys only, each with a unique `kid`. A set carrying private or
//! symmetric material is refused whole: it was published by mistake, and
//! whoever fetched it may now mint tokens.

use serde_json::Value;

use crate::asymmetric::PublicKey;
use crate::base64url;
use crate::claims::Claims;
use crate::error::JwkError;

/// More keys than any rotation needs (standby, current, a few previous).
pub const MAX_JWKS_KEYS: usize = 32;

/// A verification key and the `kid` tokens name it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jwk {
    /// The key's id (see [`crate::is_kid`] for its spelling).
    pub kid: String,
    /// The public key.
    pub key: PublicKey,
}

/// A parsed JWK Set: public keys with unique `kid`s, in the set's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

impl Jwks {
    /// A set of `keys`: at most [`MAX_JWKS_KEYS`], each `kid` well spelt
    /// and unique.
    pub fn new(keys: Vec<Jwk>) -> Result<Jwks, JwkError> {
        if keys.len() > MAX_JWKS_KEYS {
            return Err(JwkError::TooManyKeys);
        }
        for (i, jwk) in keys.iter().enumerate() {
            if !is_kid(&jwk.kid) {
                return Err(JwkError::InvalidKid);
            }
            if keys.iter().take(i).any(|earlier| earlier.kid == jwk.kid) {
                return Err(JwkError::DuplicateKid(jwk.kid.clone()));
            }
        }
        Ok(Jwks { keys })
    }

    /// `{"keys": [...]}`; every key is checked, and one bad key refuses the set.
    pub fn parse(json: &str) -> Result<Jwks, JwkError> {
        // Unique member names at both levels: the set, and each key.
        let set = Claims::parse(json.as_bytes()).ok_or(JwkError::NotJson)?;
        match set.get("keys") {
            Some(Value::Array(members)) if members.len() > MAX_JWKS_KEYS => {
                return Err(JwkError::TooManyKeys)
            }
            Some(Value::Array(_)) => {}
            _ => return Err(JwkError::NotASet),
        }
        let members: KeyList = serde_json::from_str(json).map_err(|_| JwkError::NotJson)?;
        let keys = members
            .keys
            .iter()
            .map(parse_key)
            .collect::<Result<Vec<_>, _>>()?;
        Jwks::new(keys)
    }

    /// The key named `kid`.
    pub fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys
            .iter()
            .find(|jwk| jwk.kid == kid)
            .map(|jwk| &jwk.key)
    }

    /// Every key, in the set's order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// Whether it has no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many keys it has.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The set as JSON, as [`Jwks::parse`] reads it back.
    pub fn to_json(&self) -> Value {
        let keys = self.keys.iter().map(|jwk| jwk.key.to_jwk(&jwk.kid));
        serde_json::json!({ "keys": keys.collect::<Vec<_>>() })
    }
}

/// Key ids this project writes and accepts: 1 to 128 characters of
/// base64url, base64 and UUID spelling. Anything else in a header is
/// refused before any lookup.
pub fn is_kid(kid: &str) -> bool {
    (1..=128).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=".contains(&b))
}

/// The `keys` of a set, each read as an object with unique member names.
#[derive(serde::Deserialize)]
struct KeyList {
    keys: Vec<Claims>,
}

fn parse_key(object: &Claims) -> Result<Jwk, JwkError> {
    // Private members of any key type (RFC 7518 sections 6.2.2, 6.3.2, 6.4).
    for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        if object.get(private).is_some() {
            return Err(JwkError::PrivateMember(private));
        }
    }
    let text_member = |name: &'static str| match object.get(name) {
        Some(Value::String(value)) => Ok(Some(value.as_str())),
        None => Ok(None),
        Some(_) => Err(JwkError::BadMember(name)),
    };
    let required = |name: &'static str| text_member(name)?.ok_or(JwkError::MissingMember(name));
    let bytes = |name: &'static str| {
        base64url::decode_segment(required(name)?).ok_or(JwkError::BadMember(name))
    };

    let key = match (required("kty")?, required("crv")) {
        ("EC", Ok("P-256")) => PublicKey::es256(&bytes("x")?, &bytes("y")?)?,
        ("OKP", Ok("Ed25519")) => PublicKey::ed25519(&bytes("x")?)?,
        ("oct", _) => return Err(JwkError::SymmetricKey),
        ("EC" | "OKP", curve) => {
            return Err(JwkError::UnsupportedCurve(
                curve.map(str::to_owned).unwrap_or_default(),
            ))
        }
        (kty, _) => return Err(JwkError::UnsupportedKeyType(kty.to_owned())),
    };
    if let Some(alg) = text_member("alg")? {
        if alg != key.algorithm().name() {
            return Err(JwkError::AlgorithmMismatch {
                alg: alg.to_owned(),
                key: key.algorithm(),
            });
        }
    }
    if text_member("use")?.is_some_and(|usage| usage != "sig") {
        return Err(JwkError::NotForSignatures);
    }
    // A public key verifies and does nothing else (RFC 7517 section 4.3:
    // no duplicate operations either).
    match object.get("key_ops") {
        None => {}
        Some(Value::Array(ops)) if matches!(ops.as_slice(), [op] if op.as_str() == Some("verify")) =>
            {}
        Some(_) => return Err(JwkError::NotForSignatures),
    }
    let kid = required("kid")?;
    if !is_kid(kid) {
        return Err(JwkError::InvalidKid);
    }
    Ok(Jwk {
        kid: kid.to_owned(),
        key,
    })
}

#[cfg(test)]
mod tests;

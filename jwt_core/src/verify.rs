use serde_json::Value;

use crate::algorithm::{Algorithm, KeyedMac};
use crate::asymmetric::PublicKey;
use crate::base64url;
use crate::claims::Claims;
use crate::error::VerifyError;
use crate::jwk::{is_kid, Jwks};
use crate::key::Key;

/// Larger tokens are refused before any decoding (cookies are capped at about
/// 4 KB by browsers anyway).
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 4096;

/// How far in the future `iat` and `nbf` may be, beyond the `exp` leeway:
/// the database stamps `iat` at its transaction start, and a database clock a
/// fraction of a second ahead of the verifier's must not make a token issued
/// a moment ago look forged.
pub const ISSUED_AT_SKEW_SECONDS: u32 = 5;

/// The most `exp` leeway a verifier should allow: PostgREST allows 30 s of
/// clock skew, and a proxy that allowed more would pass tokens PostgREST
/// then refuses.
pub const MAX_LEEWAY_SECONDS: u32 = 30;

/// Strict JWS compact verification. The key, and with it the algorithm, is
/// configuration, never read from the token: a token without `kid` is
/// checked with the shared secret under one of the accepted HMAC
/// algorithms; a token with a `kid` only with the JWKS key of that id, under
/// that key's algorithm. Every check that can fail does so with a
/// [`VerifyError`] that says why.
#[derive(Clone, Debug)]
pub struct Verifier {
    /// One keyed MAC per accepted algorithm, prepared once.
    macs: Vec<KeyedMac>,
    jwks: Jwks,
    leeway_seconds: u32,
    issuer: Option<String>,
    audience: Option<String>,
    max_token_bytes: usize,
    require_exp: bool,
    /// Tokens without `kid` only while the key set is empty.
    secret_only_without_keys: bool,
    /// The longest `exp - iat` accepted (0: any).
    max_lifetime_seconds: u32,
}

impl Verifier {
    /// Accepts tokens signed with `key` under any of `algorithms` (an empty
    /// list accepts nothing).
    pub fn new(key: &Key, algorithms: &[Algorithm]) -> Verifier {
        Verifier {
            macs: algorithms
                .iter()
                .map(|alg| alg.keyed(key.as_bytes()))
                .collect(),
            ..Verifier::from_jwks(Jwks::default())
        }
    }

    /// Accepts tokens signed by the keys of `jwks` (and, with no secret,
    /// no token without a `kid`).
    pub fn from_jwks(jwks: Jwks) -> Verifier {
        Verifier {
            macs: Vec::new(),
            jwks,
            leeway_seconds: 0,
            issuer: None,
            audience: None,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            require_exp: true,
            secret_only_without_keys: false,
            max_lifetime_seconds: 0,
        }
    }

    /// The same checks with another key set (a rotation).
    pub fn with_jwks(mut self, jwks: Jwks) -> Verifier {
        self.jwks = jwks;
        self
    }

    /// The key set it verifies with.
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// Seconds `exp` and `nbf` may be off (at most [`MAX_LEEWAY_SECONDS`],
    /// which configurations check).
    pub fn with_leeway(mut self, seconds: u32) -> Verifier {
        self.leeway_seconds = seconds;
        self
    }

    /// The `iss` a token must have (None: any or none).
    pub fn with_issuer(mut self, issuer: Option<String>) -> Verifier {
        self.issuer = issuer;
        self
    }

    /// The audience `aud` must hold (None: any or none).
    pub fn with_audience(mut self, audience: Option<String>) -> Verifier {
        self.audience = audience;
        self
    }

    /// The longest token looked at (default [`DEFAULT_MAX_TOKEN_BYTES`]).
    pub fn with_max_token_bytes(mut self, bytes: usize) -> Verifier {
        self.max_token_bytes = bytes;
        self
    }

    /// Whether a token without `exp` is refused (default: yes).
    pub fn with_required_exp(mut self, required: bool) -> Verifier {
        self.require_exp = required;
        self
    }

    /// Whether a token without `kid` (one the shared secret signed) is
    /// refused as `unknown_key` once the key set has a key: a verifier in
    /// front of PostgREST, which accepts one or the other (its `jwt-secret`,
    /// or the JWKS the database publishes in `keys` mode), then never passes
    /// on a token PostgREST would refuse, and a switch of signing mode needs
    /// no change to its configuration.
    pub fn with_secret_only_without_keys(mut self, only: bool) -> Verifier {
        self.secret_only_without_keys = only;
        self
    }

    /// See [`Verifier::with_secret_only_without_keys`].
    pub fn secret_only_without_keys(&self) -> bool {
        self.secret_only_without_keys
    }

    /// Refuses (`invalid_claims`) a token whose `exp` is more than `seconds`
    /// after its `iat` (without `iat`: after now), or that has no `exp` (0: no
    /// limit). Bounds how long a token can be worth stealing, and how long a
    /// verified one may be remembered.
    pub fn with_max_lifetime(mut self, seconds: u32) -> Verifier {
        self.max_lifetime_seconds = seconds;
        self
    }

    /// Full verification at time `now` (seconds since the Unix epoch).
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, VerifyError> {
        let claims = self.verify_signature(token)?;
        self.check_claims(&claims, now)?;
        Ok(claims)
    }

    /// The checks of [`Verifier::verify`] after the signature: times,
    /// issuer, audience. For a caller that remembers tokens whose signature
    /// it has verified (their claims still expire).
    pub fn check_claims(&self, claims: &Claims, now: i64) -> Result<(), VerifyError> {
        self.check_times(claims, now)?;
        self.check_issuer(claims)?;
        self.check_audience(claims)
    }

    /// Header and signature only, ignoring the time claims: for a caller that
    /// must know which session an expired token belonged to (logout).
    pub fn verify_signature(&self, token: &str) -> Result<Claims, VerifyError> {
        if token.len() > self.max_token_bytes {
            return Err(VerifyError::TooLarge);
        }
        let mut segments = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(VerifyError::Malformed);
        };

        let key = self.header_key(header_b64)?;
        let signature = base64url::decode_segment(signature_b64).ok_or(VerifyError::Malformed)?;
        let signing_input = token
            .get(..header_b64.len() + 1 + payload_b64.len())
            .ok_or(VerifyError::Malformed)?
            .as_bytes();
        let valid = match key {
            HeaderKey::Secret(mac) => mac.verify(signing_input, &signature),
            HeaderKey::Public(key) => key.verify(signing_input, &signature),
        };
        if !valid {
            return Err(VerifyError::BadSignature);
        }

        let payload = base64url::decode_segment(payload_b64).ok_or(VerifyError::Malformed)?;
        Claims::parse(&payload).ok_or(VerifyError::Malformed)
    }

    /// The key the header selects: by `kid` in the JWKS, whose key must be of
    /// the header's `alg`; without `kid`, the secret under an accepted `alg`.
    fn header_key(&self, header_b64: &str) -> Result<HeaderKey<'_>, VerifyError> {
        let header = base64url::decode_segment(header_b64)
            .and_then(|json| Claims::parse(&json))
            .ok_or(VerifyError::Malformed)?;
        if header.get("crit").is_some() {
            return Err(VerifyError::CriticalHeader);
        }
        match header.get("typ") {
            None => {}
            Some(Value::String(typ)) if typ.eq_ignore_ascii_case("JWT") => {}
            Some(_) => return Err(VerifyError::Malformed),
        }
        let name = header.get_str("alg").ok_or(VerifyError::Malformed)?;
        match header.get("kid") {
            None if self.secret_only_without_keys && !self.jwks.is_empty() => {
                Err(VerifyError::UnknownKey)
            }
            None => self
                .macs
                .iter()
                .find(|mac| mac.algorithm().name() == name)
                .map(HeaderKey::Secret)
                .ok_or(if is_asymmetric(name) && !self.jwks.is_empty() {
                    // Tokens of our key pairs always name their key.
                    VerifyError::UnknownKey
                } else {
                    VerifyError::UnsupportedAlgorithm
                }),
            Some(Value::String(kid)) if is_kid(kid) => {
                let key = self.jwks.get(kid).ok_or(VerifyError::UnknownKey)?;
                if key.algorithm().name() != name {
                    return Err(VerifyError::UnsupportedAlgorithm);
                }
                Ok(HeaderKey::Public(key))
            }
            Some(_) => Err(VerifyError::Malformed),
        }
    }

    fn check_times(&self, claims: &Claims, now: i64) -> Result<(), VerifyError> {
        let now = now as f64;
        let leeway = f64::from(self.leeway_seconds);
        let future = leeway + f64::from(ISSUED_AT_SKEW_SECONDS);
        let exp = claims.numeric_date("exp")?;
        let nbf = claims.numeric_date("nbf")?;
        let iat = claims.numeric_date("iat")?;
        match exp {
            // RFC 7519 4.1.4: the current time must be before exp.
            Some(exp) if now >= exp + leeway => return Err(VerifyError::Expired),
            None if self.require_exp => return Err(VerifyError::MissingExpiry),
            _ => {}
        }
        if matches!(nbf, Some(nbf) if now + future < nbf) {
            return Err(VerifyError::NotYetValid);
        }
        if matches!(iat, Some(iat) if iat > now + future) {
            return Err(VerifyError::IssuedInFuture);
        }
        if self.max_lifetime_seconds > 0 {
            // From iat, or for a token without one, from now.
            let lifetime = exp.map(|exp| exp - iat.unwrap_or(now));
            if lifetime.is_none_or(|lifetime| lifetime > f64::from(self.max_lifetime_seconds)) {
                return Err(VerifyError::InvalidClaims);
            }
        }
        Ok(())
    }

    fn check_issuer(&self, claims: &Claims) -> Result<(), VerifyError> {
        match &self.issuer {
            Some(expected) if claims.get_str("iss") != Some(expected.as_str()) => {
                Err(VerifyError::WrongIssuer)
            }
            _ => Ok(()),
        }
    }

    fn check_audience(&self, claims: &Claims) -> Result<(), VerifyError> {
        let Some(expected) = &self.audience else {
            return Ok(());
        };
        let accepted = match claims.get("aud") {
            Some(Value::String(aud)) => aud == expected,
            Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(expected)),
            _ => false,
        };
        if accepted {
            Ok(())
        } else {
            Err(VerifyError::WrongAudience)
        }
    }
}

fn is_asymmetric(alg: &str) -> bool {
    crate::KeyAlgorithm::ALL
        .iter()
        .any(|known| known.name() == alg)
}

/// What a token's header selects.
enum HeaderKey<'a> {
    Secret(&'a KeyedMac),
    Public(&'a PublicKey),
}

#[cfg(test)]
mod tests;

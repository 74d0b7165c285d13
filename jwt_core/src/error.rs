use core::fmt;

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The secret is shorter than [`crate::MIN_KEY_BYTES`] once decoded.
    TooShort {
        /// Its length in bytes.
        bytes: usize,
    },
    /// The secret is shorter than the algorithm's hash output.
    TooShortFor {
        /// The algorithm's name (`HS512`...).
        algorithm: &'static str,
        /// The secret's length in bytes.
        bytes: usize,
        /// The least length the algorithm needs.
        required: usize,
    },
    /// `is_base64` was set but the secret is not base64.
    NotBase64,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::TooShort { bytes } => write!(
                f,
                "JWT secret is {bytes} bytes long; at least {} are required (generate one with `openssl rand -base64 32`)",
                crate::MIN_KEY_BYTES
            ),
            KeyError::TooShortFor {
                algorithm,
                bytes,
                required,
            } => write!(
                f,
                "JWT secret is {bytes} bytes long; {algorithm} requires at least {required} (RFC 7518 section 3.2; `openssl rand -base64 {required}`)"
            ),
            KeyError::NotBase64 => {
                f.write_str("JWT secret is declared base64 but does not decode as base64")
            }
        }
    }
}

impl std::error::Error for KeyError {}

/// Why a token was refused. `reason()` is a stable slug for metrics and logs;
/// neither it nor `Display` ever contains the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// Longer than the verifier's limit ([`crate::DEFAULT_MAX_TOKEN_BYTES`]
    /// unless set): refused before any decoding.
    TooLarge,
    /// Not three canonical unpadded base64url segments, a header or payload
    /// that is not a JSON object with unique member names, or a header
    /// whose `alg`, `kid` or `typ` is not a string of the expected form.
    Malformed,
    /// The header names an algorithm this verifier does not accept (`none`,
    /// a wrong spelling, another family than its key's): the algorithm
    /// confusion attacks end here.
    UnsupportedAlgorithm,
    /// The header has `crit`: no extension is understood, so none is
    /// accepted (RFC 7515 section 4.1.11).
    CriticalHeader,
    /// The signature does not match the header and payload under the key.
    BadSignature,
    /// A time claim is not a number, or the token outlives the verifier's
    /// largest lifetime (see [`crate::Verifier::with_max_lifetime`]).
    InvalidClaims,
    /// No `exp`, where one is required (the default).
    MissingExpiry,
    /// `exp` is now or past, after the leeway.
    Expired,
    /// `nbf` is still ahead, after the leeway and PostgREST's skew.
    NotYetValid,
    /// `iat` is ahead, after the leeway and PostgREST's skew.
    IssuedInFuture,
    /// `iss` is not the issuer the verifier requires.
    WrongIssuer,
    /// `aud` (a string or an array) does not hold the audience the
    /// verifier requires.
    WrongAudience,
    /// The header's `kid` names no key this verifier has (or the token is
    /// asymmetric and names none).
    UnknownKey,
}

impl VerifyError {
    /// Every reason, for metrics that exist from the start at zero.
    pub const ALL: [VerifyError; 13] = [
        VerifyError::TooLarge,
        VerifyError::Malformed,
        VerifyError::UnsupportedAlgorithm,
        VerifyError::CriticalHeader,
        VerifyError::BadSignature,
        VerifyError::InvalidClaims,
        VerifyError::MissingExpiry,
        VerifyError::Expired,
        VerifyError::NotYetValid,
        VerifyError::IssuedInFuture,
        VerifyError::WrongIssuer,
        VerifyError::WrongAudience,
        VerifyError::UnknownKey,
    ];

    /// The stable slug (`expired`, `bad_signature`...).
    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::TooLarge => "too_large",
            VerifyError::Malformed => "malformed",
            VerifyError::UnsupportedAlgorithm => "unsupported_algorithm",
            VerifyError::CriticalHeader => "critical_header",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::InvalidClaims => "invalid_claims",
            VerifyError::MissingExpiry => "missing_exp",
            VerifyError::Expired => "expired",
            VerifyError::NotYetValid => "not_yet_valid",
            VerifyError::IssuedInFuture => "issued_in_future",
            VerifyError::WrongIssuer => "wrong_issuer",
            VerifyError::WrongAudience => "wrong_audience",
            VerifyError::UnknownKey => "unknown_key",
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerifyError::TooLarge => "JWT is larger than allowed",
            VerifyError::Malformed => "JWT is malformed",
            VerifyError::UnsupportedAlgorithm => "JWT algorithm is not allowed",
            VerifyError::CriticalHeader => "JWT has critical header parameters",
            VerifyError::BadSignature => "JWT signature is invalid",
            VerifyError::InvalidClaims => "JWT claims are invalid",
            VerifyError::MissingExpiry => "JWT has no exp claim",
            VerifyError::Expired => "JWT expired",
            VerifyError::NotYetValid => "JWT is not valid yet",
            VerifyError::IssuedInFuture => "JWT was issued in the future",
            VerifyError::WrongIssuer => "JWT issuer is not accepted",
            VerifyError::WrongAudience => "JWT not in audience",
            VerifyError::UnknownKey => "JWT key is unknown",
        })
    }
}

impl std::error::Error for VerifyError {}

/// An algorithm name this crate does not implement where one was expected
/// (names are exact and case-sensitive, RFC 7515 section 4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAlgorithm {
    /// The name as given.
    pub name: String,
    /// What would have been accepted there.
    pub expected: &'static str,
}

impl fmt::Display for UnknownAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unsupported JWT algorithm {:?}: use {}",
            self.name, self.expected
        )
    }
}

impl std::error::Error for UnknownAlgorithm {}

/// Why a JWK or JWK Set was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwkError {
    /// Not a JSON object with unique member names.
    NotJson,
    /// A JWK Set without a `keys` array.
    NotASet,
    /// More keys than [`crate::jwk::MAX_JWKS_KEYS`].
    TooManyKeys,
    /// A member the key type needs is missing.
    MissingMember(&'static str),
    /// A member is not of its form (a string, base64url, a known value).
    BadMember(&'static str),
    /// Private key material: a verifier must never be given it.
    PrivateMember(&'static str),
    /// An `oct` key: a shared secret, never a public key.
    SymmetricKey,
    /// A `kty` other than `EC` and `OKP`.
    UnsupportedKeyType(String),
    /// A `crv` other than `P-256` and `Ed25519`.
    UnsupportedCurve(String),
    /// The JWK's `alg` is not its key's algorithm.
    AlgorithmMismatch {
        /// The `alg` it gives.
        alg: String,
        /// The algorithm its key is for.
        key: crate::KeyAlgorithm,
    },
    /// `use` or `key_ops` say the key is not for verifying signatures.
    NotForSignatures,
    /// A coordinate of the wrong length for the curve.
    BadCoordinates,
    /// The coordinates are no valid point of the curve (or, for Ed25519,
    /// not its one canonical encoding).
    NotOnCurve,
    /// A `kid` that is not 1 to 128 characters of the allowed set.
    InvalidKid,
    /// Two keys of the set share a `kid`.
    DuplicateKid(String),
}

impl fmt::Display for JwkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwkError::NotJson => f.write_str("JWKS is not a JSON object with unique member names"),
            JwkError::NotASet => f.write_str("JWKS has no \"keys\" array"),
            JwkError::TooManyKeys => {
                write!(f, "JWKS has more than {} keys", crate::jwk::MAX_JWKS_KEYS)
            }
            JwkError::MissingMember(name) => write!(f, "a JWK has no {name:?}"),
            JwkError::BadMember(name) => write!(f, "a JWK's {name:?} is not valid"),
            JwkError::PrivateMember(name) => write!(
                f,
                "a JWK carries the private member {name:?}: publish public keys only"
            ),
            JwkError::SymmetricKey => f.write_str(
                "a JWK is a shared secret (kty \"oct\"): give it as the secret, never in a JWKS",
            ),
            JwkError::UnsupportedKeyType(kty) => {
                write!(
                    f,
                    "JWK key type {kty:?} is not supported: use EC P-256 or OKP Ed25519"
                )
            }
            JwkError::UnsupportedCurve(crv) => {
                write!(
                    f,
                    "JWK curve {crv:?} is not supported: use P-256 or Ed25519"
                )
            }
            JwkError::AlgorithmMismatch { alg, key } => {
                write!(f, "a JWK says alg {alg:?} but its key is for {key}")
            }
            JwkError::NotForSignatures => f.write_str("a JWK is not for verifying signatures"),
            JwkError::BadCoordinates => f.write_str("a JWK's coordinates have the wrong length"),
            JwkError::NotOnCurve => f.write_str("a JWK's point is not a valid key on its curve"),
            JwkError::InvalidKid => f.write_str(
                "a JWK's kid must be 1 to 128 characters of letters, digits and -_.~+/=",
            ),
            JwkError::DuplicateKid(kid) => write!(f, "two JWKs have the kid {kid:?}"),
        }
    }
}

impl std::error::Error for JwkError {}

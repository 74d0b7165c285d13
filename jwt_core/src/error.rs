use core::fmt;

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The secret is shorter than [`crate::MIN_KEY_BYTES`] once decoded.
    TooShort { bytes: usize },
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
    TooLarge,
    Malformed,
    UnsupportedAlgorithm,
    CriticalHeader,
    BadSignature,
    InvalidClaims,
    MissingExpiry,
    Expired,
    NotYetValid,
    IssuedInFuture,
    WrongIssuer,
    WrongAudience,
}

impl VerifyError {
    pub const ALL: [VerifyError; 12] = [
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
    ];

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
        })
    }
}

impl std::error::Error for VerifyError {}

/// An algorithm name this crate does not implement (names are exact and
/// case-sensitive, RFC 7515 section 4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAlgorithm(pub String);

impl fmt::Display for UnknownAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unsupported JWT algorithm {:?}: use HS256, HS384 or HS512",
            self.0
        )
    }
}

impl std::error::Error for UnknownAlgorithm {}

//! The base64 variants a JWT stack meets, each strict about what it accepts.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// JWS segments: unpadded base64url with canonical trailing bits (RFC 7515
/// section 2). Padding, `+`, `/`, whitespace and non-canonical encodings of
/// the same bytes are all refused, so one token has exactly one spelling.
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn decode_segment(segment: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(segment).ok()
}

/// PostgREST's `jwt-secret-is-base64`: standard or url-safe alphabet, padding optional.
pub(crate) fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    const LENIENT_PADDING: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT_PADDING);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT_PADDING);
    STANDARD
        .decode(secret)
        .or_else(|_| URL_SAFE.decode(secret))
        .ok()
}

/// What Postgres' `decode(text, 'base64')` accepts for the strings the legacy setup
/// sends to it: padded standard base64 whose trailing bits may be anything.
pub(crate) fn decode_like_postgres(secret: &str) -> Option<Vec<u8>> {
    const POSTGRES: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    POSTGRES.decode(secret).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_strict() {
        assert_eq!(decode_segment("AQID"), Some(vec![1, 2, 3]));
        assert_eq!(decode_segment("AQ"), Some(vec![1]));
        assert_eq!(decode_segment("AQ=="), None, "padding");
        assert_eq!(decode_segment("AR"), None, "non-canonical trailing bits");
        assert_eq!(decode_segment("A+/B"), None, "standard alphabet");
        assert_eq!(decode_segment(" AQID"), None, "whitespace");
        assert_eq!(decode_segment("A"), None, "impossible length");
    }

    #[test]
    fn secrets_accept_both_alphabets() {
        assert_eq!(decode_secret("+/8="), Some(vec![0xfb, 0xff]));
        assert_eq!(decode_secret("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode_secret("not base64!"), None);
    }

    #[test]
    fn postgres_rule_needs_padding_but_ignores_trailing_bits() {
        assert_eq!(decode_like_postgres("AR=="), Some(vec![1]));
        assert_eq!(decode_like_postgres("AQ"), None);
        assert_eq!(decode_like_postgres("AQID"), Some(vec![1, 2, 3]));
    }
}

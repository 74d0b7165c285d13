use core::fmt;

use zeroize::Zeroizing;

use crate::base64url;
use crate::error::KeyError;

/// PostgREST refuses shorter secrets, and so do we: an HMAC key shorter than
/// the hash output is brute-forceable.
pub const MIN_KEY_BYTES: usize = 32;

/// An HMAC key with its encoding resolved. `Debug` never prints the bytes,
/// and they are wiped from memory when the key is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(Zeroizing<Vec<u8>>);

impl Key {
    /// The bytes as they are: at least [`MIN_KEY_BYTES`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Key, KeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort { bytes: bytes.len() });
        }
        Ok(Key(Zeroizing::new(bytes)))
    }

    /// A configured secret with an explicit encoding, as PostgREST's
    /// `jwt-secret` / `jwt-secret-is-base64` pair.
    pub fn from_secret(secret: &str, is_base64: bool) -> Result<Key, KeyError> {
        if is_base64 {
            let bytes = base64url::decode_secret(secret.trim()).ok_or(KeyError::NotBase64)?;
            Key::from_bytes(bytes)
        } else {
            Key::from_bytes(secret.as_bytes().to_vec())
        }
    }

    /// The legacy setup's implicit rule (`auth.sign_raw`): a secret that looks like
    /// base64 is decoded, anything else is used as its UTF-8 bytes. Kept only
    /// for drop-in compatibility of `auth.sign_raw`; configured keys state
    /// their encoding instead.
    pub fn from_legacy_secret(secret: &str) -> Result<Key, KeyError> {
        if looks_like_base64(secret) {
            let bytes = base64url::decode_like_postgres(secret).ok_or(KeyError::NotBase64)?;
            Key::from_bytes(bytes)
        } else {
            Key::from_bytes(secret.as_bytes().to_vec())
        }
    }

    /// The key's bytes, to sign or compare with.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether the key is long enough for `algorithm` (as long as its hash
    /// output): a 32-byte secret must not sign HS512.
    pub fn check_for(&self, algorithm: crate::Algorithm) -> Result<(), KeyError> {
        let required = algorithm.min_key_bytes();
        if self.0.len() < required {
            return Err(KeyError::TooShortFor {
                algorithm: algorithm.name(),
                bytes: self.0.len(),
                required,
            });
        }
        Ok(())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({} bytes)", self.0.len())
    }
}

/// The legacy setup's regular expression `^[A-Za-z0-9+/]+={0,2}$`.
fn looks_like_base64(secret: &str) -> bool {
    let body = secret.trim_end_matches('=');
    let padding = secret.len() - body.len();
    !body.is_empty()
        && padding <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_hmac_algorithm_takes_keys_as_long_as_its_hash() {
        use crate::Algorithm;
        let key = |n: usize| Key::from_bytes(vec![7; n]).unwrap();
        assert!(key(32).check_for(Algorithm::HS256).is_ok());
        assert!(key(32).check_for(Algorithm::HS384).is_err());
        assert!(key(48).check_for(Algorithm::HS384).is_ok());
        assert!(key(63).check_for(Algorithm::HS512).is_err());
        assert!(key(64).check_for(Algorithm::HS512).is_ok());
        let message = key(32).check_for(Algorithm::HS512).unwrap_err().to_string();
        assert!(message.contains("HS512 requires at least 64"), "{message}");
    }

    const B64_32: &str = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="; // 32 bytes

    #[test]
    fn explicit_encodings() {
        assert_eq!(Key::from_secret(B64_32, true).unwrap().as_bytes().len(), 32);
        assert_eq!(
            Key::from_secret(B64_32, false).unwrap().as_bytes(),
            B64_32.as_bytes()
        );
        assert_eq!(
            Key::from_secret("short", false),
            Err(KeyError::TooShort { bytes: 5 })
        );
        assert_eq!(
            Key::from_secret("this is not base64 at all, not at all!", true),
            Err(KeyError::NotBase64)
        );
    }

    #[test]
    fn too_short_after_decoding() {
        // 44 characters, but only 31 bytes once decoded.
        let thirty_one = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlYw==";
        assert!(matches!(
            Key::from_secret(thirty_one, true),
            Err(KeyError::TooShort { bytes: 31 })
        ));
    }

    #[test]
    fn legacy_rule() {
        for text in ["abcd", "ab+/=="] {
            assert!(looks_like_base64(text), "{text}");
        }
        for text in ["ab===", "==", "a-b", ""] {
            assert!(!looks_like_base64(text), "{text}");
        }
        // Looks like base64, decodes: the decoded bytes are the key.
        assert_eq!(
            Key::from_legacy_secret(B64_32).unwrap().as_bytes().len(),
            32
        );
        // Does not look like base64: the text is the key.
        let text = "a secret with spaces that is long enough";
        assert_eq!(
            Key::from_legacy_secret(text).unwrap().as_bytes(),
            text.as_bytes()
        );
        // Looks like base64 but Postgres' decode would fail on it, as the legacy setup did.
        assert_eq!(
            Key::from_legacy_secret("abcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcde1"),
            Err(KeyError::NotBase64)
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let key = Key::from_secret(B64_32, false).unwrap();
        assert_eq!(format!("{key:?}"), "Key(44 bytes)");
    }
}

use core::fmt;

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384, Sha512};

/// The HMAC-SHA2 JWS algorithms (RFC 7518 section 3.2). Nothing else is
/// supported: `none` and asymmetric algorithms cannot even be named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC with SHA-256: PostgREST's default, and the legacy setup's.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
}

impl Algorithm {
    /// Every one, strongest last.
    pub const ALL: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

    /// The shortest key this algorithm takes: the hash output's length
    /// (RFC 7518 section 3.2).
    pub fn min_key_bytes(self) -> usize {
        match self {
            Algorithm::HS256 => 32,
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
        }
    }

    /// The JWS `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
        }
    }

    /// The JOSE header this project writes, byte for byte what the legacy setup's
    /// plpgsql `sign_raw` wrote, so that signatures stay identical.
    pub(crate) fn header_json(self) -> &'static str {
        match self {
            Algorithm::HS256 => r#"{"alg":"HS256","typ":"JWT"}"#,
            Algorithm::HS384 => r#"{"alg":"HS384","typ":"JWT"}"#,
            Algorithm::HS512 => r#"{"alg":"HS512","typ":"JWT"}"#,
        }
    }

    /// HMAC of `message` under `key`.
    pub(crate) fn mac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        self.keyed(key).sign(message)
    }

    /// The HMAC state after absorbing the key, computed once and cloned for
    /// each message: saves two hash blocks per verification.
    pub(crate) fn keyed(self, key: &[u8]) -> KeyedMac {
        match self {
            Algorithm::HS256 => KeyedMac::HS256(keyed(key)),
            Algorithm::HS384 => KeyedMac::HS384(keyed(key)),
            Algorithm::HS512 => KeyedMac::HS512(keyed(key)),
        }
    }
}

/// An HMAC keyed once; see [`Algorithm::keyed`].
#[derive(Clone)]
pub(crate) enum KeyedMac {
    HS256(Hmac<Sha256>),
    HS384(Hmac<Sha384>),
    HS512(Hmac<Sha512>),
}

impl KeyedMac {
    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            KeyedMac::HS256(_) => Algorithm::HS256,
            KeyedMac::HS384(_) => Algorithm::HS384,
            KeyedMac::HS512(_) => Algorithm::HS512,
        }
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            KeyedMac::HS256(mac) => sign_with(mac.clone(), message),
            KeyedMac::HS384(mac) => sign_with(mac.clone(), message),
            KeyedMac::HS512(mac) => sign_with(mac.clone(), message),
        }
    }

    /// Constant-time check of `signature` over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            KeyedMac::HS256(mac) => verify_with(mac.clone(), message, signature),
            KeyedMac::HS384(mac) => verify_with(mac.clone(), message, signature),
            KeyedMac::HS512(mac) => verify_with(mac.clone(), message, signature),
        }
    }
}

/// Never shows key material.
impl fmt::Debug for KeyedMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyedMac({})", self.algorithm())
    }
}

fn keyed<M: Mac + hmac::digest::KeyInit>(key: &[u8]) -> M {
    // HMAC accepts keys of any length, so this cannot fail; the fallback
    // only exists to keep the function total.
    <M as hmac::digest::KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| <M as hmac::digest::KeyInit>::new(&Default::default()))
}

fn sign_with<M: Mac>(mut mac: M, message: &[u8]) -> Vec<u8> {
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn verify_with<M: Mac>(mut mac: M, message: &[u8], signature: &[u8]) -> bool {
    mac.update(message);
    mac.verify_slice(signature).is_ok()
}

/// `Display` and `FromStr` of an algorithm enum (with `ALL` and `name()`)
/// by its JWS name, exact and case-sensitive: `hs256` is not `HS256`
/// (RFC 7515 section 4.1.1).
macro_rules! jws_names {
    ($enum:ident, $expected:literal) => {
        impl core::fmt::Display for $enum {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl core::str::FromStr for $enum {
            type Err = crate::error::UnknownAlgorithm;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $enum::ALL
                    .into_iter()
                    .find(|alg| alg.name() == s)
                    .ok_or_else(|| crate::error::UnknownAlgorithm {
                        name: s.into(),
                        expected: $expected,
                    })
            }
        }
    };
}
pub(crate) use jws_names;

jws_names!(Algorithm, "HS256, HS384 or HS512");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.name().parse::<Algorithm>(), Ok(alg));
        }
        assert!("hs256".parse::<Algorithm>().is_err());
        assert!("none".parse::<Algorithm>().is_err());
        assert!("RS256".parse::<Algorithm>().is_err());
    }

    #[test]
    fn mac_lengths_match_the_hash() {
        assert_eq!(Algorithm::HS256.mac(b"k", b"m").len(), 32);
        assert_eq!(Algorithm::HS384.mac(b"k", b"m").len(), 48);
        assert_eq!(Algorithm::HS512.mac(b"k", b"m").len(), 64);
    }

    #[test]
    fn verify_rejects_truncated_and_altered_macs() {
        for alg in Algorithm::ALL {
            let keyed = alg.keyed(b"key");
            let mac = alg.mac(b"key", b"message");
            assert!(keyed.verify(b"message", &mac));
            assert!(
                keyed.verify(b"message", &mac),
                "the keyed state is reusable"
            );
            assert!(!keyed.verify(b"message", &mac[..mac.len() - 1]));
            assert!(!keyed.verify(b"message", &[]));
            assert!(!keyed.verify(b"other", &mac));
            let mut altered = mac.clone();
            altered[0] ^= 1;
            assert!(!keyed.verify(b"message", &altered));
        }
    }
}

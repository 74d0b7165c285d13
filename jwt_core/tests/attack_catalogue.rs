//! Known JWT attacks and malformations, each minted with the real key so that
//! it fails for the stated reason and not for an accidental bad signature.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use common::{b64, every_signature_byte_counts, hmac_sha256, mint_hs256, NOW};
use jwt_core::VerifyError::{CriticalHeader, Malformed, UnsupportedAlgorithm};
use jwt_core::{Algorithm, Key, Verifier, VerifyError};

const SECRET: &[u8] = b"attack-catalogue-secret-0123456789abcdef";

fn hs256(input: &str) -> Vec<u8> {
    hmac_sha256(SECRET, input)
}

/// A token with arbitrary header and payload text, HS256-signed with the real key.
fn mint(header: &str, payload: &str) -> String {
    mint_hs256(SECRET, header, payload)
}

/// What a header may name instead of HS256, each refused as unsupported:
/// none in two spellings, HS256 in the wrong case, an asymmetric algorithm
/// (the algorithm confusion attack) and a stronger HMAC not allowed here.
const OTHER_ALGORITHMS: [&str; 7] = ["none", "None", "hs256", "Hs256", "RS256", "ES256", "HS512"];

/// Headers that are not a JWT header we accept, over a payload signed with
/// the real key and algorithm.
const HEADER_ATTACKS: [(&str, &str, VerifyError); 5] = [
    ("alg missing", r#"{"typ":"JWT"}"#, Malformed),
    ("alg not a string", r#"{"alg":256}"#, Malformed),
    (
        "crit header",
        r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
        CriticalHeader,
    ),
    (
        "typ not JWT",
        r#"{"alg":"HS256","typ":"JOSE+JSON"}"#,
        Malformed,
    ),
    (
        "duplicate alg in header",
        r#"{"alg":"none","alg":"HS256"}"#,
        Malformed,
    ),
];

fn valid_payload() -> String {
    format!(
        r#"{{"sub":"demo","role":"basic_subscriber","exp":{}}}"#,
        NOW + 60
    )
}

fn verifier() -> Verifier {
    Verifier::new(
        &Key::from_bytes(SECRET.to_vec()).unwrap(),
        &[Algorithm::HS256],
    )
}

const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

#[test]
fn the_baseline_token_is_valid() {
    assert!(verifier()
        .verify(&mint(HS256, &valid_payload()), NOW)
        .is_ok());
}

#[test]
fn attack_catalogue() {
    let payload = valid_payload();
    let good = mint(HS256, &payload);
    let (signing_input, signature) = good.rsplit_once('.').unwrap();
    let raw_signature = URL_SAFE_NO_PAD.decode(signature).unwrap();

    let other_algorithms: Vec<(String, String)> = OTHER_ALGORITHMS
        .iter()
        .map(|alg| {
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
            (format!("alg {alg}"), mint(&header, &payload))
        })
        .collect();
    let mut cases: Vec<(&str, String, VerifyError)> = other_algorithms
        .iter()
        .map(|(name, token)| (name.as_str(), token.clone(), UnsupportedAlgorithm))
        .chain(
            HEADER_ATTACKS
                .iter()
                .map(|(name, header, error)| (*name, mint(header, &payload), error.clone())),
        )
        .collect();
    cases.extend([
        (
            "alg none, no signature",
            format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(payload.as_bytes())),
            VerifyError::UnsupportedAlgorithm,
        ),
        // Signature tampering.
        (
            "stripped signature",
            format!("{signing_input}."),
            VerifyError::BadSignature,
        ),
        (
            "truncated signature",
            format!("{signing_input}.{}", b64(&raw_signature[..16])),
            VerifyError::BadSignature,
        ),
        (
            "signature of another payload",
            format!(
                "{}.{}.{signature}",
                b64(HS256.as_bytes()),
                b64(br#"{"sub":"admin"}"#)
            ),
            VerifyError::BadSignature,
        ),
        (
            "signature by another key",
            mint_hs256(b"some-other-secret-0123456789abcdefgh", HS256, &payload),
            VerifyError::BadSignature,
        ),
        // Structure.
        (
            "two segments",
            signing_input.to_string(),
            VerifyError::Malformed,
        ),
        (
            "four segments",
            format!("{good}.{signature}"),
            VerifyError::Malformed,
        ),
        ("empty token", String::new(), VerifyError::Malformed),
        ("only dots", "..".to_string(), VerifyError::Malformed),
        (
            "padded signature",
            format!("{signing_input}.{}", URL_SAFE.encode(&raw_signature)),
            VerifyError::Malformed,
        ),
        (
            "standard-alphabet signature",
            {
                // Find a signature whose standard encoding differs from base64url.
                let std = STANDARD
                    .encode(&raw_signature)
                    .trim_end_matches('=')
                    .to_string();
                format!("{signing_input}.{std}")
            },
            VerifyError::Malformed,
        ),
        (
            "non-canonical trailing bits",
            {
                // 32-byte MAC: 43 chars, the last carries 2 unused bits.
                let mut chars: Vec<char> = signature.chars().collect();
                let last = chars.pop().unwrap();
                let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                let index = alphabet.find(last).unwrap();
                let tweaked = alphabet.chars().nth(index ^ 1).unwrap();
                format!(
                    "{signing_input}.{}{tweaked}",
                    chars.into_iter().collect::<String>()
                )
            },
            VerifyError::Malformed,
        ),
        (
            "padded header",
            {
                let header = URL_SAFE.encode(br#"{"alg": "HS256"}"#); // 16 bytes: ends with "=="
                let input = format!("{header}.{}", b64(payload.as_bytes()));
                format!("{input}.{}", b64(&hs256(&input)))
            },
            VerifyError::Malformed,
        ),
        (
            "leading whitespace",
            format!(" {good}"),
            VerifyError::Malformed,
        ),
        (
            "trailing newline",
            format!("{good}\n"),
            VerifyError::Malformed,
        ),
        (
            "header not JSON",
            mint("HS256", &payload),
            VerifyError::Malformed,
        ),
        (
            "payload not JSON",
            mint(HS256, "sub=admin"),
            VerifyError::Malformed,
        ),
        (
            "payload a JSON array",
            mint(HS256, "[1,2]"),
            VerifyError::Malformed,
        ),
        (
            "duplicate role claim",
            mint(
                HS256,
                &format!(r#"{{"role":"anon","role":"admin","exp":{}}}"#, NOW + 60),
            ),
            VerifyError::Malformed,
        ),
        // Time claims.
        (
            "expired by one second",
            mint(HS256, &format!(r#"{{"sub":"demo","exp":{}}}"#, NOW - 1)),
            VerifyError::Expired,
        ),
        (
            "expires right now",
            mint(HS256, &format!(r#"{{"sub":"demo","exp":{NOW}}}"#)),
            VerifyError::Expired,
        ),
        (
            "exp as a string",
            mint(HS256, &format!(r#"{{"exp":"{}"}}"#, NOW + 60)),
            VerifyError::InvalidClaims,
        ),
        (
            "exp null",
            mint(HS256, r#"{"exp":null}"#),
            VerifyError::InvalidClaims,
        ),
        (
            "exp missing",
            mint(HS256, r#"{"sub":"demo"}"#),
            VerifyError::MissingExpiry,
        ),
        (
            "exp a float in the past",
            mint(HS256, &format!(r#"{{"exp":{}.5}}"#, NOW - 1)),
            VerifyError::Expired,
        ),
        (
            "exp beyond f64",
            mint(HS256, r#"{"exp":1e999}"#),
            VerifyError::Malformed,
        ),
        (
            "exp hugely negative",
            mint(HS256, r#"{"exp":-1e300}"#),
            VerifyError::Expired,
        ),
        (
            "nbf in the future",
            mint(
                HS256,
                &format!(r#"{{"exp":{},"nbf":{}}}"#, NOW + 60, NOW + 10),
            ),
            VerifyError::NotYetValid,
        ),
        (
            "nbf as a string",
            mint(HS256, &format!(r#"{{"exp":{},"nbf":"0"}}"#, NOW + 60)),
            VerifyError::InvalidClaims,
        ),
        (
            "iat in the future",
            mint(
                HS256,
                &format!(r#"{{"exp":{},"iat":{}}}"#, NOW + 60, NOW + 10),
            ),
            VerifyError::IssuedInFuture,
        ),
        // Size.
        (
            "oversized token",
            mint(
                HS256,
                &format!(r#"{{"exp":{},"pad":"{}"}}"#, NOW + 60, "x".repeat(5000)),
            ),
            VerifyError::TooLarge,
        ),
    ]);

    let verifier = verifier();
    let mut failures = Vec::new();
    for (name, token, expected) in &cases {
        let got = verifier.verify(token, NOW);
        if got.as_ref().err() != Some(expected) {
            failures.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn whole_signature_bytes_matter() {
    // Flipping any single signature byte fails: the comparison covers all bytes.
    every_signature_byte_counts(&verifier(), &mint(HS256, &valid_payload()), 0x80);
}

//! Any string as a token: verification returns a value and never panics;
//! anything it accepts was signed with the key, and re-signing its header and
//! payload gives back exactly its signature (for the shared secret; a
//! key-pair token names a key of the set).
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jwt_core::{sign, Algorithm, Jwk, Jwks, Key, KeyAlgorithm, PrivateKey, Verifier};
use libfuzzer_sys::fuzz_target;
use sha2::{Sha256, Sha384, Sha512};

const KEY: &[u8] = b"fuzzing-key-fuzzing-key-fuzzing-key!";

/// The signature an independent HMAC gives `input` under the header's `alg`.
fn resign(alg: &str, input: &[u8]) -> Option<Vec<u8>> {
    fn mac<M: Mac + hmac::digest::KeyInit>(input: &[u8]) -> Vec<u8> {
        let mut mac = <M as Mac>::new_from_slice(KEY).unwrap();
        mac.update(input);
        mac.finalize().into_bytes().to_vec()
    }
    match alg {
        "HS256" => Some(mac::<Hmac<Sha256>>(input)),
        "HS384" => Some(mac::<Hmac<Sha384>>(input)),
        "HS512" => Some(mac::<Hmac<Sha512>>(input)),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(key) = Key::from_bytes(KEY.to_vec()) else {
        return;
    };
    // Key pairs too, so that the kid paths are explored.
    let jwks = Jwks::new(
        KeyAlgorithm::ALL
            .iter()
            .map(|alg| {
                let key = PrivateKey::from_bytes(*alg, &[3; 32]).unwrap().public_key();
                Jwk {
                    kid: key.thumbprint(),
                    key,
                }
            })
            .collect(),
    )
    .unwrap();
    let verifier = Verifier::new(&key, &Algorithm::ALL)
        .with_jwks(jwks)
        .with_leeway(5)
        .with_audience(Some("api".into()));
    let text = String::from_utf8_lossy(data);
    if let Ok(claims) = verifier.verify(&text, 1_800_000_000) {
        let (input, signature) = text.rsplit_once('.').unwrap();
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(input.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        match resign(header["alg"].as_str().unwrap(), input.as_bytes()) {
            Some(expected) => assert_eq!(URL_SAFE_NO_PAD.encode(expected), signature),
            // Forging a key pair's signature is out of a fuzzer's reach: if
            // one is accepted, it names a key of the set.
            None => assert!(verifier
                .jwks()
                .get(header["kid"].as_str().unwrap())
                .is_some()),
        }
        assert_eq!(verifier.verify(&text, 1_800_000_000).ok(), Some(claims));
    }
    // Signing arbitrary payload text and verifying it never panics either,
    // and what is signed verifies whenever its payload is a valid claims set.
    let token = sign(Algorithm::HS384, &key, &text);
    let _ = verifier.verify(&token, 1_800_000_000);
    assert!(!matches!(
        verifier.verify_signature(&token),
        Err(jwt_core::VerifyError::BadSignature)
    ));
});

use serde_json::json;

use super::*;
use crate::{KeyAlgorithm, PrivateKey};

fn key(algorithm: KeyAlgorithm, seed: u8) -> Jwk {
    let key = PrivateKey::from_bytes(algorithm, &[seed; 32])
        .unwrap()
        .public_key();
    Jwk {
        kid: key.thumbprint(),
        key,
    }
}

fn set_of(keys: &[serde_json::Value]) -> String {
    json!({ "keys": keys }).to_string()
}

fn ec_jwk() -> serde_json::Value {
    let jwk = key(KeyAlgorithm::ES256, 3);
    jwk.key.to_jwk(&jwk.kid)
}

fn with(mut jwk: serde_json::Value, name: &str, value: serde_json::Value) -> serde_json::Value {
    jwk[name] = value;
    jwk
}

fn without(mut jwk: serde_json::Value, name: &str) -> serde_json::Value {
    if let Some(object) = jwk.as_object_mut() {
        object.remove(name);
    }
    jwk
}

#[test]
fn a_set_round_trips_through_json() {
    let set = Jwks::new(vec![
        key(KeyAlgorithm::ES256, 1),
        key(KeyAlgorithm::EdDSA, 2),
    ])
    .unwrap();
    let parsed = Jwks::parse(&set.to_json().to_string()).unwrap();
    assert_eq!(parsed, set);
    assert_eq!(parsed.len(), 2);
    let first = &set.keys()[0];
    assert_eq!(parsed.get(&first.kid), Some(&first.key));
    assert_eq!(parsed.get("nope"), None);
}

#[test]
fn optional_members_may_be_absent() {
    let bare = without(without(ec_jwk(), "alg"), "use");
    assert!(Jwks::parse(&set_of(&[bare])).is_ok());
    let with_ops = with(ec_jwk(), "key_ops", json!(["verify"]));
    assert!(Jwks::parse(&set_of(&[with_ops])).is_ok());
    assert!(Jwks::parse(&set_of(&[])).unwrap().is_empty());
}

#[test]
fn private_and_symmetric_material_is_refused() {
    let private = with(
        ec_jwk(),
        "d",
        json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"),
    );
    assert_eq!(
        Jwks::parse(&set_of(&[private])),
        Err(JwkError::PrivateMember("d"))
    );
    let oct = json!({"kty": "oct", "k": "c2VjcmV0", "kid": "s"});
    assert_eq!(
        Jwks::parse(&set_of(&[oct])),
        Err(JwkError::PrivateMember("k"))
    );
    let oct_without_k = json!({"kty": "oct", "kid": "s"});
    assert_eq!(
        Jwks::parse(&set_of(&[oct_without_k])),
        Err(JwkError::SymmetricKey)
    );
}

#[test]
fn inconsistent_keys_are_refused() {
    let cases = [
        (
            with(ec_jwk(), "alg", json!("EdDSA")),
            JwkError::AlgorithmMismatch {
                alg: "EdDSA".into(),
                key: KeyAlgorithm::ES256,
            },
        ),
        (
            with(ec_jwk(), "alg", json!("HS256")),
            JwkError::AlgorithmMismatch {
                alg: "HS256".into(),
                key: KeyAlgorithm::ES256,
            },
        ),
        (
            with(ec_jwk(), "crv", json!("P-384")),
            JwkError::UnsupportedCurve("P-384".into()),
        ),
        (
            with(ec_jwk(), "crv", json!("Ed25519")),
            JwkError::UnsupportedCurve("Ed25519".into()),
        ),
        (
            with(ec_jwk(), "kty", json!("RSA")),
            JwkError::UnsupportedKeyType("RSA".into()),
        ),
        (
            with(ec_jwk(), "use", json!("enc")),
            JwkError::NotForSignatures,
        ),
        (
            with(ec_jwk(), "key_ops", json!(["encrypt"])),
            JwkError::NotForSignatures,
        ),
        // A public key only verifies, once (RFC 7517 section 4.3; C13).
        (
            with(ec_jwk(), "key_ops", json!(["verify", "sign"])),
            JwkError::NotForSignatures,
        ),
        (
            with(ec_jwk(), "key_ops", json!(["verify", "verify"])),
            JwkError::NotForSignatures,
        ),
        (without(ec_jwk(), "y"), JwkError::MissingMember("y")),
        (without(ec_jwk(), "kid"), JwkError::MissingMember("kid")),
        (
            with(ec_jwk(), "x", json!("not base64url!")),
            JwkError::BadMember("x"),
        ),
        (with(ec_jwk(), "x", json!(5)), JwkError::BadMember("x")),
        (with(ec_jwk(), "x", json!("AAAA")), JwkError::BadCoordinates),
        (with(ec_jwk(), "kid", json!("a b")), JwkError::InvalidKid),
        (with(ec_jwk(), "kid", json!("")), JwkError::InvalidKid),
        (with(ec_jwk(), "kid", json!(7)), JwkError::BadMember("kid")),
    ];
    for (jwk, expected) in cases {
        assert_eq!(
            Jwks::parse(&set_of(std::slice::from_ref(&jwk))),
            Err(expected),
            "{jwk}"
        );
    }
}

#[test]
fn a_point_off_the_curve_is_refused() {
    let jwk = ec_jwk();
    let mut y = crate::decode_base64url(jwk["y"].as_str().unwrap()).unwrap();
    y[0] ^= 1;
    let off = with(jwk, "y", json!(crate::encode_base64url(&y)));
    assert_eq!(Jwks::parse(&set_of(&[off])), Err(JwkError::NotOnCurve));
}

#[test]
fn duplicate_kids_and_members_are_refused() {
    let jwk = ec_jwk();
    let kid = jwk["kid"].as_str().unwrap().to_owned();
    assert_eq!(
        Jwks::parse(&set_of(&[jwk.clone(), jwk.clone()])),
        Err(JwkError::DuplicateKid(kid))
    );
    let text = jwk.to_string();
    let doubled = format!(
        r#"{{"keys":[{},"kid":"other"}}]}}"#,
        text.trim_end_matches('}')
    );
    assert_eq!(Jwks::parse(&doubled), Err(JwkError::NotJson));
    assert_eq!(
        Jwks::parse(r#"{"keys":[],"keys":[]}"#),
        Err(JwkError::NotJson)
    );
}

#[test]
fn not_a_set() {
    assert_eq!(Jwks::parse("[]"), Err(JwkError::NotJson));
    assert_eq!(Jwks::parse("{}"), Err(JwkError::NotASet));
    assert_eq!(Jwks::parse(r#"{"keys":{}}"#), Err(JwkError::NotASet));
    assert_eq!(Jwks::parse(r#"{"keys":[1]}"#), Err(JwkError::NotJson));
    let many: Vec<_> = (0..=MAX_JWKS_KEYS).map(|_| ec_jwk()).collect();
    assert_eq!(Jwks::parse(&set_of(&many)), Err(JwkError::TooManyKeys));
}

#[test]
fn kid_spelling() {
    // A thumbprint, a UUID, a date: what issuers use.
    for kid in [
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
        "e9bc097a-ce51-4036-9562-d2ade882db0d",
        "2010-12-29",
    ] {
        assert!(is_kid(kid), "{kid}");
    }
    for not_kid in ["", "with space", "quote\"", "new\nline", &"a".repeat(129)] {
        assert!(!is_kid(not_kid), "{not_kid:?}");
    }
}

/// y + p for y = 3: decodes to the same point as y = 3, but is not its one
/// encoding (RFC 8032 section 5.1.3; crypto review C12).
#[test]
fn non_canonical_ed25519_points_are_refused() {
    let mut y_plus_p = [0xff_u8; 32];
    y_plus_p[0] = 0xf0;
    y_plus_p[31] = 0x7f;
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "noncanonical", "x": crate::encode_base64url(&y_plus_p)});
    let set = json!({ "keys": [jwk] }).to_string();
    assert_eq!(Jwks::parse(&set).err(), Some(JwkError::NotOnCurve));
}

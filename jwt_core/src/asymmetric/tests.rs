use super::*;

fn decode(text: &str) -> Vec<u8> {
    base64url::decode_segment(text).unwrap()
}

// RFC 8037 appendix A: the Ed25519 key, its thumbprint, and the JWS of A.4.
const ED_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const ED_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
const ED_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const ED_SIGNATURE: &str =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// RFC 7515 appendix A.3: the P-256 key and the JWS signature.
const EC_D: &str = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
const EC_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const EC_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const EC_INPUT: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const EC_SIGNATURE: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

#[test]
fn rfc8037_ed25519_key_thumbprint_and_signature() {
    let private = PrivateKey::from_bytes(KeyAlgorithm::EdDSA, &decode(ED_D)).unwrap();
    let public = private.public_key();
    assert_eq!(public, PublicKey::ed25519(&decode(ED_X)).unwrap());
    assert_eq!(public.thumbprint(), ED_THUMBPRINT);
    // Ed25519 is deterministic: our signature is the RFC's, byte for byte.
    assert_eq!(
        base64url::encode(&private.sign(ED_INPUT.as_bytes())),
        ED_SIGNATURE
    );
    let signature = decode(ED_SIGNATURE);
    assert!(public.verify(ED_INPUT.as_bytes(), &signature));
    for i in 0..signature.len() {
        let mut flipped = signature.clone();
        flipped[i] ^= 1;
        assert!(!public.verify(ED_INPUT.as_bytes(), &flipped), "byte {i}");
    }
    assert!(!public.verify(b"other input", &signature));
}

#[test]
fn rfc7515_es256_key_and_signature() {
    let private = PrivateKey::from_bytes(KeyAlgorithm::ES256, &decode(EC_D)).unwrap();
    let public = private.public_key();
    assert_eq!(
        public,
        PublicKey::es256(&decode(EC_X), &decode(EC_Y)).unwrap()
    );
    assert!(public.verify(EC_INPUT.as_bytes(), &decode(EC_SIGNATURE)));
    // ECDSA signatures differ per signing (RFC 6979 makes ours
    // deterministic, not the RFC's): ours verify, and are low-S.
    let ours = private.sign(EC_INPUT.as_bytes());
    assert_eq!(ours, private.sign(EC_INPUT.as_bytes()));
    assert!(public.verify(EC_INPUT.as_bytes(), &ours));
    let signature = p256::ecdsa::Signature::from_slice(&ours).unwrap();
    assert!(signature.normalize_s().is_none());
}

/// RFC 7515's example signature is high-S: such signatures verify (see
/// `PublicKey::verify`), while ours are always low-S.
#[test]
fn high_s_ecdsa_signatures_verify() {
    let private = PrivateKey::from_bytes(KeyAlgorithm::ES256, &[7; 32]).unwrap();
    let public = private.public_key();
    let low = p256::ecdsa::Signature::from_slice(&private.sign(b"message")).unwrap();
    assert!(low.normalize_s().is_none());
    let (r, s) = low.split_scalars();
    let high = p256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
    assert!(high.normalize_s().is_some());
    assert!(public.verify(b"message", &high.to_bytes()));
    assert!(!public.verify(b"other", &high.to_bytes()));
}

#[test]
fn signatures_of_the_wrong_form_are_refused() {
    for algorithm in KeyAlgorithm::ALL {
        let private = PrivateKey::from_bytes(algorithm, &[9; 32]).unwrap();
        let public = private.public_key();
        let signature = private.sign(b"message");
        assert_eq!(signature.len(), 64);
        assert!(public.verify(b"message", &signature));
        assert!(!public.verify(b"message", &signature[..63]));
        let mut longer = signature.clone();
        longer.push(0);
        assert!(!public.verify(b"message", &longer));
        assert!(!public.verify(b"message", &[0; 64]));
        assert!(!public.verify(b"message", &[]));
    }
    // ECDSA in DER form, as some libraries write it, is not JWS.
    let private = PrivateKey::from_bytes(KeyAlgorithm::ES256, &[9; 32]).unwrap();
    let der = p256::ecdsa::Signature::from_slice(&private.sign(b"message"))
        .unwrap()
        .to_der();
    assert!(!private.public_key().verify(b"message", der.as_bytes()));
}

#[test]
fn keys_of_the_other_algorithm_do_not_verify() {
    let ed = PrivateKey::from_bytes(KeyAlgorithm::EdDSA, &[5; 32]).unwrap();
    let ec = PrivateKey::from_bytes(KeyAlgorithm::ES256, &[5; 32]).unwrap();
    assert!(!ec.public_key().verify(b"m", &ed.sign(b"m")));
    assert!(!ed.public_key().verify(b"m", &ec.sign(b"m")));
}

#[test]
fn invalid_private_and_public_keys_are_refused() {
    // A P-256 scalar of zero, or beyond the group order.
    assert!(PrivateKey::from_bytes(KeyAlgorithm::ES256, &[0; 32]).is_none());
    assert!(PrivateKey::from_bytes(KeyAlgorithm::ES256, &[0xff; 32]).is_none());
    assert!(PrivateKey::from_bytes(KeyAlgorithm::EdDSA, &[1; 31]).is_none());
    // A point off the curve: y of another point.
    let mut y = decode(EC_Y);
    y[31] ^= 1;
    assert_eq!(
        PublicKey::es256(&decode(EC_X), &y),
        Err(JwkError::NotOnCurve)
    );
    assert_eq!(
        PublicKey::es256(&decode(EC_X)[..31], &decode(EC_Y)),
        Err(JwkError::BadCoordinates)
    );
    // The Ed25519 identity point: small order, it would accept forgeries.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(PublicKey::ed25519(&identity), Err(JwkError::NotOnCurve));
}

#[test]
fn names_and_debug() {
    assert_eq!("ES256".parse::<KeyAlgorithm>(), Ok(KeyAlgorithm::ES256));
    assert_eq!("EdDSA".parse::<KeyAlgorithm>(), Ok(KeyAlgorithm::EdDSA));
    assert!("es256".parse::<KeyAlgorithm>().is_err());
    assert!("Ed25519".parse::<KeyAlgorithm>().is_err());
    let private = PrivateKey::from_bytes(KeyAlgorithm::ES256, &decode(EC_D)).unwrap();
    assert_eq!(format!("{private:?}"), "PrivateKey(ES256)");
    assert_eq!(format!("{:?}", private.public_key()), "PublicKey(ES256)");
    assert_eq!(private.to_bytes(), decode(EC_D));
}

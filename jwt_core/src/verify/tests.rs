use super::*;
use crate::sign::sign;

const RFC7515_A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const RFC7515_A1_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC7515_A1_EXP: i64 = 1_300_819_380;

#[test]
fn rfc7515_appendix_a1_with_an_injected_clock() {
    let key = Key::from_secret(RFC7515_A1_KEY, true).unwrap();
    let verifier = Verifier::new(&key, &[Algorithm::HS256]).with_issuer(Some("joe".into()));
    let claims = verifier
        .verify(RFC7515_A1_TOKEN, RFC7515_A1_EXP - 1)
        .unwrap();
    assert_eq!(claims.get_str("iss"), Some("joe"));
    assert_eq!(
        claims.get("http://example.com/is_root"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        verifier.verify(RFC7515_A1_TOKEN, RFC7515_A1_EXP),
        Err(VerifyError::Expired)
    );
}

/// Minted with Python's standard `hmac`/`hashlib`/`base64`, not with this crate.
#[test]
fn tokens_from_an_independent_implementation() {
    let key = Key::from_secret("independent-implementation-key-0123456789", false).unwrap();
    let tokens = [
        (Algorithm::HS256, "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIiwicm9sZSI6ImJhc2ljX3N1YnNjcmliZXIiLCJleHAiOjIwMDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMH0.3bW2DWW83TeudjLNSJTjfJFIgA2okxI9_70CLmshPVE"),
        (Algorithm::HS384, "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzM4NCJ9.eyJzdWIiOiJkZW1vIiwicm9sZSI6ImJhc2ljX3N1YnNjcmliZXIiLCJleHAiOjIwMDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMH0.03nmJPLcZCmcj0fXAZ0vCV-BPnHqDZxn07-5m-aGqk030gDUUve0cuQScpQENlvJ"),
        (Algorithm::HS512, "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJkZW1vIiwicm9sZSI6ImJhc2ljX3N1YnNjcmliZXIiLCJleHAiOjIwMDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMH0.t0qDSUtO7o6eFu_xMpUq96n0ZCUziV_bY2Js_ooCwNrMBCqGJ6vDg256DJXqlGO4jrwjD9Qsk0lJZf45YXF93w"),
    ];
    for (alg, token) in tokens {
        let claims = Verifier::new(&key, &[alg])
            .verify(token, 1_800_000_000)
            .unwrap();
        assert_eq!(claims.get_str("role"), Some("basic_subscriber"));
        // The same token is refused when another algorithm is configured.
        let other = Algorithm::ALL.into_iter().find(|a| *a != alg).unwrap();
        assert_eq!(
            Verifier::new(&key, &[other]).verify(token, 1_800_000_000),
            Err(VerifyError::UnsupportedAlgorithm)
        );
    }
}

#[test]
fn sign_then_verify_round_trips_for_every_algorithm() {
    let key = Key::from_bytes(vec![42; 64]).unwrap();
    for alg in Algorithm::ALL {
        let token = sign(alg, &key, r#"{"sub":"a","exp":100}"#);
        let claims = Verifier::new(&key, &[alg]).verify(&token, 99).unwrap();
        assert_eq!(claims.get_str("sub"), Some("a"));
    }
}

#[test]
fn leeway_extends_exp_and_nbf_by_exactly_its_seconds() {
    let key = Key::from_bytes(vec![1; 32]).unwrap();
    let token = sign(Algorithm::HS256, &key, r#"{"exp":100,"nbf":50}"#);
    let strict = Verifier::new(&key, &[Algorithm::HS256]);
    let lenient = strict.clone().with_leeway(5);
    let skew = i64::from(ISSUED_AT_SKEW_SECONDS);
    assert_eq!(strict.verify(&token, 100), Err(VerifyError::Expired));
    assert!(lenient.verify(&token, 104).is_ok());
    assert_eq!(lenient.verify(&token, 105), Err(VerifyError::Expired));
    assert!(strict.verify(&token, 50 - skew).is_ok());
    assert_eq!(
        strict.verify(&token, 49 - skew),
        Err(VerifyError::NotYetValid)
    );
    assert!(lenient.verify(&token, 45 - skew).is_ok());
    assert_eq!(
        lenient.verify(&token, 44 - skew),
        Err(VerifyError::NotYetValid)
    );
}

/// A database clock slightly ahead of the verifier's stamps `iat` in the
/// verifier's future: a token issued a moment ago must still pass.
#[test]
fn iat_a_little_ahead_is_accepted_even_without_leeway() {
    let key = Key::from_bytes(vec![1; 32]).unwrap();
    let strict = Verifier::new(&key, &[Algorithm::HS256]);
    let ahead = sign(Algorithm::HS256, &key, r#"{"exp":700,"iat":102}"#);
    assert!(strict.verify(&ahead, 100).is_ok(), "2 s ahead");
    let far = sign(Algorithm::HS256, &key, r#"{"exp":700,"iat":106}"#);
    assert_eq!(strict.verify(&far, 100), Err(VerifyError::IssuedInFuture));
}

#[test]
fn audience_string_or_array() {
    let key = Key::from_bytes(vec![1; 32]).unwrap();
    let verifier = Verifier::new(&key, &[Algorithm::HS256]).with_audience(Some("api".into()));
    let single = sign(Algorithm::HS256, &key, r#"{"exp":9,"aud":"api"}"#);
    let list = sign(Algorithm::HS256, &key, r#"{"exp":9,"aud":["x","api"]}"#);
    let other = sign(Algorithm::HS256, &key, r#"{"exp":9,"aud":"web"}"#);
    let none = sign(Algorithm::HS256, &key, r#"{"exp":9}"#);
    assert!(verifier.verify(&single, 1).is_ok());
    assert!(verifier.verify(&list, 1).is_ok());
    assert_eq!(verifier.verify(&other, 1), Err(VerifyError::WrongAudience));
    assert_eq!(verifier.verify(&none, 1), Err(VerifyError::WrongAudience));
}

#[test]
fn verify_signature_ignores_time_but_not_the_key() {
    let key = Key::from_bytes(vec![1; 32]).unwrap();
    let token = sign(Algorithm::HS256, &key, r#"{"exp":1,"sid":"s"}"#);
    let verifier = Verifier::new(&key, &[Algorithm::HS256]);
    assert_eq!(verifier.verify(&token, 10), Err(VerifyError::Expired));
    assert_eq!(
        verifier.verify_signature(&token).unwrap().get_str("sid"),
        Some("s")
    );
    let other = Verifier::new(&Key::from_bytes(vec![2; 32]).unwrap(), &[Algorithm::HS256]);
    assert_eq!(
        other.verify_signature(&token),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn a_maximum_lifetime_refuses_longer_lived_tokens() {
    let key = Key::from_secret("independent-implementation-key-0123456789", false).unwrap();
    let verifier = Verifier::new(&key, &[Algorithm::HS256]).with_max_lifetime(600);
    let now = 1_800_000_000;
    let token = |claims: String| sign(Algorithm::HS256, &key, &claims);
    let fine = token(format!(r#"{{"iat":{now},"exp":{}}}"#, now + 600));
    assert!(verifier.verify(&fine, now).is_ok());
    let no_iat = token(format!(r#"{{"exp":{}}}"#, now + 600));
    assert!(
        verifier.verify(&no_iat, now).is_ok(),
        "without iat: from now"
    );
    for claims in [
        format!(r#"{{"iat":{now},"exp":{}}}"#, now + 601),
        format!(r#"{{"exp":{}}}"#, now + 601),
        format!(r#"{{"iat":{},"exp":{}}}"#, now - 86_400, now + 60),
    ] {
        assert_eq!(
            verifier.verify(&token(claims.clone()), now),
            Err(VerifyError::InvalidClaims),
            "{claims}"
        );
    }
    let unlimited = Verifier::new(&key, &[Algorithm::HS256]);
    assert!(unlimited
        .verify(&token(format!(r#"{{"exp":{}}}"#, now + 86_400 * 365)), now)
        .is_ok());
}

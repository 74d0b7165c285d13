//! ES256 verification speed, natively: jwt_core (one wNAF chain with
//! precomputed tables, `asymmetric/es256.rs`) and p256's own verifier side
//! by side, on the same unique tokens, in alternating rounds; and EdDSA.
//!
//!     cargo run -q --release -p jwt_core --example verify_speed -- 2000 5
//!
//! Prints µs per verification (median of the rounds) and the ratio.

use std::time::Instant;

use base64::Engine as _;
use jwt_core::{sign_with_key, Jwks, KeyAlgorithm, PrivateKey, Verifier};
use p256::ecdsa::signature::Verifier as _;

type Tokens = (Verifier, Vec<String>, p256::ecdsa::VerifyingKey);

fn tokens(algorithm: KeyAlgorithm, count: usize) -> Result<Tokens, String> {
    let secret = [7u8; 32];
    let key = PrivateKey::from_bytes(algorithm, &secret).ok_or("no key")?;
    let public = key.public_key();
    let kid = public.thumbprint();
    let jwks = serde_json::json!({ "keys": [public.to_jwk(&kid)] }).to_string();
    let verifier = Verifier::from_jwks(Jwks::parse(&jwks).map_err(|e| format!("{e:?}"))?);
    let tokens = (0..count)
        .map(|jti| {
            sign_with_key(
                &key,
                &kid,
                &format!(r#"{{"role":"r","jti":"{jti}","exp":4102444800}}"#),
            )
        })
        .collect();
    let reference = p256::ecdsa::SigningKey::from_slice(&secret).map_err(|e| e.to_string())?;
    Ok((verifier, tokens, *reference.verifying_key()))
}

fn micros_per(count: usize, run: impl Fn()) -> f64 {
    let start = Instant::now();
    run();
    start.elapsed().as_secs_f64() * 1e6 / count as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() -> Result<(), String> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (count, rounds) = (
        args.first().copied().unwrap_or(2000),
        args.get(1).copied().unwrap_or(5),
    );
    let (verifier, es256, reference) = tokens(KeyAlgorithm::ES256, count)?;
    let first = Instant::now();
    assert!(es256
        .first()
        .is_some_and(|token| verifier.verify_signature(token).is_ok()));
    println!(
        "ES256 first verification with a key (builds its tables): {:.0} µs",
        first.elapsed().as_secs_f64() * 1e6
    );
    let parts: Vec<(Vec<u8>, p256::ecdsa::Signature)> = es256
        .iter()
        .map(|token| {
            let (input, signature) = token.rsplit_once('.').ok_or("no signature")?;
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(signature)
                .map_err(|e| e.to_string())?;
            let signature =
                p256::ecdsa::Signature::from_slice(&bytes).map_err(|e| e.to_string())?;
            Ok((input.as_bytes().to_vec(), signature))
        })
        .collect::<Result<_, String>>()?;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let jwt_core = || {
            es256
                .iter()
                .for_each(|t| assert!(verifier.verify_signature(t).is_ok()))
        };
        let p256 = || {
            parts
                .iter()
                .for_each(|(m, s)| assert!(reference.verify(m, s).is_ok()))
        };
        if round % 2 == 0 {
            ours.push(micros_per(count, jwt_core));
            theirs.push(micros_per(count, p256));
        } else {
            theirs.push(micros_per(count, p256));
            ours.push(micros_per(count, jwt_core));
        }
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!("ES256 jwt_core (whole JWS): {ours:.1} µs per verification");
    println!("ES256 p256 0.13 verifier (signature only): {theirs:.1} µs per verification");
    println!("ratio p256 / jwt_core: {:.2}x", theirs / ours);
    let (verifier, eddsa, _) = tokens(KeyAlgorithm::EdDSA, count)?;
    let eddsa = median(
        (0..rounds)
            .map(|_| {
                micros_per(count, || {
                    eddsa
                        .iter()
                        .for_each(|t| assert!(verifier.verify_signature(t).is_ok()))
                })
            })
            .collect(),
    );
    println!("EdDSA jwt_core (whole JWS): {eddsa:.1} µs per verification");
    Ok(())
}

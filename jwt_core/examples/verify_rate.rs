//! Verifications per second of this build, by algorithm, one unique token
//! per verification (so nothing is cached anywhere):
//!
//!     cargo run -q --release -p jwt_core --example verify_rate [COUNT]
//!
//! The same code runs in the wasm filters; compare with tests/bench/keys.py.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use jwt_core::{sign, sign_with_key, Algorithm, Jwks, Key, KeyAlgorithm, PrivateKey, Verifier};

fn main() -> Result<(), String> {
    let count: usize = match std::env::args().nth(1) {
        Some(text) => text.parse().map_err(|e| format!("COUNT: {e}"))?,
        None => 2000,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let payload = |n: usize| format!(r#"{{"sub":"demo","jti":"{n}","exp":{}}}"#, now + 3600);
    let secret = Key::from_bytes(vec![7; 32]).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let hs: Vec<String> = (0..count)
        .map(|n| sign(Algorithm::HS256, &secret, &payload(n)))
        .collect();
    rows.push(("HS256", Verifier::new(&secret, &[Algorithm::HS256]), hs));
    for algorithm in KeyAlgorithm::ALL {
        let key = PrivateKey::from_bytes(algorithm, &[9; 32]).ok_or("no key")?;
        let kid = key.public_key().thumbprint();
        let jwks = serde_json::json!({ "keys": [key.public_key().to_jwk(&kid)] });
        let jwks = Jwks::parse(&jwks.to_string()).map_err(|e| e.to_string())?;
        let tokens = (0..count)
            .map(|n| sign_with_key(&key, &kid, &payload(n)))
            .collect();
        rows.push((algorithm.name(), Verifier::from_jwks(jwks), tokens));
    }
    println!("{count} unique tokens per algorithm, one verification each");
    for (name, verifier, tokens) in rows {
        let started = Instant::now();
        for token in &tokens {
            verifier
                .verify(token, now as i64)
                .map_err(|e| format!("{name}: {e}"))?;
        }
        let micros = started.elapsed().as_secs_f64() * 1e6 / count as f64;
        println!(
            "  {name:<6} {micros:>8.1} µs per verification  {:>9.0} per second",
            1e6 / micros
        );
    }
    Ok(())
}

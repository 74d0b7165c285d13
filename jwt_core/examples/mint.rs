//! Mints access tokens with a fresh key pair, for the on-demand benchmarks
//! (tests/bench/keys.py): prints `{"jwks": {...}, "tokens": [...]}`.
//!
//!     cargo run -q --release -p jwt_core --example mint -- ES256 1000 3600
//!
//! ALGORITHM is ES256 or EdDSA; each token has its own `jti`, so that COUNT
//! tokens are COUNT different strings; they expire LIFETIME seconds from now.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use jwt_core::{sign_with_key, KeyAlgorithm, PrivateKey, PRIVATE_KEY_BYTES};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [algorithm, count, lifetime] = args.as_slice() else {
        return Err("usage: mint ES256|EdDSA COUNT LIFETIME_SECONDS".into());
    };
    let algorithm: KeyAlgorithm = algorithm.parse().map_err(|e| format!("{e:?}"))?;
    let count: usize = count.parse().map_err(|e| format!("COUNT: {e}"))?;
    let lifetime: u64 = lifetime.parse().map_err(|e| format!("LIFETIME: {e}"))?;
    let key = loop {
        let mut seed = [0u8; PRIVATE_KEY_BYTES];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut random| random.read_exact(&mut seed))
            .map_err(|e| format!("/dev/urandom: {e}"))?;
        if let Some(key) = PrivateKey::from_bytes(algorithm, &seed) {
            break key;
        }
    };
    let public = key.public_key();
    let kid = public.thumbprint();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let tokens: Vec<String> = (0..count)
        .map(|jti| {
            let claims = serde_json::json!({
                "role": "basic_subscriber", "username": "demo", "sub": "demo",
                "jti": jti.to_string(), "iat": now, "exp": now + lifetime,
            });
            sign_with_key(&key, &kid, &claims.to_string())
        })
        .collect();
    let jwks = serde_json::json!({ "keys": [public.to_jwk(&kid)] });
    println!("{}", serde_json::json!({ "jwks": jwks, "tokens": tokens }));
    Ok(())
}

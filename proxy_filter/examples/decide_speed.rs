//! How long the policy takes per request, natively, beyond the host: a
//! browser-like request with a cached ES256 access cookie, read and decided.
//!
//!     cargo run -q --release -p proxy_filter --example decide_speed -- 200000
//!
//! Prints ns per read_request + decide, and each half.

use std::time::Instant;

use jwt_core::{sign_with_key, KeyAlgorithm, PrivateKey};
use proxy_filter::{Decision, Policy, Vars};

fn main() -> Result<(), String> {
    let count: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let key = PrivateKey::from_bytes(KeyAlgorithm::ES256, &[7; 32]).ok_or("no key")?;
    let public = key.public_key();
    let kid = public.thumbprint();
    let jwks = serde_json::json!({ "keys": [public.to_jwk(&kid)] });
    let config = serde_json::json!({ "jwks": jwks }).to_string();
    let policy =
        Policy::from_json(config.as_bytes(), &Vars(|_| None)).map_err(|e| e.to_string())?;
    let now = 1_900_000_000;
    let token = sign_with_key(
        &key,
        &kid,
        r#"{"role":"basic_subscriber","username":"demo","sub":"demo","exp":1900000600}"#,
    );
    let cookie = format!("theme=dark; access_token={token}; refresh_token=abc");
    let headers: Vec<(String, Vec<u8>)> = [
        (":method", "GET"),
        (":path", "/rest/task?select=*&order=id"),
        (":authority", "app.example.com"),
        (":scheme", "https"),
        ("accept", "application/json"),
        ("accept-encoding", "gzip, deflate, br"),
        ("accept-language", "en-GB,en;q=0.9"),
        (
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36",
        ),
        ("referer", "https://app.example.com/"),
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-mode", "cors"),
        ("x-forwarded-for", "203.0.113.7"),
        ("x-request-id", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ("cookie", cookie.as_str()),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.as_bytes().to_vec()))
    .collect();
    let read = || policy.read_request(headers.iter().map(|(n, v)| (n.as_str(), v)));
    let first = read();
    let Decision::Forward(_) = policy.decide(&first, Some(now)) else {
        return Err("the request was denied".into());
    };
    let start = Instant::now();
    for _ in 0..count {
        std::hint::black_box(read());
    }
    let reading = start.elapsed().as_nanos() / u128::from(count);
    let start = Instant::now();
    for _ in 0..count {
        std::hint::black_box(policy.decide(&first, Some(now)));
    }
    let deciding = start.elapsed().as_nanos() / u128::from(count);
    println!(
        "read_request: {reading} ns, decide (cached token): {deciding} ns, together {} ns",
        reading + deciding
    );
    Ok(())
}

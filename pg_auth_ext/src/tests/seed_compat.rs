// `auth.sign_raw` against the seed's plpgsql, loaded into schema `seed`.


const SEED_SQL: &str = include_str!("../../../tests/seed/seed.sql");

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64)]
    }
}

fn random_payload(rng: &mut Rng) -> String {
    let keys = ["role", "username", "sub", "exp", "a b", "ключ", "emoji😀", "q\"uote"];
    let values = [
        "\"basic_subscriber\"",
        "1751674091",
        "-0.5e3",
        "true",
        "null",
        "[1, 2 ,3]",
        "{\"nested\" : {\"x\":\"y\"}}",
        "\"tab\\tnew\\nline\"",
        "\"\\u00e9t\\u00e9\"",
        "\"日本語\"",
        "\"<script>&'\"",
    ];
    let spaces = ["", " ", "  ", "\n", "\t"];
    let members: Vec<String> = (0..rng.below(6))
        .map(|_| {
            let key = serde_json::to_string(rng.pick(&keys)).unwrap();
            format!("{}{key}{}:{}{}", rng.pick(&spaces), rng.pick(&spaces), rng.pick(&spaces), rng.pick(&values))
        })
        .collect();
    format!("{{{}}}", members.join(","))
}

fn random_secret(rng: &mut Rng) -> String {
    let bytes: Vec<u8> = (0..32 + rng.below(40)).map(|_| rng.next() as u8).collect();
    match rng.below(4) {
        // base64, as `openssl rand -base64 N` prints it
        0 => base64_standard(&bytes),
        // hex: matches the seed's base64 pattern, so it is decoded as base64
        1 => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            if hex.len() % 4 == 0 { hex } else { format!("{hex}ab") }
        }
        // plain text with characters outside base64: used as UTF-8 bytes
        2 => format!("my secret: {}!", base64_standard(&bytes)),
        _ => format!("pässwörd-{}-ünïcode", base64_standard(&bytes)),
    }
}

fn base64_standard(bytes: &[u8]) -> String {
    use std::fmt::Write;
    // Standard base64 via Postgres itself would need a round trip; do it here.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.write_char(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char).unwrap();
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[pg_test]
fn sign_raw_is_byte_identical_to_the_seed() {
    sql(SEED_SQL);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut compared = 0;
    for _ in 0..300 {
        let payload = literal(&random_payload(&mut rng));
        let secret = literal(&random_secret(&mut rng));
        let alg = literal(rng.pick(&["HS256", "HS384", "HS512"]));
        let seed = text(&format!("select seed.sign_raw({payload}::json, {secret}, {alg})"));
        let ours = text(&format!("select auth.sign_raw({payload}::json, {secret}, {alg})"));
        assert_eq!(ours, seed, "payload {payload}, secret {secret}, {alg}");
        compared += 1;
    }
    // The default algorithm too.
    let ours = text(&format!("select auth.sign_raw('{{\"a\":1}}', {})", literal(SECRET_B64)));
    let seed = text(&format!("select seed.sign_raw('{{\"a\":1}}', {})", literal(SECRET_B64)));
    assert_eq!(ours, seed);
    assert_eq!(compared, 300);
}

#[pg_test(error = "unsupported JWT algorithm \"RS256\": use HS256, HS384 or HS512")]
fn sign_raw_refuses_unknown_algorithms() {
    // The seed silently signed with SHA-256 under an "RS256" header.
    sql(&format!("select auth.sign_raw('{{}}', {}, 'RS256')", literal(SECRET_B64)));
}

#[pg_test(error = "secret: JWT secret is 6 bytes long; at least 32 are required (generate one with `openssl rand -base64 32`)")]
fn sign_raw_refuses_short_secrets() {
    sql("select auth.sign_raw('{}', 'short!', 'HS256')");
}

#[pg_test(error = "secret: JWT secret is declared base64 but does not decode as base64")]
fn sign_raw_refuses_what_the_seed_could_not_decode() {
    // Matches the seed's base64 pattern but is not valid base64 (the seed failed too).
    sql("select auth.sign_raw('{}', 'abcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcde1', 'HS256')");
}

#[pg_test]
fn generate_access_token_carries_the_seeds_claims() {
    sql("set pg_auth.access_token_ttl = 600");
    let token = text(&format!("select auth.generate_access_token('basic_subscriber', 'demo', {})", literal(SECRET_B64))).unwrap();
    let claims = verify(&token);
    assert_eq!(claims.get_str("role"), Some("basic_subscriber"));
    assert_eq!(claims.get_str("username"), Some("demo"));
    assert_eq!(claims.get_str("sub"), Some("demo"));
    let exp = claims.get("exp").unwrap().as_i64().unwrap();
    let iat = claims.get("iat").unwrap().as_i64().unwrap();
    assert_eq!(iat, db_now());
    assert_eq!(exp - iat, 600);
}

#[pg_test]
fn generate_access_token_escapes_names() {
    let token = text(&format!(
        "select auth.generate_access_token('r\"ole', 'de\\mo\"}}', {})",
        literal(SECRET_B64)
    ))
    .unwrap();
    let claims = verify(&token);
    assert_eq!(claims.get_str("role"), Some("r\"ole"));
    assert_eq!(claims.get_str("username"), Some("de\\mo\"}"));
}

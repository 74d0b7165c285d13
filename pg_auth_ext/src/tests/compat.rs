//! `auth.sign_raw` and `auth.generate_access_token` against the plpgsql of
//! the plpgsql + caddy-jwt setup, loaded into schema `plpgsql_auth`.

#[pgrx::pg_schema]
mod tests {
    use std::collections::BTreeSet;

    use jwt_core::Claims;
    use pgrx::prelude::*;

    use crate::tests::fixtures::*;

    const PLPGSQL_AUTH: &str = include_str!("../../../tests/compat/plpgsql_auth.sql");

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
        let keys = [
            "role",
            "username",
            "sub",
            "exp",
            "a b",
            "ключ",
            "emoji😀",
            "q\"uote",
        ];
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
                format!(
                    "{}{key}{}:{}{}",
                    rng.pick(&spaces),
                    rng.pick(&spaces),
                    rng.pick(&spaces),
                    rng.pick(&values)
                )
            })
            .collect();
        format!("{{{}}}", members.join(","))
    }

    /// At least `min_bytes` random bytes (an algorithm's shortest key), in one
    /// of four forms.
    fn random_secret(rng: &mut Rng, min_bytes: usize) -> String {
        let bytes: Vec<u8> = (0..min_bytes + rng.below(40))
            .map(|_| rng.next() as u8)
            .collect();
        match rng.below(4) {
            // base64, as `openssl rand -base64 N` prints it
            0 => base64_standard(&bytes),
            // hex: matches the legacy setup's base64 pattern, so it is decoded as base64
            1 => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                if hex.len() % 4 == 0 {
                    hex
                } else {
                    format!("{hex}ab")
                }
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
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.write_char(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char)
                        .unwrap();
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    /// Which of `random_secret`'s four forms a secret has.
    fn secret_kind(secret: &str) -> &'static str {
        if secret.starts_with("my secret") {
            "text"
        } else if secret.starts_with("p\u{e4}ssw") {
            "unicode"
        } else if secret.bytes().all(|b| b.is_ascii_hexdigit()) {
            "hex"
        } else {
            "base64"
        }
    }

    #[pg_test]
    #[cfg_attr(
        feature = "pg18",
        ignore = "the PostgreSQL 18 wheel is built without OpenSSL: no pgcrypto to compare with"
    )]
    fn sign_raw_is_byte_identical_to_the_plpgsql() {
        sql(PLPGSQL_AUTH);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut covered = BTreeSet::new();
        for _ in 0..300 {
            let payload = random_payload(&mut rng);
            let alg = rng.pick(&["HS256", "HS384", "HS512"]);
            let min_bytes = alg.parse::<jwt_core::Algorithm>().unwrap().min_key_bytes();
            let secret = random_secret(&mut rng, min_bytes);
            let (p, s, a) = (literal(&payload), literal(&secret), literal(alg));
            let theirs = text(&format!(
                "select plpgsql_auth.sign_raw({p}::json, {s}, {a})"
            ));
            let ours = text(&format!("select auth.sign_raw({p}::json, {s}, {a})"));
            assert!(ours.is_some(), "no token for {payload} / {secret} / {alg}");
            assert_eq!(ours, theirs, "payload {payload}, secret {secret}, {alg}");
            covered.insert((alg, secret_kind(&secret)));
        }
        // Every algorithm with every form of secret was compared.
        assert_eq!(covered.len(), 12, "{covered:?}");
        // The default algorithm too.
        let key = literal(secret_b64());
        let ours = text(&format!("select auth.sign_raw('{{\"a\":1}}', {key})"));
        let theirs = text(&format!(
            "select plpgsql_auth.sign_raw('{{\"a\":1}}', {key})"
        ));
        assert!(ours.is_some());
        assert_eq!(ours, theirs);
        // Where the legacy setup signed HS512 with a 32-byte key, ours refuses
        // (RFC 7518 section 3.2: a key as long as the hash output).
        assert!(error_of(&format!(
            "select auth.sign_raw('{{\"a\":1}}', {key}, 'HS512')"
        ))
        .unwrap()
        .contains("HS512 requires at least 64"));
    }

    #[pg_test(error = "unsupported JWT algorithm \"RS256\": use HS256, HS384 or HS512")]
    fn sign_raw_refuses_unknown_algorithms() {
        // The plpgsql silently signed with SHA-256 under an "RS256" header.
        sql(&format!(
            "select auth.sign_raw('{{}}', {}, 'RS256')",
            literal(secret_b64())
        ));
    }

    #[pg_test(
        error = "secret: JWT secret is 6 bytes long; at least 32 are required (generate one with `openssl rand -base64 32`)"
    )]
    fn sign_raw_refuses_short_secrets() {
        sql("select auth.sign_raw('{}', 'short!', 'HS256')");
    }

    #[pg_test(error = "secret: JWT secret is declared base64 but does not decode as base64")]
    fn sign_raw_refuses_what_the_plpgsql_could_not_decode() {
        // Matches the base64 pattern but is not valid base64 (the plpgsql failed too).
        sql("select auth.sign_raw('{}', 'abcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcde1', 'HS256')");
    }

    /// A payload near 1 GB used to make the token exceed what Postgres can
    /// allocate and abort the backend, restarting the whole cluster.
    #[pg_test]
    fn sign_raw_refuses_huge_payloads_with_an_error() {
        let error = error_of(&format!(
            "select auth.sign_raw(('\"' || repeat('x', 2000000) || '\"')::json, {})",
            literal(secret_b64())
        ));
        assert_eq!(
            error.as_deref(),
            Some("54000: payload is 2000002 bytes long; at most 1048576 can be signed")
        );
    }

    /// The verified claims of `auth.generate_access_token(role, username, the secret)`.
    fn generated_token_claims(role: &str, username: &str) -> Claims {
        let token = text(&format!(
            "select auth.generate_access_token({}, {}, {})",
            literal(role),
            literal(username),
            literal(secret_b64())
        ))
        .unwrap();
        let claims = verify(&token);
        assert_eq!(claims.get_str("role"), Some(role));
        assert_eq!(claims.get_str("username"), Some(username));
        claims
    }

    #[pg_test]
    fn generate_access_token_carries_the_old_claims() {
        sql("set pg_auth.access_token_ttl = 600");
        let claims = generated_token_claims("basic_subscriber", "demo");
        assert_eq!(claims.get_str("sub"), Some("demo"));
        let exp = claims.get("exp").unwrap().as_i64().unwrap();
        let iat = claims.get("iat").unwrap().as_i64().unwrap();
        assert_eq!(iat, db_now());
        assert_eq!(exp - iat, 600);
    }

    #[pg_test]
    fn generate_access_token_escapes_names() {
        generated_token_claims("r\"ole", "de\\mo\"}");
    }
}

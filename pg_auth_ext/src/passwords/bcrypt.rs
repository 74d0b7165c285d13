//! bcrypt (Provos and Mazières' Eksblowfish), written over the `blowfish`
//! crate's bcrypt primitives so that the expensive loop can stop for a
//! cancel or `statement_timeout` (`between_rounds`), and so that a login can
//! pad its work to exactly one hash at the configured cost whatever the
//! stored hash's cost.

use base64::alphabet::BCRYPT;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use blowfish::Blowfish;

/// The lowest cost bcrypt defines.
pub const MIN_COST: u32 = 4;
/// The highest cost this extension computes or accepts: about 0.9 s per hash
/// on one core of a 2026 server (cost 10 takes about 55 ms, and each step
/// doubles it). Cost 31 would run for about 30 hours.
pub const MAX_COST: u32 = 14;
/// bcrypt reads at most 72 bytes of a password.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// How many Eksblowfish rounds run between two interrupt checks: about
/// 1 ms of work.
const ROUNDS_PER_CHECK: u64 = 16;

/// bcrypt's base64: its own alphabet, no padding. Like crypt_blowfish, the
/// unused low bits of the last character are ignored.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &BCRYPT,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// A parsed `$2a$`/`$2b$`/`$2y$` hash. These versions compute the same
/// digest for passwords of at most 255 bytes, and longer ones are refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hash {
    cost: u32,
    salt: [u8; 16],
    digest: [u8; 23],
}

impl Hash {
    /// A well-formed hash with a cost in `MIN_COST..=31`, or `None`.
    pub fn parse(text: &str) -> Option<Hash> {
        let rest = ["$2a$", "$2b$", "$2y$"]
            .iter()
            .find_map(|prefix| text.strip_prefix(prefix))?;
        let (cost, encoded) = rest.split_once('$')?;
        if cost.len() != 2 || encoded.len() != 53 || !encoded.is_ascii() {
            return None;
        }
        let cost: u32 = cost.parse().ok()?;
        if !(MIN_COST..=31).contains(&cost) {
            return None;
        }
        let (salt, digest) = encoded.split_at(22);
        Some(Hash {
            cost,
            salt: BASE64.decode(salt).ok()?.try_into().ok()?,
            digest: BASE64.decode(digest).ok()?.try_into().ok()?,
        })
    }

    /// Hashes `password` (1 to 72 bytes) at `cost` with `salt`.
    pub fn compute(
        password: &[u8],
        cost: u32,
        salt: [u8; 16],
        between_rounds: &mut dyn FnMut(),
    ) -> Hash {
        Hash {
            cost,
            salt,
            digest: eksblowfish(password, cost, &salt, between_rounds),
        }
    }

    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// Whether `password` has this hash, compared in constant time.
    pub fn matches(&self, password: &[u8], between_rounds: &mut dyn FnMut()) -> bool {
        let digest = eksblowfish(password, self.cost, &self.salt, between_rounds);
        digest
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// `$2a$`: the version pgcrypto's `crypt()` reads (it refuses `$2b$`).
    pub fn format(&self) -> String {
        format!(
            "$2a${:02}${}{}",
            self.cost,
            BASE64.encode(self.salt),
            BASE64.encode(self.digest)
        )
    }
}

/// The same work as verifying a hash of `cost` against nothing: for unknown
/// users and refused passwords, so that they answer in the same time.
pub fn burn(cost: u32, between_rounds: &mut dyn FnMut()) {
    let _ = eksblowfish(b"timing-equaliser", cost, &[0x5a; 16], between_rounds);
}

/// Extra Eksblowfish rounds that make a verification at `from` cost as much
/// as one at `to` (nothing when `from >= to`).
pub fn pad(from: u32, to: u32, between_rounds: &mut dyn FnMut()) {
    if from >= to {
        return;
    }
    let mut state = Blowfish::bc_init_state();
    expand_rounds(
        &mut state,
        (1u64 << to) - (1u64 << from),
        b"pad",
        &[0; 16],
        between_rounds,
    );
}

fn eksblowfish(
    password: &[u8],
    cost: u32,
    salt: &[u8; 16],
    between_rounds: &mut dyn FnMut(),
) -> [u8; 23] {
    // The password with its terminating NUL, at most 72 bytes in all.
    let mut key = [0u8; MAX_PASSWORD_BYTES];
    let used = password.len().min(MAX_PASSWORD_BYTES);
    key.get_mut(..used)
        .unwrap_or_default()
        .copy_from_slice(password.get(..used).unwrap_or_default());
    let key = key
        .get(..(used + 1).min(MAX_PASSWORD_BYTES))
        .unwrap_or_default();

    let mut state = Blowfish::bc_init_state();
    state.salted_expand_key(salt, key);
    expand_rounds(&mut state, 1u64 << cost.min(31), key, salt, between_rounds);

    // "OrpheanBeholderScryDoubt", encrypted 64 times.
    let mut text: [u32; 6] = [
        0x4f72_7068,
        0x6561_6e42,
        0x6568_6f6c,
        0x6465_7253,
        0x6372_7944,
        0x6f75_6274,
    ];
    for pair in text.chunks_exact_mut(2) {
        let mut block = [
            pair.first().copied().unwrap_or(0),
            pair.last().copied().unwrap_or(0),
        ];
        for _ in 0..64 {
            block = state.bc_encrypt(block);
        }
        pair.copy_from_slice(&block);
    }
    let mut digest = [0u8; 23];
    let bytes: Vec<u8> = text.iter().flat_map(|word| word.to_be_bytes()).collect();
    digest.copy_from_slice(bytes.get(..23).unwrap_or(&[0; 23]));
    digest
}

fn expand_rounds(
    state: &mut Blowfish,
    rounds: u64,
    key: &[u8],
    salt: &[u8],
    between_rounds: &mut dyn FnMut(),
) {
    for round in 0..rounds {
        if round % ROUNDS_PER_CHECK == 0 {
            between_rounds();
        }
        state.bc_expand_key(key);
        state.bc_expand_key(salt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing() {}

    #[test]
    fn agrees_with_the_bcrypt_crate_and_pgcrypto() {
        // pgcrypto: crypt('demo', gen_salt('bf')), cost 6.
        let pgcrypto = "$2a$06$5her.iFKmYlG8Xx4Q4OpVOnyWHV7j9YKOy5U/Ct0qvIkqbDMcW.DK";
        let hash = Hash::parse(pgcrypto).unwrap();
        assert_eq!(hash.cost(), 6);
        assert!(hash.matches(b"demo", &mut nothing));
        assert!(!hash.matches(b"Demo", &mut nothing));
        assert_eq!(hash.format(), pgcrypto);
        for (password, cost) in [(&b"x"[..], 4), (b"correct horse", 5), (&[b'a'; 72], 4)] {
            let theirs = ::bcrypt::hash_with_salt(password, cost, [7; 16]).unwrap();
            let ours = Hash::compute(password, cost, [7; 16], &mut nothing);
            assert_eq!(
                ours.format(),
                theirs.format_for_version(::bcrypt::Version::TwoA)
            );
            assert!(::bcrypt::verify(password, &ours.format()).unwrap());
        }
    }

    #[test]
    fn openbsd_vectors() {
        // From the OpenBSD / jBCrypt test suites.
        let vectors = [
            (
                "",
                "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.",
            ),
            (
                "abc",
                "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i",
            ),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC",
            ),
            (
                "~!@#$%^&*()      ~!@#$%^&*()PNBFRD",
                "$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO",
            ),
        ];
        for (password, expected) in vectors {
            let hash = Hash::parse(expected).unwrap();
            assert!(
                hash.matches(password.as_bytes(), &mut nothing),
                "{password}"
            );
        }
    }

    #[test]
    fn parse_is_strict() {
        let good = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
        assert_eq!(Hash::parse(good).unwrap().cost(), 10);
        assert!(Hash::parse(&good.replace("$2b$", "$2y$")).is_some());
        for bad in [
            "$2x$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
            "$2b$3$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
            "$2b$03$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
            "$2b$32$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
            "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhW",
            "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhW!",
            "demo",
            "",
        ] {
            assert!(Hash::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_loop_yields_and_padding_counts_rounds() {
        let mut checks = 0;
        Hash::compute(b"pw", 8, [1; 16], &mut || checks += 1);
        assert_eq!(checks, 256 / ROUNDS_PER_CHECK);
        let mut padded = 0;
        pad(6, 8, &mut || padded += 1);
        // 2^8 - 2^6 = 192 rounds, checked every 16.
        assert_eq!(padded, 192 / ROUNDS_PER_CHECK);
        let mut none = 0;
        pad(8, 8, &mut || none += 1);
        assert_eq!(none, 0);
    }
}

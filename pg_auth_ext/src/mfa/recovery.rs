//! Recovery codes: ten per account at its first second factor, each usable
//! once in place of a code. 80 random bits each, shown once as
//! `XXXX-XXXX-XXXX-XXXX` in an alphabet without look-alikes (no I, O, 0, 1);
//! only their SHA-256 is stored (80 bits make that enough, as for the
//! refresh tokens' 256).

use pgrx::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{AuthError, OrRaise};

const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CODE_CHARS: usize = 16;

/// `count` new recovery codes, with what is stored of each.
#[pg_extern(volatile)]
fn new_recovery_codes(
    count: i32,
) -> TableIterator<'static, (name!(code, String), name!(code_hash, Vec<u8>))> {
    let count = usize::try_from(count).unwrap_or(0).min(100);
    let codes = (0..count)
        .map(|_| {
            let code = new_code().or_raise();
            let hash = digest(&code);
            (format_code(&code), hash)
        })
        .collect::<Vec<_>>();
    TableIterator::new(codes)
}

/// What is stored of a recovery code as a user types it (any case, with or
/// without dashes and spaces); NULL for anything that cannot be one.
#[pg_extern(immutable, parallel_safe)]
fn recovery_code_hash(code: &str) -> Option<Vec<u8>> {
    if code.len() > 64 {
        return None;
    }
    let plain: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (plain.len() == CODE_CHARS && plain.bytes().all(|b| ALPHABET.contains(&b)))
        .then(|| digest(&plain))
}

fn new_code() -> Result<String, AuthError> {
    let mut bytes = [0u8; CODE_CHARS];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    // 32 divides 256: taking each byte mod 32 is uniform.
    Ok(bytes
        .iter()
        .filter_map(|b| ALPHABET.get(usize::from(b % 32)).copied().map(char::from))
        .collect())
}

fn format_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

fn digest(code: &str) -> Vec<u8> {
    Sha256::digest(code.as_bytes()).to_vec()
}

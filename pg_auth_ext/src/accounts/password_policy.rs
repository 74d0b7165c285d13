//! The policy for new passwords (sign-up, reset, change): a minimum length
//! (`pg_auth.password_min_length`), an optional blocklist file of breached
//! or banned passwords (`pg_auth.password_blocklist_file`, one per line,
//! compared without case) and a strength estimate by zxcvbn
//! (`pg_auth.password_min_score`, 0-4). Existing passwords keep working:
//! the policy applies when a password is chosen.

use std::cell::RefCell;
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;

use crate::passwords::MAX_PASSWORD_BYTES;
use crate::settings;

/// zxcvbn's cost grows with the length; beyond this many characters a
/// password is strong by length alone, and only this prefix is estimated.
const ESTIMATED_CHARS: usize = 100;
/// A blocklist is read into every backend that checks a password: a list of
/// common passwords, not a full breach corpus.
pub(crate) const MAX_BLOCKLIST_BYTES: u64 = 16 << 20;

pub(super) fn weakness(password: &str, known: &[Option<&str>]) -> Option<String> {
    let length = password.chars().count();
    let min_length = settings::password_min_length();
    if length < min_length {
        return Some(format!("Use at least {min_length} characters"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        // bcrypt reads no more: refused here, with the reason, rather than
        // by the hash (a 400 with no slug) or silently truncated.
        return Some(format!(
            "Use at most {MAX_PASSWORD_BYTES} bytes (this one has {})",
            password.len()
        ));
    }
    let lower = password.to_lowercase();
    if known
        .iter()
        .flatten()
        .any(|word| word.chars().count() >= 3 && lower.contains(&word.to_lowercase()))
    {
        return Some("Do not use your username or email address in the password".into());
    }
    match blocked(password) {
        Ok(true) => {
            return Some("This password is on the list of breached or banned passwords".into())
        }
        Ok(false) => {}
        Err(problem) => return Some(problem),
    }
    let min_score = settings::password_min_score();
    if min_score == 0 {
        return None;
    }
    let prefix: String = password.chars().take(ESTIMATED_CHARS).collect();
    let inputs: Vec<&str> = known
        .iter()
        .flatten()
        .flat_map(|k| k.split(['@', '.', '+']))
        .collect();
    let estimate = zxcvbn::zxcvbn(&prefix, &inputs);
    if u8::from(estimate.score()) >= min_score {
        return None;
    }
    let feedback = estimate.feedback();
    let warning = feedback.and_then(|f| f.warning()).map(|w| w.to_string());
    let suggestion = feedback
        .and_then(|f| f.suggestions().first())
        .map(|s| s.to_string());
    Some(
        [Some("Too easy to guess".to_owned()), warning, suggestion]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(". "),
    )
}

/// The blocklist as last read.
struct Blocklist {
    path: String,
    /// (modified, size): a changed file is read again.
    version: (i64, u64),
    /// Its lines, in lower case.
    words: HashSet<String>,
}

thread_local! {
    static BLOCKLIST: RefCell<Option<Blocklist>> = const { RefCell::new(None) };
}

/// Whether the blocklist holds `password`; Err when the file named cannot
/// be used (the password is then refused: a policy that silently lapsed
/// would be worse).
fn blocked(password: &str) -> Result<bool, String> {
    let Some(path) = settings::password_blocklist_file() else {
        return Ok(false);
    };
    let unusable = |why: String| format!("pg_auth.password_blocklist_file {path:?}: {why}");
    let metadata = std::fs::metadata(&path).map_err(|e| unusable(e.kind().to_string()))?;
    if metadata.len() > MAX_BLOCKLIST_BYTES {
        return Err(unusable(format!("larger than {MAX_BLOCKLIST_BYTES} bytes")));
    }
    let version = (metadata.mtime(), metadata.len());
    let needle = password.to_lowercase();
    BLOCKLIST.with(|cache| {
        let mut cache = cache.borrow_mut();
        let fresh = cache
            .as_ref()
            .is_some_and(|list| list.path == path && list.version == version);
        if !fresh {
            let text =
                std::fs::read_to_string(&path).map_err(|e| unusable(e.kind().to_string()))?;
            let words = text
                .lines()
                .map(|line| line.trim().to_lowercase())
                .filter(|l| !l.is_empty())
                .collect();
            *cache = Some(Blocklist {
                path: path.clone(),
                version,
                words,
            });
        }
        Ok(cache
            .as_ref()
            .is_some_and(|list| list.words.contains(&needle)))
    })
}

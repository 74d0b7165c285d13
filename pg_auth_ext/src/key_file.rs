//! Key material from files, as PostgreSQL reads `ssl_key_file`: a file must
//! belong to the server's OS user (mode 0600 or stricter) or to root (0640 or
//! stricter). Two files: the shared secret (`pg_auth.jwt_secret_file`) and
//! the key that encrypts the private keys of `auth.signing_key`
//! (`pg_auth.key_encryption_key_file`). A key in a setting would show in the
//! server log when changed and to members of `pg_read_all_settings`; a key in
//! a file shows nowhere.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use base64::Engine;
use hmac::{Hmac, Mac};
use jwt_core::{Key, MIN_KEY_BYTES};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::AuthError;
use crate::settings;

/// What identifies one version of a file, so that a changed file is read
/// again and an unchanged one is not.
#[derive(Clone, PartialEq, Eq)]
struct Version {
    device: u64,
    inode: u64,
    modified_ns: i128,
    size: u64,
}

thread_local! {
    static CACHE: RefCell<HashMap<String, (Version, Vec<u8>)>> = RefCell::new(HashMap::new());
}

/// The shared secret, or why it cannot be used.
pub fn shared_secret() -> Result<Key, AuthError> {
    const SETTING: &str = "pg_auth.jwt_secret_file";
    let path = settings::jwt_secret_file().ok_or(AuthError::MissingKey)?;
    let text = read_text(SETTING, &path)?;
    Key::from_secret(&text, settings::jwt_secret_is_base64()).map_err(AuthError::Key)
}

/// Whether a shared secret is configured (verifiers also accept its tokens).
pub fn has_shared_secret() -> bool {
    settings::jwt_secret_file().is_some()
}

/// The 256-bit key that seals private signing keys, derived from the file's
/// content (at least 32 bytes of it), so that any high-entropy text will do
/// (`openssl rand -base64 32`).
pub fn key_encryption_key() -> Result<[u8; 32], AuthError> {
    let path = settings::key_encryption_key_file().ok_or(AuthError::MissingKeyEncryptionKey)?;
    key_encryption_key_in("pg_auth.key_encryption_key_file", path)
}

/// [`key_encryption_key`] from another file (`what` names it in errors):
/// the old one, for `auth.reseal_signing_keys`.
pub fn key_encryption_key_in(what: &'static str, path: String) -> Result<[u8; 32], AuthError> {
    let text = read_text(what, &path)?;
    // Random bytes, as `openssl rand -base64 32` writes them: HMAC is a fit
    // key derivation for high-entropy input only, not for a passphrase.
    let random_bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map(|bytes| Zeroizing::new(bytes).len())
        .unwrap_or(0);
    if random_bytes < MIN_KEY_BYTES {
        return Err(AuthError::KeyFile {
            setting: what,
            path,
            problem: format!(
                "must hold at least {MIN_KEY_BYTES} random bytes in base64 (openssl rand -base64 32), not {}",
                if random_bytes == 0 { "text that is not base64".to_owned() } else { format!("{random_bytes} bytes") }
            ),
        });
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(text.as_bytes())
        .map_err(|_| AuthError::Internal("HMAC refused a key".into()))?;
    mac.update(b"pg_auth_ext signing key encryption v1");
    Ok(mac.finalize().into_bytes().into())
}

/// The file's text without a trailing newline (`openssl rand -base64 32 >
/// file` writes one).
fn read_text(setting: &'static str, path: &str) -> Result<String, AuthError> {
    if !settings::preloaded() {
        return Err(AuthError::NotPreloaded);
    }
    let unreadable = |problem: String| AuthError::KeyFile {
        setting,
        path: path.to_owned(),
        problem,
    };
    // One open file for the checks and the read: the file checked is the
    // file read, even if someone swaps the path in between. (A symbolic link
    // is followed, as Kubernetes mounts secrets that way: its target is what
    // is opened, checked and read.)
    let mut file = std::fs::File::open(path).map_err(|e| unreadable(e.kind().to_string()))?;
    let metadata = file
        .metadata()
        .map_err(|e| unreadable(e.kind().to_string()))?;
    check_ownership(&metadata).map_err(|problem| unreadable(problem.into()))?;
    let version = Version {
        device: metadata.dev(),
        inode: metadata.ino(),
        modified_ns: i128::from(metadata.mtime()) * 1_000_000_000
            + i128::from(metadata.mtime_nsec()),
        size: metadata.size(),
    };
    let cached = CACHE.with(|cache| {
        cache
            .borrow()
            .get(path)
            .filter(|(cached, _)| *cached == version)
            .map(|(_, bytes)| bytes.clone())
    });
    let bytes = match cached {
        Some(bytes) => bytes,
        None => {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)
                .map_err(|e| unreadable(e.kind().to_string()))?;
            CACHE.with(|cache| {
                cache
                    .borrow_mut()
                    .insert(path.to_owned(), (version, bytes.clone()))
            });
            bytes
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| unreadable("is not UTF-8 text".into()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// Owned by the server's OS user and private to it, or owned by root and
/// at most group-readable.
fn check_ownership(metadata: &std::fs::Metadata) -> Result<(), &'static str> {
    if !metadata.is_file() {
        return Err("is not a regular file");
    }
    // The server's OS user owns its data directory, the working directory.
    let server_user = std::fs::metadata(Path::new("."))
        .map(|data_dir| data_dir.uid())
        .map_err(|_| "cannot tell the server's OS user")?;
    let mode = metadata.mode() & 0o777;
    match metadata.uid() {
        uid if uid == server_user && mode & 0o077 == 0 => Ok(()),
        uid if uid == server_user => {
            Err("has group or world permissions: allow only its owner (chmod 600)")
        }
        0 if mode & 0o037 == 0 => Ok(()),
        0 => Err("is owned by root and readable by others: allow at most its group (chmod 640)"),
        _ => Err("must be owned by the database server's OS user or by root"),
    }
}

//! The signing key, read from the file `pg_auth.jwt_secret_file` names, as
//! PostgreSQL reads `ssl_key_file`: the file must belong to the server's OS
//! user (mode 0600 or stricter) or to root (0640 or stricter). A key in a
//! setting would show in the server log when changed and to members of
//! `pg_read_all_settings`; a key in a file shows nowhere.

use std::cell::RefCell;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use jwt_core::Key;

use crate::error::AuthError;
use crate::settings;

/// What identifies one version of the key file, so that a changed file is
/// read again and an unchanged one is not.
#[derive(Clone, PartialEq, Eq)]
struct Version {
    path: String,
    is_base64: bool,
    device: u64,
    inode: u64,
    modified_ns: i128,
    size: u64,
}

thread_local! {
    static CACHE: RefCell<Option<(Version, Key)>> = const { RefCell::new(None) };
}

/// The configured signing key, or why it cannot be used.
pub fn signing_key() -> Result<Key, AuthError> {
    if !settings::preloaded() {
        return Err(AuthError::NotPreloaded);
    }
    let path = settings::jwt_secret_file().ok_or(AuthError::MissingKey)?;
    let unreadable = |problem: String| AuthError::KeyFile {
        path: path.clone(),
        problem,
    };
    let metadata = std::fs::metadata(&path).map_err(|e| unreadable(e.kind().to_string()))?;
    check_ownership(&metadata).map_err(|problem| unreadable(problem.into()))?;
    let version = Version {
        path: path.clone(),
        is_base64: settings::jwt_secret_is_base64(),
        device: metadata.dev(),
        inode: metadata.ino(),
        modified_ns: i128::from(metadata.mtime()) * 1_000_000_000
            + i128::from(metadata.mtime_nsec()),
        size: metadata.size(),
    };
    if let Some(key) = CACHE.with(|cache| {
        cache
            .borrow()
            .as_ref()
            .filter(|(cached, _)| *cached == version)
            .map(|(_, key)| key.clone())
    }) {
        return Ok(key);
    }
    let bytes = std::fs::read(&path).map_err(|e| unreadable(e.kind().to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| unreadable("is not UTF-8 text".into()))?;
    // `openssl rand -base64 32 > file` ends the file with a newline.
    let key = Key::from_secret(text.trim_end_matches(['\n', '\r']), version.is_base64)
        .map_err(AuthError::Key)?;
    CACHE.with(|cache| *cache.borrow_mut() = Some((version, key.clone())));
    Ok(key)
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

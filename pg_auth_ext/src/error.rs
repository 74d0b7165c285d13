//! Every failure of the extension's Rust code, with the SQLSTATE it is
//! reported under. Configuration problems are server errors (class F0, which
//! PostgREST answers with 500): a client can do nothing about them. Bad
//! arguments are 22023 (400). What a client is told about its own requests
//! (`invalid_credentials`, `session_ended`, ...) is raised from SQL with
//! `auth.fail`, from the one list in `jwt_core::Problem`.

use core::fmt;

use jwt_core::{KeyError, SetCookieError, UnknownAlgorithm};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

#[derive(Debug)]
pub enum AuthError {
    /// The library was loaded by CREATE EXTENSION or LOAD instead of
    /// `shared_preload_libraries`.
    NotPreloaded,
    MissingKey,
    MissingKeyEncryptionKey,
    /// A key file cannot be used; never says anything of its content.
    KeyFile {
        setting: &'static str,
        path: String,
        problem: String,
    },
    Key(KeyError),
    /// The `secret` argument of `sign_raw` / `generate_access_token`.
    SecretArgument(KeyError),
    UnknownAlgorithm(UnknownAlgorithm),
    PayloadTooLarge {
        bytes: usize,
        max: usize,
    },
    EmptyPassword,
    PasswordTooLong {
        bytes: usize,
    },
    HashOutsideImport,
    HashCostTooHigh {
        cost: u32,
        max: u32,
    },
    Random(String),
    Cookie(SetCookieError),
    /// A sealed private key that does not open under the key-encryption key
    /// (another key file, or a row copied from elsewhere).
    SealedKey {
        kid: String,
    },
    /// `pg_auth.webauthn_rp_id` is not set.
    PasskeysOff,
    /// The WebAuthn settings cannot be used.
    Passkeys(String),
    /// Another sealed secret (a TOTP factor's) that does not open.
    SealedSecret {
        what: String,
    },
    /// `pg_auth.signing_mode` is `keys` and no key is current.
    NoCurrentKey,
    /// The custom claims function set a claim the extension owns.
    ReservedClaim(String),
    CustomClaimsNotObject,
    Internal(String),
}

impl AuthError {
    fn sqlstate(&self) -> PgSqlErrorCode {
        match self {
            AuthError::NotPreloaded
            | AuthError::MissingKey
            | AuthError::MissingKeyEncryptionKey
            | AuthError::SealedKey { .. }
            | AuthError::SealedSecret { .. }
            | AuthError::PasskeysOff
            | AuthError::Passkeys(_)
            | AuthError::NoCurrentKey
            | AuthError::KeyFile { .. }
            | AuthError::Key(_)
            | AuthError::Cookie(_)
            | AuthError::ReservedClaim(_)
            | AuthError::CustomClaimsNotObject => PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR,
            AuthError::UnknownAlgorithm(_)
            | AuthError::SecretArgument(_)
            | AuthError::EmptyPassword
            | AuthError::PasswordTooLong { .. }
            | AuthError::HashCostTooHigh { .. } => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            AuthError::PayloadTooLarge { .. } => PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            AuthError::HashOutsideImport => PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            AuthError::Random(_) | AuthError::Internal(_) => PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
        }
    }

    fn hint(&self) -> Option<&'static str> {
        match self {
            AuthError::NotPreloaded => Some(
                "add pg_auth_ext to shared_preload_libraries in postgresql.conf and restart PostgreSQL",
            ),
            AuthError::MissingKey => Some(
                "put the secret in a file only the postgres OS user can read, then as a superuser: ALTER SYSTEM SET pg_auth.jwt_secret_file = '<path>'; SELECT pg_reload_conf();",
            ),
            AuthError::MissingKeyEncryptionKey => Some(
                "put at least 32 random bytes in a file only the postgres OS user can read (openssl rand -base64 32), then as a superuser: ALTER SYSTEM SET pg_auth.key_encryption_key_file = '<path>'; SELECT pg_reload_conf();",
            ),
            AuthError::NoCurrentKey => Some(
                "SELECT auth.create_signing_key('ES256'); (the first key becomes current at once)",
            ),
            AuthError::SealedKey { .. } => Some(
                "pg_auth.key_encryption_key_file must be the file the key was created under: restore it, or create a new key, rotate to it with force => true, then revoke this one",
            ),
            AuthError::PasskeysOff | AuthError::Passkeys(_) => Some(
                "as a superuser: ALTER SYSTEM SET pg_auth.webauthn_rp_id = 'example.com'; ALTER SYSTEM SET pg_auth.webauthn_origins = 'https://example.com'; SELECT pg_reload_conf();",
            ),
            AuthError::SealedSecret { .. } => Some(
                "pg_auth.key_encryption_key_file must be the file the secret was sealed under: restore it, or remove the factor (the user enrols again)",
            ),
            AuthError::HashOutsideImport => Some(
                "only a superuser session can store existing bcrypt hashes (importing users, pg_restore); give the password itself",
            ),
            _ => None,
        }
    }

    /// Raises this error as a Postgres ERROR.
    pub fn raise(self) -> ! {
        let mut report = ErrorReport::new(self.sqlstate(), self.to_string(), "pg_auth_ext");
        if let Some(hint) = self.hint() {
            report = report.set_hint(hint);
        }
        report.report(PgLogLevel::ERROR);
        unreachable!("ereport(ERROR) does not return")
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::NotPreloaded => f.write_str(
                "pg_auth_ext must be loaded through shared_preload_libraries before it can sign tokens",
            ),
            AuthError::MissingKey => f.write_str("pg_auth.jwt_secret_file is not set"),
            AuthError::MissingKeyEncryptionKey => {
                f.write_str("pg_auth.key_encryption_key_file is not set")
            }
            AuthError::KeyFile {
                setting,
                path,
                problem,
            } => write!(f, "{setting} {path:?}: {problem}"),
            AuthError::SealedKey { kid } => write!(
                f,
                "the private key of signing key {kid:?} does not open with pg_auth.key_encryption_key_file"
            ),
            AuthError::PasskeysOff => f.write_str("pg_auth.webauthn_rp_id is not set"),
            AuthError::Passkeys(problem) => write!(f, "pg_auth.webauthn_*: {problem}"),
            AuthError::SealedSecret { what } => write!(
                f,
                "the secret of {what} does not open with pg_auth.key_encryption_key_file"
            ),
            AuthError::NoCurrentKey => f.write_str(
                "pg_auth.signing_mode is 'keys' but auth.signing_key has no current key",
            ),
            AuthError::Key(e) => write!(f, "pg_auth.jwt_secret_file: {e}"),
            AuthError::SecretArgument(e) => write!(f, "secret: {e}"),
            AuthError::UnknownAlgorithm(e) => e.fmt(f),
            AuthError::PayloadTooLarge { bytes, max } => write!(
                f,
                "payload is {bytes} bytes long; at most {max} can be signed"
            ),
            AuthError::EmptyPassword => f.write_str("password must not be empty"),
            AuthError::PasswordTooLong { bytes } => write!(
                f,
                "password is {bytes} bytes long; bcrypt uses at most 72 bytes and longer passwords are refused rather than silently truncated"
            ),
            AuthError::HashOutsideImport => f.write_str(
                "the password looks like a bcrypt hash, and only a superuser may store hashes as they are",
            ),
            AuthError::HashCostTooHigh { cost, max } => write!(
                f,
                "bcrypt cost {cost} is above the maximum of {max}: such a hash would let one login occupy a server for too long"
            ),
            AuthError::Random(e) => write!(f, "no random bytes from the operating system: {e}"),
            AuthError::Cookie(e) => write!(f, "cannot build cookie: {e}"),
            AuthError::ReservedClaim(name) => write!(
                f,
                "pg_auth.custom_claims_function set the claim {name:?}, which pg_auth_ext owns: {}",
                crate::tokens::RESERVED_CLAIMS.join(", ")
            ),
            AuthError::CustomClaimsNotObject => f.write_str(
                "pg_auth.custom_claims_function must return a JSON object (or NULL)",
            ),
            AuthError::Internal(e) => write!(f, "internal error: {e}"),
        }
    }
}

/// Unwraps a result or raises its error as a Postgres ERROR.
pub trait OrRaise<T> {
    fn or_raise(self) -> T;
}

impl<T> OrRaise<T> for Result<T, AuthError> {
    fn or_raise(self) -> T {
        match self {
            Ok(value) => value,
            Err(error) => error.raise(),
        }
    }
}

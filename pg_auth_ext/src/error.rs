//! Every failure of the extension, with the SQLSTATE it is reported under.

use core::fmt;

use jwt_core::{KeyError, SetCookieError};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

#[derive(Debug)]
pub enum AuthError {
    /// The library was loaded by CREATE EXTENSION or LOAD instead of
    /// `shared_preload_libraries`: the key setting may then be a placeholder
    /// that every role can read, so we refuse to use it.
    NotPreloaded,
    MissingKey,
    Key(KeyError),
    /// The `secret` argument of `sign_raw` / `generate_access_token`.
    SecretArgument(KeyError),
    UnknownAlgorithm(String),
    EmptyPassword,
    PasswordTooLong {
        bytes: usize,
    },
    PasswordHash(String),
    Random(String),
    Cookie(SetCookieError),
    Setting {
        name: &'static str,
        problem: String,
    },
}

impl AuthError {
    fn sqlstate(&self) -> PgSqlErrorCode {
        match self {
            AuthError::NotPreloaded
            | AuthError::MissingKey
            | AuthError::Key(_)
            | AuthError::Setting { .. } => PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR,
            AuthError::UnknownAlgorithm(_)
            | AuthError::SecretArgument(_)
            | AuthError::EmptyPassword
            | AuthError::PasswordTooLong { .. }
            | AuthError::Cookie(_) => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            AuthError::PasswordHash(_) | AuthError::Random(_) => {
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR
            }
        }
    }

    fn hint(&self) -> Option<&'static str> {
        match self {
            AuthError::NotPreloaded => Some(
                "add pg_auth_ext to shared_preload_libraries in postgresql.conf and restart PostgreSQL",
            ),
            AuthError::MissingKey => Some(
                "as a superuser: ALTER SYSTEM SET pg_auth.jwt_secret = '<same secret as PostgREST>'; SELECT pg_reload_conf();",
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
                "pg_auth_ext must be loaded through shared_preload_libraries before it can use the JWT secret",
            ),
            AuthError::MissingKey => f.write_str("pg_auth.jwt_secret is not set"),
            AuthError::Key(e) => write!(f, "pg_auth.jwt_secret: {e}"),
            AuthError::SecretArgument(e) => write!(f, "secret: {e}"),
            AuthError::UnknownAlgorithm(name) => {
                write!(f, "unsupported JWT algorithm {name:?}: use HS256, HS384 or HS512")
            }
            AuthError::EmptyPassword => f.write_str("password must not be empty"),
            AuthError::PasswordTooLong { bytes } => write!(
                f,
                "password is {bytes} bytes long; bcrypt uses at most 72 bytes and longer passwords are refused rather than silently truncated"
            ),
            AuthError::PasswordHash(e) => write!(f, "password hashing failed: {e}"),
            AuthError::Random(e) => write!(f, "no random bytes from the operating system: {e}"),
            AuthError::Cookie(e) => write!(f, "cannot build cookie: {e}"),
            AuthError::Setting { name, problem } => write!(f, "{name}: {problem}"),
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

//! The failures clients see, for SQL: `auth.fail(slug)` raises one of
//! `jwt_core::Problem` with the SQLSTATE that makes PostgREST answer its
//! HTTP status, its message, the slug as `details`, and its hint.

use jwt_core::Problem;
use pgrx::prelude::*;

use crate::error::AuthError;

/// `{sqlstate, message, hint}` of a problem slug.
#[pg_extern(immutable, parallel_safe)]
fn problem(slug: &str) -> Vec<Option<String>> {
    let Some(problem) = Problem::from_slug(slug) else {
        AuthError::Internal(format!("unknown problem {slug:?}")).raise()
    };
    vec![
        Some(problem.sqlstate()),
        Some(problem.message().to_owned()),
        problem.hint().map(str::to_owned),
    ]
}

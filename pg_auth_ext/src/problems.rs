//! The failures clients see, for SQL: `auth.fail(slug)` raises one of
//! `jwt_core::Problem` with the SQLSTATE that makes PostgREST answer its
//! HTTP status, its message, the slug as `details`, and its hint.

use jwt_core::Problem;
use pgrx::prelude::*;

use crate::error::AuthError;

/// A problem slug's SQLSTATE (which makes PostgREST answer its HTTP
/// status), message and hint.
#[pg_extern(immutable, parallel_safe)]
fn problem_of(
    slug: &str,
) -> TableIterator<
    'static,
    (
        name!(sqlstate, String),
        name!(message, String),
        name!(hint, Option<String>),
    ),
> {
    let Some(problem) = Problem::from_slug(slug) else {
        AuthError::Internal(format!("unknown problem {slug:?}")).raise()
    };
    TableIterator::once((
        problem.sqlstate(),
        problem.message().to_owned(),
        problem.hint().map(str::to_owned),
    ))
}

/// 0.2.0's `auth.problem(slug)`, read by position: no longer declared, but
/// exported for 0.2.0's SQL between a library upgrade and ALTER EXTENSION.
#[pg_extern(immutable, parallel_safe, sql = false)]
fn problem(slug: &str) -> Vec<Option<String>> {
    problem_of(slug)
        .map(|(sqlstate, message, hint)| vec![Some(sqlstate), Some(message), hint])
        .next()
        .unwrap_or_default()
}

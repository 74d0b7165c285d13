//! Error answers, shaped like PostgREST's (`code`, `message`, `details`,
//! `hint`), with the slug of `jwt_core::Problem` (or of the verification
//! failure) in `details`.

use jwt_core::Problem;

use crate::decision::{Denial, Outcome};

fn json_body(code: &str, message: &str, details: &str, hint: Option<&str>) -> String {
    serde_json::json!({ "code": code, "message": message, "details": details, "hint": hint })
        .to_string()
}

fn denial(outcome: Outcome, status: u16, extra: Option<(&str, String)>, body: String) -> Denial {
    let mut headers = vec![(
        "content-type".to_owned(),
        "application/json; charset=utf-8".to_owned(),
    )];
    headers.extend(extra.map(|(name, value)| (name.to_owned(), value)));
    Denial {
        outcome,
        status,
        headers,
        body,
    }
}

/// 401 without a token: RFC 6750 says no `error` attribute then.
pub(crate) fn missing_token(cookie_name: &str) -> Denial {
    let problem = Problem::Missing;
    denial(
        Outcome::Denied(problem.slug()),
        problem.status(),
        Some(("www-authenticate", "Bearer".to_owned())),
        json_body(
            "PGRST302",
            &format!("{}: no {cookie_name} cookie", problem.message()),
            problem.slug(),
            problem.hint(),
        ),
    )
}

/// 401 for a token that failed verification; `message` says why.
pub(crate) fn invalid_token(reason: &'static str, message: &str) -> Denial {
    let hint =
        (reason == "expired").then_some("Get a new access token with POST /rpc/refresh_token");
    denial(
        Outcome::Denied(reason),
        401,
        Some((
            "www-authenticate",
            format!("Bearer error=\"invalid_token\", error_description=\"{message}\""),
        )),
        json_body("PGRST301", message, reason, hint),
    )
}

/// 401 for a valid token of a session that has ended (logout...).
pub(crate) fn session_ended() -> Denial {
    let problem = Problem::SessionEnded;
    denial(
        Outcome::Denied(problem.slug()),
        problem.status(),
        Some((
            "www-authenticate",
            format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                problem.message()
            ),
        )),
        json_body("PT401", problem.message(), problem.slug(), problem.hint()),
    )
}

/// 400, 403 or 404: refused whatever the route.
pub(crate) fn refused(problem: Problem, message: &str) -> Denial {
    denial(
        Outcome::Refused(problem),
        problem.status(),
        None,
        json_body(
            &format!("PF{}", problem.status()),
            message,
            problem.slug(),
            problem.hint(),
        ),
    )
}

/// 429 with Retry-After: a client that kept sending forged tokens.
pub(crate) fn throttled(retry_after: i64) -> Denial {
    retry_later(
        Problem::Throttled,
        "Too many invalid tokens from this client",
        retry_after,
    )
}

/// 503 with Retry-After: the ended sessions are not known recently enough
/// to pass a session's token.
pub(crate) fn revocations_stale() -> Denial {
    let problem = Problem::RevocationsStale;
    retry_later(problem, problem.message(), 1)
}

fn retry_later(problem: Problem, message: &str, retry_after: i64) -> Denial {
    denial(
        Outcome::Refused(problem),
        problem.status(),
        Some(("retry-after", retry_after.to_string())),
        json_body(
            &format!("PF{}", problem.status()),
            message,
            problem.slug(),
            problem.hint(),
        ),
    )
}

/// 500 `filter_failure` saying what the front in front of a host got wrong
/// (the gate's subrequest): nothing passes until it is fixed.
pub fn front_misconfigured(message: &str) -> Denial {
    let problem = Problem::FilterFailure;
    denial(
        Outcome::Failure,
        problem.status(),
        None,
        json_body("PF500", message, problem.slug(), None),
    )
}

/// 500: the filter could not decide, so nothing passes.
pub fn filter_failure() -> Denial {
    let problem = Problem::FilterFailure;
    denial(
        Outcome::Failure,
        problem.status(),
        None,
        json_body("PF500", problem.message(), problem.slug(), problem.hint()),
    )
}

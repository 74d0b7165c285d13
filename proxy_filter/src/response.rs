//! Error answers, shaped like PostgREST's (`code`, `message`, `details`, `hint`).

use crate::decision::{Denial, Outcome};

fn json_body(code: &str, message: &str, details: Option<&str>, hint: Option<&str>) -> String {
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
    denial(
        Outcome::Denied("missing"),
        401,
        Some(("www-authenticate", "Bearer".to_owned())),
        json_body(
            "PGRST302",
            &format!("Authentication required: no {cookie_name} cookie"),
            Some("missing"),
            Some("Log in with POST /rpc/login"),
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
        json_body("PGRST301", message, Some(reason), hint),
    )
}

pub(crate) fn cross_site() -> Denial {
    denial(
        Outcome::CsrfBlocked,
        403,
        None,
        json_body(
            "PF403",
            "Cross-site request refused",
            Some("csrf"),
            Some("Unsafe methods must come from the same origin (Sec-Fetch-Site or Origin)"),
        ),
    )
}

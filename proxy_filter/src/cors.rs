//! CORS for single-page apps on other origins (`allowed_origins`, the same
//! list that the CSRF check accepts). PostgREST answers preflights and its
//! own responses (`server-cors-allowed-origins`, the same list); the filter
//! lets preflights from those origins through (they carry no cookie, so a
//! private route would otherwise refuse them), refuses preflights from any
//! other origin, and puts the CORS headers on its own denials so that the
//! app can read why it was refused.

use crate::request::RequestHead;

/// `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
pub(crate) fn is_preflight(request: &RequestHead) -> bool {
    request.method.eq_ignore_ascii_case("OPTIONS")
        && request.origin.is_some()
        && request.access_control_request_method.is_some()
}

pub(crate) fn origin_allowed(request: &RequestHead, allowed_origins: &[String]) -> bool {
    request
        .origin
        .as_deref()
        .is_some_and(|origin| allowed_origins.iter().any(|allowed| allowed == origin))
}

/// The headers a credentialed cross-origin request needs on a response the
/// filter makes itself; none for an origin not allowed.
pub(crate) fn response_headers(
    request: &RequestHead,
    allowed_origins: &[String],
) -> Vec<(String, String)> {
    match request.origin.as_deref() {
        Some(origin) if origin_allowed(request, allowed_origins) => vec![
            ("access-control-allow-origin".into(), origin.to_owned()),
            ("access-control-allow-credentials".into(), "true".into()),
            ("vary".into(), "Origin".into()),
        ],
        _ => Vec::new(),
    }
}

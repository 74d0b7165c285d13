//! Cross-site request protection for requests that carry ambient
//! credentials (cookies) or none, on unsafe methods.

use serde::Deserialize;

use crate::request::RequestHead;

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CsrfConfig {
    #[serde(default = "enabled", deserialize_with = "crate::config::boolean")]
    pub enabled: bool,
    /// Earlier name of the top-level `allowed_origins`, merged into it.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

fn enabled() -> bool {
    true
}

impl Default for CsrfConfig {
    fn default() -> Self {
        CsrfConfig {
            enabled: true,
            allowed_origins: Vec::new(),
        }
    }
}

/// An origin as browsers send it: scheme and authority, nothing else.
pub(crate) fn check_origin(origin: &str) -> Result<(), String> {
    let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
        && !origin.ends_with('/')
        && origin
            .split("://")
            .nth(1)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "allowed_origins: {origin:?} is not an origin like https://app.example.com"
        ))
    }
}

/// Whether the request must be refused as cross-site: an unsafe method
/// carrying cookies (or no credential) whose origin is neither this site
/// nor one of `allowed_origins`.
pub(crate) fn blocks(enabled: bool, allowed_origins: &[String], request: &RequestHead) -> bool {
    if !enabled || !is_unsafe(&request.method) {
        return false;
    }
    // A client that sends only an explicit Authorization header carries
    // no ambient credential a third-party site could ride on.
    if request.cookies.is_empty() && request.authorization.is_some() {
        return false;
    }
    let allowed_origin = || {
        request
            .origin
            .as_deref()
            .is_some_and(|origin| allowed_origins.iter().any(|o| o == origin))
    };
    match request.sec_fetch_site.as_deref() {
        Some("same-origin") | Some("none") => false,
        Some(_) => !allowed_origin(),
        None => match request.origin.as_deref() {
            None => false,
            Some(origin) => !(same_host(origin, request.host.as_deref()) || allowed_origin()),
        },
    }
}

fn is_unsafe(method: &str) -> bool {
    !matches!(
        method.to_ascii_uppercase().as_str(),
        "GET" | "HEAD" | "OPTIONS" | "TRACE"
    )
}

/// `Origin: https://api.example:8443` against `Host: api.example:8443`.
fn same_host(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, site: Option<&str>, origin: Option<&str>) -> RequestHead {
        RequestHead {
            method: method.into(),
            path: "/rpc/login".into(),
            host: Some("api.example:8000".into()),
            cookies: vec!["access_token=x".into()],
            sec_fetch_site: site.map(Into::into),
            origin: origin.map(Into::into),
            ..RequestHead::default()
        }
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        let csrf = |r: &RequestHead| blocks(true, &[], r);
        assert!(!csrf(&request("POST", Some("same-origin"), None)));
        assert!(!csrf(&request("POST", Some("none"), None)));
        assert!(csrf(&request(
            "POST",
            Some("cross-site"),
            Some("https://api.example:8000")
        )));
        assert!(csrf(&request("DELETE", Some("same-site"), None)));
        assert!(!csrf(&request("GET", Some("cross-site"), None)));
    }

    #[test]
    fn origin_decides_otherwise() {
        let csrf = |r: &RequestHead| blocks(true, &[], r);
        assert!(!csrf(&request(
            "POST",
            None,
            Some("http://api.example:8000")
        )));
        assert!(csrf(&request("POST", None, Some("https://evil.example"))));
        assert!(csrf(&request("PATCH", None, Some("null"))));
        assert!(
            !csrf(&request("POST", None, None)),
            "curl and other non-browser clients"
        );
    }

    #[test]
    fn allow_list_and_switch() {
        let allowed = ["https://app.example".to_owned()];
        assert!(!blocks(
            true,
            &allowed,
            &request("POST", Some("cross-site"), Some("https://app.example"))
        ));
        assert!(blocks(
            true,
            &allowed,
            &request("POST", Some("cross-site"), Some("https://app.example.evil"))
        ));
        assert!(!blocks(
            false,
            &[],
            &request("POST", Some("cross-site"), None)
        ));
    }

    #[test]
    fn bearer_only_requests_are_not_cross_site_risks() {
        let mut bearer = request("POST", Some("cross-site"), Some("https://other.example"));
        bearer.cookies.clear();
        bearer.authorization = Some("Bearer x".into());
        assert!(!blocks(true, &[], &bearer));
    }
}

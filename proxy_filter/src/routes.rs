use jwt_core::AUTH_RPC_PATHS;

use serde::Deserialize;

/// A route: an exact path or a path prefix, optionally for some methods
/// only. As a public route, everything that matches none is private; as an
/// `aal2` route, see [`RouteMatcher::covers`].
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RouteMatcher {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    /// Upper-case method names; empty means every method.
    #[serde(default)]
    pub methods: Vec<String>,
}

impl RouteMatcher {
    pub fn exact(path: &str) -> RouteMatcher {
        RouteMatcher {
            path: Some(path.to_owned()),
            prefix: None,
            methods: Vec::new(),
        }
    }

    /// `list` names the configuration list, for the error.
    pub(crate) fn validate(&self, list: &str) -> Result<(), String> {
        match (&self.path, &self.prefix) {
            (Some(p), None) | (None, Some(p)) if !p.starts_with('/') => {
                Err(format!("{list}: {p:?} must start with /"))
            }
            // Otherwise "/public" would also match "/publicity".
            (None, Some(p)) if !p.ends_with('/') => {
                Err(format!("{list}: prefix {p:?} must end with /"))
            }
            (Some(p), None) | (None, Some(p)) if !is_plain_path(p) || p.contains('%') => Err(
                format!("{list}: {p:?} must be a plain path (no dot segments or escapes)"),
            ),
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err(format!(
                "{list}: a route needs exactly one of \"path\" or \"prefix\""
            )),
        }
    }

    /// Whether a route that needs more (an `aal2` route) covers a request:
    /// the reverse of [`RouteMatcher::matches`], it fails closed. The path
    /// is compared percent-decoded (the upstream decodes it), a path an
    /// upstream could resolve elsewhere (dot segments, `//`, escapes left
    /// after decoding) is covered whatever it names, and `GET` covers
    /// `HEAD`, which reads as much.
    pub fn covers(&self, method: &str, path: &str) -> bool {
        let method_ok = self.methods.is_empty()
            || self.methods.iter().any(|m| {
                m.eq_ignore_ascii_case(method)
                    || (m.eq_ignore_ascii_case("GET") && method.eq_ignore_ascii_case("HEAD"))
            });
        if !method_ok {
            return false;
        }
        let decoded = percent_decoded(path);
        // A `%` left after decoding was escaped twice: nothing legitimate.
        if !is_plain_path(&decoded) || decoded.contains('%') {
            return true;
        }
        match (&self.path, &self.prefix) {
            (Some(exact), _) => decoded == *exact || decoded.strip_suffix('/') == Some(exact),
            (None, Some(prefix)) => {
                decoded.starts_with(prefix.as_str()) || decoded == prefix.trim_end_matches('/')
            }
            (None, None) => false,
        }
    }

    pub fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok =
            self.methods.is_empty() || self.methods.iter().any(|m| m.eq_ignore_ascii_case(method));
        let path_ok = match (&self.path, &self.prefix) {
            (Some(exact), _) => path == exact,
            // A prefix must not be escaped with dot segments or encoded
            // separators that the upstream might resolve differently.
            (None, Some(prefix)) => path.starts_with(prefix.as_str()) && is_plain_path(path),
            (None, None) => false,
        };
        method_ok && path_ok
    }
}

/// No dot segments, empty segments, backslashes, or percent-encoded dots,
/// slashes, backslashes or percent signs (`%252e` decodes to `%2e` in a
/// second pass): nothing an upstream could resolve to another path.
fn is_plain_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    !(path.contains("/../")
        || path.ends_with("/..")
        || path.contains("/./")
        || path.ends_with("/.")
        || path.contains("//")
        || path.contains('\\')
        || ["%2e", "%2f", "%5c", "%25"]
            .iter()
            .any(|encoded| lower.contains(encoded)))
}

/// Where the shipped proxies serve the public keys (PostgREST's `/rpc/jwks`).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The routes of the legacy setup's Caddyfile: the auth RPCs and the
/// OpenAPI root are public; so are the public keys.
pub(crate) fn default_public_routes() -> Vec<RouteMatcher> {
    AUTH_RPC_PATHS
        .into_iter()
        .chain(["/rest/", JWKS_PATH])
        .map(RouteMatcher::exact)
        .collect()
}

/// An auth RPC named any other way than its own path: under the `/rest/`
/// prefix the proxies strip, or percent-encoded (PostgREST decodes
/// `/rpc/%6Cogin`). Those would miss the routes where the proxies cap and
/// rate-limit the auth RPCs, so they are not served.
pub(crate) fn is_auth_rpc_elsewhere(path: &str) -> bool {
    let decoded = percent_decoded(path);
    let named = decoded.strip_prefix("/rest").unwrap_or(&decoded);
    AUTH_RPC_PATHS.contains(&named) && named != path
}

/// `%XX` escapes decoded byte by byte; anything else kept as it is.
fn percent_decoded(path: &str) -> String {
    let mut out = Vec::with_capacity(path.len());
    let mut rest = path.as_bytes();
    while let Some((&byte, after)) = rest.split_first() {
        let escaped = (byte == b'%')
            .then(|| after.get(..2))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                rest = after.get(2..).unwrap_or_default();
            }
            None => {
                out.push(byte);
                rest = after;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_rpcs_are_served_at_their_own_paths_only() {
        for path in AUTH_RPC_PATHS {
            assert!(!is_auth_rpc_elsewhere(path), "{path}");
            assert!(is_auth_rpc_elsewhere(&format!("/rest{path}")), "{path}");
        }
        for path in [
            "/rpc/%6Cogin",
            "/rpc/%6cogin",
            "/rest/rpc/%6Cogout",
            "/%72pc/refresh_token",
        ] {
            assert!(is_auth_rpc_elsewhere(path), "{path}");
        }
        for path in [
            "/rpc/me",
            "/rest/task",
            "/rest/rpc/me",
            "/rpc/login/",
            "/rpc/%zz",
            "/rpc/%",
        ] {
            assert!(!is_auth_rpc_elsewhere(path), "{path}");
        }
    }

    #[test]
    fn exact_paths_match_only_themselves() {
        let login = RouteMatcher::exact("/rpc/login");
        assert!(login.matches("POST", "/rpc/login"));
        assert!(!login.matches("POST", "/rpc/login/"));
        assert!(!login.matches("POST", "/rpc/login/../tasks"));
        assert!(!login.matches("POST", "/rpc/LOGIN"));
    }

    #[test]
    fn prefixes_refuse_traversal() {
        let public = RouteMatcher {
            path: None,
            prefix: Some("/public/".into()),
            methods: vec!["GET".into()],
        };
        assert!(public.matches("GET", "/public/logo.png"));
        assert!(public.matches("get", "/public/logo.png"));
        assert!(!public.matches("POST", "/public/logo.png"));
        for sneaky in [
            "/public/../rest/task",
            "/public/%2e%2e/rest",
            "/public//x",
            "/public/..",
            "/public/a%2Fb",
            "/public/a\\b",
            "/public/%252e%252e/rest",
            "/public/.",
        ] {
            assert!(!public.matches("GET", sneaky), "{sneaky}");
        }
    }

    #[test]
    fn a_covering_route_fails_closed() {
        let secret = RouteMatcher::exact("/rest/secret");
        for covered in [
            "/rest/secret",
            "/rest/secret/",
            "/rest/%73ecret",
            "/rest/%2573ecret",
            "/rest//secret",
            "/rest/x/../secret",
            "/anything/./else",
        ] {
            assert!(secret.covers("GET", covered), "{covered}");
        }
        for other in [
            "/rest/secrets",
            "/rest/task",
            "/rest/secret.csv",
            "/rest/Secret",
        ] {
            assert!(!secret.covers("GET", other), "{other}");
        }
        let writes = RouteMatcher {
            path: None,
            prefix: Some("/rest/payout/".into()),
            methods: vec!["GET".into(), "POST".into()],
        };
        assert!(writes.covers("HEAD", "/rest/payout/1"));
        assert!(writes.covers("post", "/rest/payout"));
        assert!(!writes.covers("DELETE", "/rest/payout/1"));
        assert!(!writes.covers("GET", "/rest/payouts"));
    }

    #[test]
    fn validation() {
        assert!(RouteMatcher::exact("/x").validate("l").is_ok());
        assert!(RouteMatcher::exact("x").validate("l").is_err());
        assert!(RouteMatcher::exact("/a/../b").validate("l").is_err());
        assert!(RouteMatcher::exact("/a%2fb").validate("l").is_err());
        let unterminated = RouteMatcher {
            path: None,
            prefix: Some("/public".into()),
            methods: vec![],
        };
        assert!(unterminated
            .validate("l")
            .unwrap_err()
            .contains("end with /"));
        let both = RouteMatcher {
            path: Some("/a".into()),
            prefix: Some("/b".into()),
            methods: vec![],
        };
        assert!(both.validate("l").is_err());
    }
}

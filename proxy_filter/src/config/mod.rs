//! The plugin configuration (JSON), parsed and checked once at start. Any
//! problem refuses the configuration: the proxy then does not load the filter
//! rather than run it open.

use core::fmt;
use std::collections::BTreeMap;

use jwt_core::{Algorithm, Key, Verifier, DEFAULT_MAX_TOKEN_BYTES};
use serde::Deserialize;

mod scalars;

pub(crate) use scalars::boolean;

use crate::csrf::CsrfConfig;
use crate::policy::Policy;
use crate::routes::{seed_public_routes, RouteMatcher};

/// PostgREST allows 30 s of clock skew; a proxy that allowed more would pass
/// tokens that PostgREST then refuses.
pub const MAX_LEEWAY_SECONDS: u32 = 30;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// The secret itself...
    #[serde(default)]
    pub secret: Option<String>,
    /// ...or the name of an environment variable holding it, so that the
    /// proxy configuration file need not contain it.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// PostgREST's `jwt-secret-is-base64`.
    #[serde(default, deserialize_with = "scalars::boolean")]
    pub secret_is_base64: bool,
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default, deserialize_with = "scalars::number")]
    pub leeway_seconds: u32,
    #[serde(
        default = "default_max_token_bytes",
        deserialize_with = "scalars::number"
    )]
    pub max_token_bytes: usize,
    #[serde(default = "default_cookie_name")]
    pub cookie_name: String,
    /// Also accept `Authorization: Bearer` from clients (off: the cookie is
    /// the only credential, and a client-sent header is replaced).
    #[serde(default, deserialize_with = "scalars::boolean")]
    pub allow_authorization_header: bool,
    #[serde(default = "seed_public_routes")]
    pub public_routes: Vec<RouteMatcher>,
    /// Claim name -> request header to forward it in (e.g. `sub` -> `x-user`).
    #[serde(default)]
    pub forward_claims: BTreeMap<String, String>,
    #[serde(default)]
    pub csrf: CsrfConfig,
}

fn default_algorithms() -> Vec<String> {
    vec!["HS256".into()]
}

fn default_max_token_bytes() -> usize {
    DEFAULT_MAX_TOKEN_BYTES
}

fn default_cookie_name() -> String {
    "access_token".into()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid proxy_filter configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

fn invalid(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

impl FilterConfig {
    /// Parses and checks a configuration; `env` looks up environment variables.
    pub fn parse_policy(
        json: &[u8],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Policy, ConfigError> {
        let config: FilterConfig =
            serde_json::from_slice(json).map_err(|e| invalid(e.to_string()))?;
        config.into_policy(env)
    }

    pub fn into_policy(self, env: impl Fn(&str) -> Option<String>) -> Result<Policy, ConfigError> {
        let secret = match (&self.secret, &self.secret_env) {
            (Some(secret), None) => secret.clone(),
            (None, Some(name)) => env(name)
                .ok_or_else(|| invalid(format!("environment variable {name} is not set")))?,
            _ => return Err(invalid("set exactly one of \"secret\" or \"secret_env\"")),
        };
        let key =
            Key::from_secret(&secret, self.secret_is_base64).map_err(|e| invalid(e.to_string()))?;
        let algorithms = self
            .algorithms
            .iter()
            .map(|name| {
                name.parse::<Algorithm>()
                    .map_err(|e| invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if algorithms.is_empty() {
            return Err(invalid(
                "\"algorithms\" must name at least one of HS256, HS384, HS512",
            ));
        }
        if self.leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(invalid(format!(
                "\"leeway_seconds\" is {}; at most {MAX_LEEWAY_SECONDS} (PostgREST's own clock skew)",
                self.leeway_seconds
            )));
        }
        if self.max_token_bytes < 64 {
            return Err(invalid("\"max_token_bytes\" is too small for any JWT"));
        }
        if self.cookie_name.is_empty() || self.cookie_name.contains([';', '=', ' ', ',']) {
            return Err(invalid("\"cookie_name\" is not a valid cookie name"));
        }
        for route in &self.public_routes {
            route.validate().map_err(invalid)?;
        }
        for (claim, header) in &self.forward_claims {
            let valid = !header.is_empty()
                && header
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            let reserved =
                ["authorization", "cookie", "host"].contains(&header.to_ascii_lowercase().as_str());
            if !valid || reserved {
                return Err(invalid(format!("\"forward_claims\": {header:?} (for {claim:?}) is not a header name we may set")));
            }
        }
        self.csrf.validate().map_err(invalid)?;

        let verifier = Verifier::new(&key, &algorithms)
            .with_leeway(self.leeway_seconds)
            .with_issuer(self.issuer)
            .with_audience(self.audience)
            .with_max_token_bytes(self.max_token_bytes);
        Ok(Policy {
            verifier,
            cookie_name: self.cookie_name,
            allow_authorization_header: self.allow_authorization_header,
            public_routes: self.public_routes,
            forward_claims: self
                .forward_claims
                .into_iter()
                .map(|(claim, header)| (claim, header.to_ascii_lowercase()))
                .collect(),
            csrf: self.csrf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE=";

    fn parse(json: &str) -> Result<Policy, ConfigError> {
        FilterConfig::parse_policy(json.as_bytes(), |name| {
            (name == "JWT_SECRET").then(|| SECRET.to_owned())
        })
    }

    fn error(json: &str) -> String {
        parse(json).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn minimal_config_gets_the_seeds_defaults() {
        let policy = parse(r#"{"secret_env":"JWT_SECRET","secret_is_base64":true}"#).unwrap();
        assert_eq!(policy.public_routes, seed_public_routes());
        assert_eq!(policy.cookie_name, "access_token");
        assert!(!policy.allow_authorization_header);
        assert!(policy.csrf.enabled);
    }

    #[test]
    fn scalars_may_be_strings_as_traefik_sends_them() {
        let policy = parse(
            r#"{"secret_env":"JWT_SECRET","secret_is_base64":"true","leeway_seconds":"5","max_token_bytes":"2048","csrf":{"enabled":"false"}}"#,
        )
        .unwrap();
        assert!(!policy.csrf.enabled);
        assert!(
            error(r#"{"secret_env":"JWT_SECRET","secret_is_base64":"yes"}"#)
                .contains("expected true or false")
        );
        assert!(
            error(r#"{"secret_env":"JWT_SECRET","leeway_seconds":"-1"}"#).contains("whole number")
        );
        assert!(error(r#"{"secret_env":"JWT_SECRET","leeway_seconds":-1}"#).contains("negative"));
    }

    #[test]
    fn bad_configs_are_refused_with_a_reason() {
        assert!(error("{").contains("EOF"));
        assert!(error(
            r#"{"secret_env":"JWT_SECRET","secret_is_base64":true,"algoritms":["HS256"]}"#
        )
        .contains("unknown field `algoritms`"));
        assert!(error(r#"{}"#).contains("exactly one of"));
        assert!(error(r#"{"secret_env":"NOPE"}"#).contains("NOPE is not set"));
        assert!(error(r#"{"secret":"short"}"#).contains("at least 32"));
        assert!(error(
            r#"{"secret":"not base64 at all but long enough!!","secret_is_base64":true}"#
        )
        .contains("base64"));
        assert!(
            error(r#"{"secret_env":"JWT_SECRET","algorithms":["RS256"]}"#)
                .contains("unsupported JWT algorithm")
        );
        assert!(error(r#"{"secret_env":"JWT_SECRET","algorithms":[]}"#).contains("at least one"));
        assert!(error(r#"{"secret_env":"JWT_SECRET","leeway_seconds":31}"#).contains("at most 30"));
        assert!(
            error(r#"{"secret_env":"JWT_SECRET","public_routes":[{"path":"rpc"}]}"#)
                .contains("start with /")
        );
        assert!(
            error(r#"{"secret_env":"JWT_SECRET","forward_claims":{"sub":"Authorization"}}"#)
                .contains("forward_claims")
        );
        assert!(
            error(r#"{"secret_env":"JWT_SECRET","csrf":{"allowed_origins":["example.com"]}}"#)
                .contains("origin")
        );
    }
}

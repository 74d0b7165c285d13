//! The filter configuration (JSON), parsed and checked once at start. Any
//! problem refuses the configuration: the proxy then does not load the filter
//! rather than run it open.

use core::fmt;
use std::collections::BTreeMap;

use jwt_core::{
    is_cookie_name, Algorithm, CookieNames, Jwks, Key, Verifier, ACCESS_COOKIE, AUTH_RPC_PATHS,
    DEFAULT_MAX_TOKEN_BYTES, MAX_LEEWAY_SECONDS, REFRESH_COOKIE,
};
use serde::Deserialize;

mod endpoint;
mod jwks;
mod scalars;

pub(crate) use scalars::boolean;

use crate::bad_tokens::BadTokens;
use crate::csrf::CsrfConfig;
use crate::keys::Keys;
use crate::policy::Policy;
use crate::revocations::Revocations;
use crate::routes::{default_public_routes, RouteMatcher};

/// Headers a forwarded claim must never be written to: credentials, and
/// headers that frame the request or that proxies own.
const RESERVED_HEADERS: [&str; 11] = [
    "authorization",
    "cookie",
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "te",
    "upgrade",
    "keep-alive",
    "proxy-authorization",
];
const RESERVED_HEADER_PREFIXES: [&str; 3] = ["x-envoy-", "x-forwarded-", ":"];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterConfig {
    /// The secret itself...
    #[serde(default)]
    secret: Option<String>,
    /// ...or the name of an environment variable holding it, so that the
    /// proxy configuration file need not contain it...
    #[serde(default)]
    secret_env: Option<String>,
    /// ...or a file holding it (hosts that can read files: the gate).
    #[serde(default)]
    secret_file: Option<String>,
    /// The public keys (docs/filter.md): inline...
    #[serde(default)]
    jwks: Option<serde_json::Value>,
    /// ...a file, read again at every refresh (the gate)...
    #[serde(default)]
    jwks_file: Option<String>,
    /// ...an HTTP endpoint (PostgREST's `/rpc/jwks`)...
    #[serde(default)]
    jwks_uri: Option<String>,
    /// ...or the environment variable holding that URI.
    #[serde(default)]
    jwks_uri_env: Option<String>,
    /// The Envoy cluster that reaches `jwks_uri` (default: its host).
    #[serde(default)]
    jwks_cluster: Option<String>,
    /// Headers of the fetch (`{"accept-profile": "auth"}` for PostgREST).
    #[serde(default)]
    jwks_headers: BTreeMap<String, String>,
    #[serde(
        default = "jwks::default_refresh_seconds",
        deserialize_with = "scalars::number"
    )]
    jwks_refresh_seconds: u32,
    /// The ended sessions (PostgREST's `/rpc/ended_sessions`), so that the
    /// proxy refuses their tokens (see `revocations.rs`)...
    #[serde(default)]
    revocation_uri: Option<String>,
    /// ...or the environment variable holding that URI.
    #[serde(default)]
    revocation_uri_env: Option<String>,
    #[serde(default)]
    revocation_cluster: Option<String>,
    #[serde(default)]
    revocation_headers: BTreeMap<String, String>,
    #[serde(default = "one", deserialize_with = "scalars::number")]
    revocation_refresh_seconds: u32,
    /// The oldest list of ended sessions that still passes a session's
    /// token: the bound on how long an ended session can reach data.
    #[serde(
        default = "default_revocation_max_age",
        deserialize_with = "scalars::number"
    )]
    revocation_max_age_seconds: u32,
    /// Verified tokens remembered (0: none).
    #[serde(
        default = "jwks::default_token_cache_size",
        deserialize_with = "scalars::number"
    )]
    token_cache_size: usize,
    /// PostgREST's `jwt-secret-is-base64`.
    #[serde(default, deserialize_with = "scalars::boolean")]
    secret_is_base64: bool,
    #[serde(default = "default_algorithms")]
    algorithms: Vec<String>,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    audience: Option<String>,
    #[serde(default, deserialize_with = "scalars::number")]
    leeway_seconds: u32,
    #[serde(
        default = "default_max_token_bytes",
        deserialize_with = "scalars::number"
    )]
    max_token_bytes: usize,
    /// The longest life (`exp - iat`) a token may claim; longer ones, and
    /// tokens without `iat`, are refused (0: any). A day by default: the
    /// extension's tokens live `pg_auth.access_token_ttl` (10 minutes).
    #[serde(
        default = "default_max_token_lifetime",
        deserialize_with = "scalars::number"
    )]
    max_token_lifetime_seconds: u32,
    /// Tokens that fail their signature check (or name no key) a client may
    /// send per minute; past it, its requests with a token are refused (429)
    /// until the minute is over, without a check (0: no limit). Counted
    /// where the host knows the client's address (Envoy, the gate).
    #[serde(
        default = "default_bad_token_limit",
        deserialize_with = "scalars::number"
    )]
    bad_token_limit_per_minute: u32,
    #[serde(default = "default_access_cookie")]
    cookie_name: String,
    /// Refused when sent twice, like the access cookie (cookie tossing).
    #[serde(default = "default_refresh_cookie")]
    refresh_cookie_name: String,
    /// The names with the `__Host-` and `__Secure-` prefixes, as the
    /// extension's `pg_auth.cookie_prefixes` sets them.
    #[serde(default, deserialize_with = "scalars::boolean")]
    cookie_prefixes: bool,
    /// Also accept `Authorization: Bearer` from clients (off: the cookie is
    /// the only credential, and a client-sent header never reaches the upstream).
    #[serde(default, deserialize_with = "scalars::boolean")]
    allow_authorization_header: bool,
    /// Added to the default public routes (the auth RPCs and the OpenAPI root)...
    #[serde(default)]
    public_routes: Vec<RouteMatcher>,
    /// ...unless this is false: then `public_routes` is the whole list.
    #[serde(default = "yes", deserialize_with = "scalars::boolean")]
    default_public_routes: bool,
    /// Routes that need a token with `"aal": "aal2"` (a second factor or a
    /// passkey); checked before the public routes.
    #[serde(default)]
    aal2_routes: Vec<RouteMatcher>,
    /// Claim name -> request header to forward it in (e.g. `sub` -> `x-user`).
    #[serde(default)]
    forward_claims: BTreeMap<String, String>,
    #[serde(default)]
    csrf: CsrfConfig,
    /// Other origins of the site's apps (`https://app.example.com`): their
    /// unsafe requests pass the CSRF check, their CORS preflights pass, and
    /// the filter's own denials carry CORS headers for them.
    #[serde(default)]
    allowed_origins: Vec<String>,
    /// The first part of every metric's name.
    #[serde(default = "default_stat_prefix")]
    stat_prefix: String,
}

fn default_algorithms() -> Vec<String> {
    vec!["HS256".into()]
}

fn default_max_token_bytes() -> usize {
    DEFAULT_MAX_TOKEN_BYTES
}

fn default_max_token_lifetime() -> u32 {
    24 * 3600
}

fn default_bad_token_limit() -> u32 {
    60
}

fn default_access_cookie() -> String {
    ACCESS_COOKIE.into()
}

fn default_refresh_cookie() -> String {
    REFRESH_COOKIE.into()
}

fn default_stat_prefix() -> String {
    "pg_auth".into()
}

fn yes() -> bool {
    true
}

/// Five one-second refreshes: well above a healthy fetch's age (at most
/// about 2 s), and the bound the docs promise.
fn default_revocation_max_age() -> u32 {
    5
}

fn one() -> u32 {
    1
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

/// What a host offers the configuration: environment variables, and files
/// where it can read them.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;

    fn read_file(&self, path: &str) -> Result<String, String> {
        let _ = path;
        Err("this host cannot read files".into())
    }

    /// Whether the host fetches the JWKS again and again (`jwks_uri`,
    /// `jwks_file`): it has a timer, and HTTP calls or files.
    fn can_fetch(&self) -> bool {
        false
    }
}

/// Environment variables only, looked up by a closure: a host without
/// files or fetches, and tests (`Vars(|_| None)`: none).
pub struct Vars<F: Fn(&str) -> Option<String>>(pub F);

impl<F: Fn(&str) -> Option<String>> Env for Vars<F> {
    fn var(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }
}

impl Policy {
    /// Parses and checks a configuration in a host that offers `env`
    /// (environment variables for `secret_env`, and maybe files and fetches).
    pub fn from_json(json: &[u8], env: &dyn Env) -> Result<Policy, ConfigError> {
        let config: FilterConfig =
            serde_json::from_slice(json).map_err(|e| invalid(e.to_string()))?;
        config.into_policy(env)
    }
}

impl FilterConfig {
    fn into_policy(self, env: &dyn Env) -> Result<Policy, ConfigError> {
        let revocations = self.revocations(env)?;
        let jwks = jwks::JwksConfig {
            jwks: self.jwks,
            jwks_file: self.jwks_file,
            jwks_uri: self.jwks_uri,
            jwks_uri_env: self.jwks_uri_env,
            jwks_cluster: self.jwks_cluster,
            jwks_headers: self.jwks_headers,
            jwks_refresh_seconds: self.jwks_refresh_seconds,
            token_cache_size: self.token_cache_size,
        };
        let has_jwks = jwks.is_set();
        let secret = match (&self.secret, &self.secret_env, &self.secret_file) {
            (Some(secret), None, None) => Some(secret.clone()),
            (None, Some(name), None) => Some(
                env.var(name)
                    .ok_or_else(|| invalid(format!("environment variable {name} is not set")))?,
            ),
            (None, None, Some(path)) => Some(
                env.read_file(path)
                    .map(|text| text.trim_end_matches(['\n', '\r']).to_owned())
                    .map_err(|e| invalid(format!("secret_file {path:?}: {e}")))?,
            ),
            (None, None, None) if has_jwks => None,
            _ => {
                return Err(invalid(
                    "set exactly one of \"secret\", \"secret_env\" or \"secret_file\" (or none, with a JWKS)",
                ))
            }
        };
        let key = secret
            .map(|secret| Key::from_secret(&secret, self.secret_is_base64))
            .transpose()
            .map_err(|e| invalid(e.to_string()))?;
        let jwks = jwks.check(env)?;
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
        if let Some(key) = &key {
            for algorithm in &algorithms {
                key.check_for(*algorithm)
                    .map_err(|e| invalid(format!("\"algorithms\": {e}")))?;
            }
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
        for (key, name) in [
            ("cookie_name", &self.cookie_name),
            ("refresh_cookie_name", &self.refresh_cookie_name),
        ] {
            if !is_cookie_name(name) {
                return Err(invalid(format!(
                    "\"{key}\": {name:?} is not a valid cookie name"
                )));
            }
        }
        for route in &self.public_routes {
            route.validate("\"public_routes\"").map_err(invalid)?;
        }
        for route in &self.aal2_routes {
            route.validate("\"aal2_routes\"").map_err(invalid)?;
            if route
                .path
                .iter()
                .chain(&route.prefix)
                .any(|p| AUTH_RPC_PATHS.iter().any(|rpc| rpc.starts_with(p.as_str())))
            {
                return Err(invalid(format!(
                    "\"aal2_routes\": {route:?} covers an auth RPC, which must stay reachable to sign in"
                )));
            }
        }
        let mut forward_claims = Vec::new();
        for (claim, header) in self.forward_claims {
            let header = header.to_ascii_lowercase();
            if !is_claim_header(&header) {
                return Err(invalid(format!(
                    "\"forward_claims\": {header:?} (for {claim:?}) is not a header name we may set"
                )));
            }
            forward_claims.push((claim, header));
        }
        let mut allowed_origins = self.allowed_origins;
        allowed_origins.extend(self.csrf.allowed_origins);
        for origin in &allowed_origins {
            crate::csrf::check_origin(origin).map_err(invalid)?;
        }
        if self.stat_prefix.is_empty()
            || !self
                .stat_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(invalid(
                "\"stat_prefix\" must be letters, digits and underscores",
            ));
        }

        let mut public_routes = if self.default_public_routes {
            default_public_routes()
        } else {
            Vec::new()
        };
        public_routes.extend(self.public_routes);
        let verifier = match &key {
            Some(key) => Verifier::new(key, &algorithms),
            None => Verifier::from_jwks(Jwks::default()),
        }
        .with_jwks(jwks.initial)
        .with_secret_only_without_keys(true)
        .with_leeway(self.leeway_seconds)
        .with_issuer(self.issuer)
        .with_audience(self.audience)
        .with_max_token_bytes(self.max_token_bytes)
        .with_max_lifetime(self.max_token_lifetime_seconds);
        Ok(Policy {
            keys: Keys::new(
                verifier,
                jwks.source,
                jwks.refresh_seconds,
                jwks.token_cache_size,
            ),
            revocations,
            bad_tokens: BadTokens::new(self.bad_token_limit_per_minute),
            cookies: CookieNames::new(
                &self.cookie_name,
                &self.refresh_cookie_name,
                self.cookie_prefixes,
            ),
            allow_authorization_header: self.allow_authorization_header,
            public_routes,
            aal2_routes: self.aal2_routes,
            forward_claims,
            csrf_enabled: self.csrf.enabled,
            allowed_origins,
            stat_prefix: self.stat_prefix,
        })
    }
}

impl FilterConfig {
    /// The ended-sessions feed, if configured.
    fn revocations(&self, env: &dyn Env) -> Result<Revocations, ConfigError> {
        let uri = endpoint::feed_uri(
            "revocation",
            self.revocation_uri.clone(),
            self.revocation_uri_env.as_deref(),
            self.revocation_cluster.is_some() || !self.revocation_headers.is_empty(),
            env,
        )?;
        if !(1..=3600).contains(&self.revocation_refresh_seconds) {
            return Err(invalid("\"revocation_refresh_seconds\" must be 1 to 3600"));
        }
        // A refresh, the host's one-second tick and a fetch must fit.
        let least_age = self.revocation_refresh_seconds + 2;
        if !(least_age..=7200).contains(&self.revocation_max_age_seconds) {
            return Err(invalid(format!(
                "\"revocation_max_age_seconds\" must be {least_age} (revocation_refresh_seconds + 2) to 7200"
            )));
        }
        let source = match uri {
            Some(uri) if !env.can_fetch() => {
                return Err(invalid(format!(
                    "this host cannot fetch the ended sessions ({uri:?}): use the gate, or Envoy's filter"
                )))
            }
            Some(uri) => Some(endpoint::http_source(
                "revocation_uri",
                &uri,
                self.revocation_cluster.clone(),
                self.revocation_headers.clone(),
            )?),
            None => None,
        };
        Ok(Revocations::new(
            source,
            self.revocation_refresh_seconds,
            self.revocation_max_age_seconds,
        ))
    }
}

/// A header name (RFC 7230 token, lower case here) that is not a
/// credential, a framing header or a proxy's own.
fn is_claim_header(header: &str) -> bool {
    !header.is_empty()
        && header
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !RESERVED_HEADERS.contains(&header)
        && !RESERVED_HEADER_PREFIXES
            .iter()
            .any(|prefix| header.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE=";

    fn parse(json: &str) -> Result<Policy, ConfigError> {
        Policy::from_json(
            json.as_bytes(),
            &Vars(|name| (name == "JWT_SECRET").then(|| SECRET.to_owned())),
        )
    }

    fn error(json: &str) -> String {
        parse(json).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn minimal_config_gets_the_defaults() {
        let policy = parse(r#"{"secret_env":"JWT_SECRET","secret_is_base64":true}"#).unwrap();
        assert_eq!(policy.public_routes(), default_public_routes().as_slice());
    }

    #[test]
    fn public_routes_add_to_the_defaults_unless_told_otherwise() {
        let added = parse(r#"{"secret_env":"JWT_SECRET","public_routes":[{"prefix":"/public/"}]}"#)
            .unwrap();
        assert_eq!(
            added.public_routes().len(),
            default_public_routes().len() + 1
        );
        let replaced = parse(
            r#"{"secret_env":"JWT_SECRET","default_public_routes":false,"public_routes":[{"prefix":"/public/"}]}"#,
        )
        .unwrap();
        assert_eq!(replaced.public_routes().len(), 1);
    }

    #[test]
    fn scalars_may_be_strings_as_traefik_sends_them() {
        parse(
            r#"{"secret_env":"JWT_SECRET","secret_is_base64":"true","leeway_seconds":"5","max_token_bytes":"2048","csrf":{"enabled":"false"}}"#,
        )
        .unwrap();
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
        // Beside secret_env, the key each case gets wrong, then its value.
        let with = |rest: &str| format!(r#"{{"secret_env":"JWT_SECRET",{rest}}}"#);
        let cases = [
            ("{".to_owned(), "EOF"),
            (
                with(r#""algoritms":["HS256"]"#),
                "unknown field `algoritms`",
            ),
            ("{}".to_owned(), "exactly one of"),
            (
                r#"{"secret_file":"/etc/key"}"#.to_owned(),
                "cannot read files",
            ),
            (r#"{"secret_env":"NOPE"}"#.to_owned(), "NOPE is not set"),
            (r#"{"secret":"short"}"#.to_owned(), "at least 32"),
            (
                r#"{"secret":"not base64 at all but long enough!!","secret_is_base64":true}"#
                    .to_owned(),
                "base64",
            ),
            (
                with(r#""algorithms":["RS256"]"#),
                "unsupported JWT algorithm",
            ),
            (with(r#""algorithms":[]"#), "at least one"),
            // RFC 7518 section 3.2: as long as the hash output (crypto review C5).
            (
                with(r#""algorithms":["HS256","HS512"]"#),
                "HS512 requires at least 64",
            ),
            (with(r#""leeway_seconds":31"#), "at most 30"),
            (with(r#""public_routes":[{"path":"rpc"}]"#), "start with /"),
            (
                with(r#""public_routes":[{"prefix":"/public"}]"#),
                "end with /",
            ),
            (
                with(r#""csrf":{"allowed_origins":["example.com"]}"#),
                "origin",
            ),
            (
                with(r#""allowed_origins":["https://app.example/"]"#),
                "not an origin",
            ),
            (with(r#""cookie_name":"a b""#), "not a valid cookie name"),
            (
                with(r#""refresh_cookie_name":"a;b""#),
                "not a valid cookie name",
            ),
            (with(r#""stat_prefix":"a.b""#), "stat_prefix"),
        ];
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|(config, reason)| {
                let error = error(config);
                (!error.contains(reason)).then(|| format!("{config}: {error:?} lacks {reason:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn claims_never_go_into_credential_framing_or_proxy_headers() {
        for header in [
            "Authorization",
            "cookie",
            "Host",
            "Content-Length",
            "transfer-encoding",
            "Connection",
            "TE",
            "upgrade",
            "x-envoy-original-path",
            "X-Forwarded-For",
            ":path",
            "a b",
            "",
        ] {
            let config = format!(
                r#"{{"secret_env":"JWT_SECRET","forward_claims":{{"sub":{}}}}}"#,
                serde_json::to_string(header).unwrap()
            );
            assert!(error(&config).contains("forward_claims"), "{header}");
        }
        assert!(parse(r#"{"secret_env":"JWT_SECRET","forward_claims":{"sub":"X-User"}}"#).is_ok());
    }
}

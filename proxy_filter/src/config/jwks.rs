//! The JWKS part of the configuration: where the public keys come from
//! (`jwks` inline, `jwks_file`, `jwks_uri` or `jwks_uri_env`), how often
//! they are fetched again, and how many verified tokens are remembered.

use std::collections::BTreeMap;

use jwt_core::Jwks;
use serde_json::Value;

use super::endpoint::{feed_uri, http_source};
use super::{invalid, ConfigError, Env};
use crate::feeds::FeedSource;

pub(crate) const DEFAULT_REFRESH_SECONDS: u32 = 60;
const MAX_REFRESH_SECONDS: u32 = 86_400;
pub(crate) const DEFAULT_TOKEN_CACHE_SIZE: usize = 4096;
const MAX_TOKEN_CACHE_SIZE: usize = 1_000_000;

/// The JWKS keys of the configuration (declared, with their serde
/// attributes, in `FilterConfig`: serde cannot deny unknown fields across a
/// flattened struct).
pub(crate) struct JwksConfig {
    pub jwks: Option<Value>,
    pub jwks_file: Option<String>,
    pub jwks_uri: Option<String>,
    pub jwks_uri_env: Option<String>,
    pub jwks_cluster: Option<String>,
    pub jwks_headers: BTreeMap<String, String>,
    pub jwks_refresh_seconds: u32,
    pub token_cache_size: usize,
}

pub(crate) fn default_refresh_seconds() -> u32 {
    DEFAULT_REFRESH_SECONDS
}

pub(crate) fn default_token_cache_size() -> usize {
    DEFAULT_TOKEN_CACHE_SIZE
}

/// The checked JWKS settings.
pub(crate) struct JwksSettings {
    /// The keys to start with (empty until the first fetch of a `jwks_uri`).
    pub initial: Jwks,
    pub source: Option<FeedSource>,
    pub refresh_seconds: u32,
    pub token_cache_size: usize,
}

impl JwksConfig {
    pub(crate) fn is_set(&self) -> bool {
        self.jwks.is_some()
            || self.jwks_file.is_some()
            || self.jwks_uri.is_some()
            || self.jwks_uri_env.is_some()
    }

    pub(crate) fn check(self, env: &dyn Env) -> Result<JwksSettings, ConfigError> {
        let sources = [
            self.jwks.is_some(),
            self.jwks_file.is_some(),
            self.jwks_uri.is_some(),
            self.jwks_uri_env.is_some(),
        ];
        if sources.iter().filter(|set| **set).count() > 1 {
            return Err(invalid(
                "set at most one of \"jwks\", \"jwks_file\", \"jwks_uri\" or \"jwks_uri_env\"",
            ));
        }
        if !(1..=MAX_REFRESH_SECONDS).contains(&self.jwks_refresh_seconds) {
            return Err(invalid(format!(
                "\"jwks_refresh_seconds\" must be 1 to {MAX_REFRESH_SECONDS}"
            )));
        }
        if self.token_cache_size > MAX_TOKEN_CACHE_SIZE {
            return Err(invalid(format!(
                "\"token_cache_size\" is at most {MAX_TOKEN_CACHE_SIZE}"
            )));
        }
        let uri = feed_uri(
            "jwks",
            self.jwks_uri,
            self.jwks_uri_env.as_deref(),
            self.jwks_cluster.is_some() || !self.jwks_headers.is_empty(),
            env,
        )?;
        let needs_fetching = uri.is_some() || self.jwks_file.is_some();
        if needs_fetching && !env.can_fetch() {
            return Err(invalid(
                "this host cannot fetch a JWKS: give the keys inline in \"jwks\" (with Traefik, or use the gate through ForwardAuth to follow rotations)",
            ));
        }
        let mut initial = Jwks::default();
        let source = if let Some(value) = self.jwks {
            let text = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            initial = parse(&text, "\"jwks\"")?;
            None
        } else if let Some(path) = self.jwks_file {
            let text = env
                .read_file(&path)
                .map_err(|e| invalid(format!("jwks_file {path:?}: {e}")))?;
            initial = parse(&text, &format!("jwks_file {path:?}"))?;
            Some(FeedSource::File(path))
        } else if let Some(uri) = uri {
            Some(FeedSource::Http(http_source(
                "jwks_uri",
                &uri,
                self.jwks_cluster,
                self.jwks_headers,
            )?))
        } else {
            None
        };
        Ok(JwksSettings {
            initial,
            source,
            refresh_seconds: self.jwks_refresh_seconds,
            token_cache_size: self.token_cache_size,
        })
    }
}

fn parse(text: &str, what: &str) -> Result<Jwks, ConfigError> {
    Jwks::parse(text).map_err(|e| invalid(format!("{what}: {e}")))
}

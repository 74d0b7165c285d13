//! Cookie-to-Bearer JWT verification in front of PostgREST.
//!
//! All decisions live in plain Rust here (no host dependency, unit-tested
//! natively): a JSON configuration is parsed once into a [`Policy`], which
//! turns a [`RequestHead`] into a [`Decision`]. Each host in `host/` only
//! translates between its ABI and the policy.

mod bad_tokens;
mod config;
mod cors;
mod csrf;
mod decision;
mod feeds;
mod keys;
mod policy;
mod request;
mod response;
mod revocations;
mod routes;
mod schedule;
mod tally;
#[cfg(test)]
mod testing;

pub mod host;

pub use config::{ConfigError, Env, Vars};
pub use decision::{Decision, Denial, Forward, Outcome, DECISION_METRIC};
pub use feeds::{Feed, FeedSource, HttpSource, FETCH_TIMEOUT_SECONDS, MAX_FEED_BYTES};
pub use keys::KeyMetric;
pub use policy::{unix_seconds, Policy};
pub use request::RequestHead;
pub use response::{filter_failure, front_misconfigured};
pub use routes::{RouteMatcher, JWKS_PATH};
pub use schedule::{RETRY_SECONDS, UNKNOWN_KID_INTERVAL};

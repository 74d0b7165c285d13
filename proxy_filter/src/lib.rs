//! Cookie-to-Bearer JWT verification in front of PostgREST.
//!
//! All decisions live in plain Rust here (no host dependency, unit-tested
//! natively): [`FilterConfig`] is parsed once into a [`Policy`], which turns a
//! [`RequestHead`] into a [`Decision`]. The host glue in `host/` (proxy-wasm)
//! and `bin/` (http-wasm) only moves headers in and out.

mod config;
mod csrf;
mod decision;
mod policy;
mod request;
mod response;
mod routes;

pub use config::{ConfigError, FilterConfig};
pub use decision::{Decision, Denial, Forward, Outcome};
pub use policy::Policy;
pub use request::RequestHead;
pub use routes::RouteMatcher;

#[cfg(feature = "proxy-wasm")]
mod host;

//! The hosts: each file only translates between its host's ABI and the
//! [`Policy`](crate::Policy), each behind the Cargo feature that builds it.

#[cfg(feature = "gate")]
pub mod gate;
#[cfg(feature = "http-wasm")]
pub mod http_wasm;
#[cfg(feature = "js")]
pub mod js;
#[cfg(any(test, feature = "proxy-wasm"))]
mod map_pairs;
#[cfg(feature = "proxy-wasm")]
pub mod proxy_wasm;

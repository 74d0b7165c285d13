//! proxy-wasm glue (Envoy and its kin). Uses the `hostcalls` functions, which
//! return errors, rather than the trait helpers, which unwrap: a header value
//! that is not UTF-8 must not abort the VM.

mod proxy_wasm_filter;

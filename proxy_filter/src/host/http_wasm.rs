//! http-wasm glue (Traefik's wasm plugins, Caddy's wasm modules). The
//! configuration is parsed once at start; a bad one exits non-zero, so the
//! host refuses to instantiate the plugin.

use std::time::SystemTime;

use http_wasm_guest::host::{admin, log as host_log, Request, Response};
use http_wasm_guest::{register, Guest};

use crate::request::client_address;
use crate::{unix_seconds, Decision, Policy, Vars};

/// http-wasm log level `error`.
const LOG_ERROR: i32 = 2;

struct Plugin {
    policy: Policy,
}

impl Guest for Plugin {
    fn handle_request(&self, request: &Request, response: &Response) -> (bool, i32) {
        let names: Vec<String> = request
            .header
            .names()
            .iter()
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect();
        let pseudo = [(":method", request.method()), (":path", request.uri())];
        let values = names.iter().flat_map(|name| {
            let values = request.header.values(name.as_bytes());
            values.into_iter().map(move |value| (name.as_str(), value))
        });
        let head = self.policy.read_request(pseudo.into_iter().chain(values));
        let now = unix_seconds(Some(SystemTime::now()));

        // One host call: asked only when a forged-token count needs it.
        let client = || client_address(&request.source_addr());
        match self.policy.decide_asking_client(&head, now, client) {
            Decision::Forward(forward) => {
                for name in &forward.remove_headers {
                    request.header.remove(name.as_bytes());
                }
                for (name, value) in &forward.set_headers {
                    request.header.set(name.as_bytes(), value.as_bytes());
                }
                (true, 0)
            }
            Decision::Deny(denial) => {
                // Headers before the status: a host may send the status line
                // (and with it the headers) as soon as the status is set.
                for (name, value) in &denial.headers {
                    response.header.set(name.as_bytes(), value.as_bytes());
                }
                response.set_status(i32::from(denial.status));
                response.body.write(denial.body.as_bytes());
                (false, 0)
            }
        }
    }
}

/// The plugin's `main`: reads the configuration the host passes and
/// registers the handler, or exits with the reason.
pub fn main() {
    let config = admin::config();
    match Policy::from_json(&config, &Vars(|name| std::env::var(name).ok())) {
        Ok(policy) => register(Plugin { policy }),
        Err(error) => {
            host_log::write(LOG_ERROR, error.to_string().as_bytes());
            std::process::exit(1);
        }
    }
}

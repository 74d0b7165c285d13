//! proxy-wasm glue (Envoy and its kin). Uses the `hostcalls` functions with
//! byte values rather than the trait helpers, so that a header value that is
//! not UTF-8 is read, not unwrapped. proxy-wasm 0.2.5 still panics on a host
//! status it does not expect: a panic aborts this VM, and Envoy's
//! `failure_policy: FAIL_RELOAD` (stack/envoy/envoy.yaml) starts a new one
//! while refusing requests, never passing them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, MetricType};

use crate::{filter_failure, unix_seconds, Decision, Denial, Outcome, Policy};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(FilterRoot { policy: None, metrics: Rc::default() })
    });
}}

/// One counter per outcome, all defined at configuration time so that every
/// series exists before its first event.
#[derive(Default)]
struct Metrics(RefCell<HashMap<Outcome, u32>>);

impl Metrics {
    fn define(&self, policy: &Policy) -> bool {
        let mut ids = self.0.borrow_mut();
        Outcome::all().into_iter().all(|outcome| {
            hostcalls::define_metric(MetricType::Counter, &policy.metric_name(outcome))
                .map(|id| ids.insert(outcome, id))
                .is_ok()
        })
    }

    fn count(&self, outcome: Outcome) {
        if let Some(id) = self.0.borrow().get(&outcome) {
            let _ = hostcalls::increment_metric(*id, 1);
        }
    }
}

struct FilterRoot {
    policy: Option<Rc<Policy>>,
    metrics: Rc<Metrics>,
}

impl Context for FilterRoot {}

impl RootContext for FilterRoot {
    /// Parses the configuration once per VM; `false` makes Envoy refuse it.
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let config = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten()
            .unwrap_or_default();
        match Policy::from_json(&config, |name| std::env::var(name).ok()) {
            Ok(policy) if self.metrics.define(&policy) => {
                self.policy = Some(Rc::new(policy));
                true
            }
            Ok(_) => {
                let _ = hostcalls::log(LogLevel::Critical, "proxy_filter: cannot define metrics");
                false
            }
            Err(error) => {
                let _ = hostcalls::log(LogLevel::Critical, &error.to_string());
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(FilterRequest {
            policy: self.policy.clone(),
            metrics: Rc::clone(&self.metrics),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct FilterRequest {
    policy: Option<Rc<Policy>>,
    metrics: Rc<Metrics>,
}

impl Context for FilterRequest {}

impl HttpContext for FilterRequest {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let (Some(policy), Ok(headers)) = (
            &self.policy,
            hostcalls::get_map_bytes(MapType::HttpRequestHeaders),
        ) else {
            return self.deny(filter_failure());
        };
        let request = policy.read_request(headers.iter().map(|(n, v)| (n.as_str(), v)));
        #[cfg(feature = "crash-test")]
        if crash_test::host_call_fails(&request) {
            return self.deny(filter_failure());
        }
        let now = unix_seconds(hostcalls::get_current_time().ok());

        match policy.decide(&request, now) {
            Decision::Forward(forward) => {
                let removed = forward.remove_headers.iter().all(|name| {
                    hostcalls::set_map_value(MapType::HttpRequestHeaders, name, None).is_ok()
                });
                let set = forward.set_headers.iter().all(|(name, value)| {
                    hostcalls::set_map_value(MapType::HttpRequestHeaders, name, Some(value)).is_ok()
                });
                if removed && set {
                    self.metrics.count(forward.outcome);
                    Action::Continue
                } else {
                    self.deny(filter_failure())
                }
            }
            Decision::Deny(denial) => self.deny(denial),
        }
    }
}

impl FilterRequest {
    fn deny(&self, denial: Denial) -> Action {
        self.metrics.count(denial.outcome);
        let headers: Vec<(&str, &str)> = denial
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let _ = hostcalls::send_http_response(
            u32::from(denial.status),
            headers,
            Some(denial.body.as_bytes()),
        );
        Action::Pause
    }
}

/// A build for the host tests only (feature `crash-test`): a request to
/// `/__crash` aborts the VM, to prove that Envoy recovers without ever
/// passing a request unchecked; one to `/__host_failure` takes the path of a
/// failed host call.
#[cfg(feature = "crash-test")]
mod crash_test {
    #[allow(clippy::panic)]
    pub(super) fn host_call_fails(request: &crate::RequestHead) -> bool {
        match request.path_only() {
            "/__crash" => panic!("crash-test build: crashing on request"),
            path => path == "/__host_failure",
        }
    }
}

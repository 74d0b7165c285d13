use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::UNIX_EPOCH;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, MetricType};

use crate::{Decision, FilterConfig, Outcome, Policy, RequestHead};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(FilterRoot { policy: None, metrics: Rc::default() })
    });
}}

/// Counters `pg_auth_filter.<outcome>`, defined on first use.
#[derive(Default)]
struct Metrics(RefCell<HashMap<Outcome, u32>>);

impl Metrics {
    fn count(&self, outcome: Outcome) {
        let mut ids = self.0.borrow_mut();
        let id = match ids.get(&outcome) {
            Some(id) => Some(*id),
            None => hostcalls::define_metric(
                MetricType::Counter,
                &format!("pg_auth_filter.{}", outcome.metric()),
            )
            .ok()
            .inspect(|id| {
                ids.insert(outcome, *id);
            }),
        };
        if let Some(id) = id {
            let _ = hostcalls::increment_metric(id, 1);
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
        match FilterConfig::parse_policy(&config, |name| std::env::var(name).ok()) {
            Ok(policy) => {
                self.policy = Some(Rc::new(policy));
                true
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
            return fail_closed();
        };
        let head =
            RequestHead::from_headers(headers.iter().map(|(name, value)| (name.as_str(), value)));
        let now = hostcalls::get_current_time()
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
            });

        let decision = policy.decide(&head, now);
        self.metrics.count(decision.outcome());
        match decision {
            Decision::Forward(forward) => {
                let removed = forward.remove_headers.iter().all(|name| {
                    hostcalls::set_map_value(MapType::HttpRequestHeaders, name, None).is_ok()
                });
                let set = forward.set_headers.iter().all(|(name, value)| {
                    hostcalls::set_map_value(MapType::HttpRequestHeaders, name, Some(value)).is_ok()
                });
                if removed && set {
                    Action::Continue
                } else {
                    fail_closed()
                }
            }
            Decision::Deny(denial) => {
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
    }
}

/// Something went wrong inside the filter: refuse rather than pass unchecked.
fn fail_closed() -> Action {
    let _ = hostcalls::send_http_response(
        500,
        vec![("content-type", "application/json; charset=utf-8")],
        Some(br#"{"code":"PF500","message":"Authentication filter failure","details":null,"hint":null}"#),
    );
    Action::Pause
}

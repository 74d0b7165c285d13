//! proxy-wasm glue (Envoy and its kin). Uses the `hostcalls` functions with
//! byte values rather than the trait helpers, so that a header value that is
//! not UTF-8 is read, not unwrapped. proxy-wasm 0.2.5 still panics on a host
//! status it does not expect: a panic aborts this VM, and Envoy's
//! `failure_policy: FAIL_RELOAD` (stack/envoy/envoy.yaml) starts a new one
//! while refusing requests, never passing them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, MetricType, Status};

use super::map_pairs::map_pairs;
use crate::request::client_address;
use crate::{
    filter_failure, unix_seconds, Decision, Denial, Env, Feed, FeedSource, Outcome, Policy,
    FETCH_TIMEOUT_SECONDS, MAX_FEED_BYTES,
};

/// How often the root adds the outcomes counted to Envoy's counters, and
/// asks the policy which fetches are due.
const TICK: Duration = Duration::from_secs(1);
const FETCH_TIMEOUT: Duration = Duration::from_secs(FETCH_TIMEOUT_SECONDS);

/// Environment variables, and fetches through an Envoy cluster.
struct ProxyWasmEnv;

impl Env for ProxyWasmEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn can_fetch(&self) -> bool {
        true
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(FilterRoot {
            policy: None,
            metrics: Rc::default(),
            key_counts: RefCell::default(),
            pending: RefCell::default(),
        })
    });
}}

/// One counter per outcome, all defined at configuration time so that every
/// series exists before its first event. Requests count in the VM and each
/// tick adds the counts to Envoy's counters: a host call per request cost
/// about 7 % of the filter's throughput.
#[derive(Default)]
struct Metrics {
    outcomes: RefCell<HashMap<Outcome, u32>>,
    /// Outcomes counted since the last tick.
    counted: RefCell<HashMap<Outcome, u64>>,
    /// The ids of `Policy::key_metrics`, in its order.
    keys: RefCell<Vec<u32>>,
}

impl Metrics {
    fn define(&self, policy: &Policy) -> bool {
        let mut ids = self.outcomes.borrow_mut();
        let outcomes = Outcome::all().into_iter().all(|outcome| {
            hostcalls::define_metric(MetricType::Counter, &policy.metric_name(outcome))
                .map(|id| ids.insert(outcome, id))
                .is_ok()
        });
        let keys: Option<Vec<u32>> = policy
            .key_metrics()
            .iter()
            .map(|metric| {
                let kind = if metric.gauge {
                    MetricType::Gauge
                } else {
                    MetricType::Counter
                };
                hostcalls::define_metric(kind, &policy.full_metric_name(metric.name)).ok()
            })
            .collect();
        *self.keys.borrow_mut() = keys.clone().unwrap_or_default();
        outcomes && keys.is_some()
    }

    /// The key metrics: counters grow by what this VM added since the last
    /// call (every worker's VM adds its own), gauges are set.
    fn record_keys(&self, policy: &Policy, last: &RefCell<Vec<u64>>) {
        let mut seen = last.borrow_mut();
        let metrics = policy.key_metrics();
        seen.resize(metrics.len(), 0);
        let ids = self.keys.borrow();
        for ((metric, id), seen) in metrics.iter().zip(ids.iter()).zip(seen.iter_mut()) {
            let _ = if metric.gauge {
                hostcalls::record_metric(*id, metric.value)
            } else {
                let added = i64::try_from(metric.value.saturating_sub(*seen)).unwrap_or(i64::MAX);
                hostcalls::increment_metric(*id, added)
            };
            *seen = metric.value;
        }
    }

    fn count(&self, outcome: Outcome) {
        *self.counted.borrow_mut().entry(outcome).or_insert(0) += 1;
    }

    /// Adds the outcomes counted since the last call to Envoy's counters.
    fn add_counted(&self) {
        let ids = self.outcomes.borrow();
        for (outcome, count) in self.counted.borrow_mut().drain() {
            if let (Some(id), Ok(count)) = (ids.get(&outcome), i64::try_from(count)) {
                let _ = hostcalls::increment_metric(*id, count);
            }
        }
    }
}

struct FilterRoot {
    policy: Option<Rc<Policy>>,
    metrics: Rc<Metrics>,
    key_counts: RefCell<Vec<u64>>,
    /// Fetches under way: the call's token -> its feed.
    pending: RefCell<HashMap<u32, Feed>>,
}

impl Context for FilterRoot {
    /// The answer to a fetch.
    fn on_http_call_response(
        &mut self,
        token: u32,
        _headers: usize,
        body_size: usize,
        _trailers: usize,
    ) {
        let (Some(policy), Some(feed)) = (&self.policy, self.pending.borrow_mut().remove(&token))
        else {
            return;
        };
        let status = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status")
            .ok()
            .flatten();
        let fetched = match status.as_deref() {
            Some("200") if body_size <= MAX_FEED_BYTES => {
                hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
                    .ok()
                    .flatten()
                    .ok_or_else(|| "no body".to_owned())
            }
            Some("200") => Err(format!("{body_size} bytes is too large")),
            Some(status) => Err(format!("answered {status}")),
            None => Err("no answer (cluster unreachable or timed out)".to_owned()),
        };
        let now = unix_seconds(hostcalls::get_current_time().ok()).unwrap_or(0);
        if let Err(problem) = policy.fetched(feed, now, fetched.as_deref().map_err(Clone::clone)) {
            let _ = hostcalls::log(
                LogLevel::Warn,
                &format!("proxy_filter: {feed:?} fetch failed, keeping what is known: {problem}"),
            );
        }
        self.metrics.record_keys(policy, &self.key_counts);
    }
}

impl RootContext for FilterRoot {
    /// Parses the configuration once per VM; `false` makes Envoy refuse it.
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let config = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten()
            .unwrap_or_default();
        match Policy::from_json(&config, &ProxyWasmEnv) {
            Ok(policy) if self.metrics.define(&policy) => {
                for warning in policy.warnings() {
                    let _ = hostcalls::log(LogLevel::Warn, &format!("proxy_filter: {warning}"));
                }
                let _ = hostcalls::set_tick_period(TICK);
                self.policy = Some(Rc::new(policy));
                self.on_tick();
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

    /// Starts the fetches the policy says are due.
    fn on_tick(&mut self) {
        let Some(policy) = &self.policy else {
            return;
        };
        self.metrics.add_counted();
        self.metrics.record_keys(policy, &self.key_counts);
        let Some(now) = unix_seconds(hostcalls::get_current_time().ok()) else {
            return;
        };
        for (feed, source) in policy.due_fetches(now) {
            let FeedSource::Http(source) = source else {
                // Files are refused at configuration (no file access here).
                let _ = policy.fetched(feed, now, Err("no file access in proxy-wasm".into()));
                continue;
            };
            let mut headers = vec![
                (":method", "GET"),
                (":path", source.path.as_str()),
                (":authority", source.authority.as_str()),
                ("accept", "application/json"),
            ];
            headers.extend(source.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            match hostcalls::dispatch_http_call(
                &source.cluster,
                headers,
                None,
                vec![],
                FETCH_TIMEOUT,
            ) {
                Ok(token) => {
                    self.pending.borrow_mut().insert(token, feed);
                }
                Err(status) => {
                    let problem = format!("cannot call cluster {:?}: {status:?}", source.cluster);
                    let _ = policy.fetched(feed, now, Err(problem.clone()));
                    let _ = hostcalls::log(LogLevel::Warn, &format!("proxy_filter: {problem}"));
                }
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
        let headers = RequestHeaders::read();
        let (Some(policy), Some(pairs)) = (
            &self.policy,
            headers.as_ref().and_then(|headers| map_pairs(&headers.0)),
        ) else {
            return self.deny(filter_failure());
        };
        let request = policy.read_request(pairs);
        #[cfg(feature = "crash-test")]
        if crash_test::host_call_fails(&request) {
            return self.deny(filter_failure());
        }
        let now = unix_seconds(hostcalls::get_current_time().ok());

        // The client address is a host call (and a copy into the VM): asked
        // only when a forged-token count needs it.
        let client = || {
            hostcalls::get_property(vec!["source", "address"])
                .ok()
                .flatten()
                .and_then(|address| client_address(&address))
        };
        match policy.decide_asking_client(&request, now, client) {
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

/// The request's headers, serialized by the host into one buffer of this
/// VM's memory that the filter then owns; read in place by `map_pairs`.
struct RequestHeaders(Vec<u8>);

#[link(wasm_import_module = "env")]
extern "C" {
    /// The ABI call behind the SDK's `get_map_bytes`, which copies out
    /// every name and value.
    fn proxy_get_header_map_pairs(
        map_type: MapType,
        return_data: *mut *mut u8,
        return_size: *mut usize,
    ) -> Status;
}

impl RequestHeaders {
    fn read() -> Option<RequestHeaders> {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: on Ok the host has written the address and size of a
        // buffer it allocated through this VM's proxy_on_memory_allocate
        // (the SDK's: a Vec<u8> of that capacity), or a null address.
        let status = unsafe {
            proxy_get_header_map_pairs(MapType::HttpRequestHeaders, &mut data, &mut size)
        };
        match status {
            Status::Ok if data.is_null() => Some(RequestHeaders(Vec::new())),
            // SAFETY: see above; the Vec frees the buffer when dropped.
            Status::Ok => Some(RequestHeaders(unsafe {
                Vec::from_raw_parts(data, size, size)
            })),
            _ => None,
        }
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

//! JavaScript glue (wasm-bindgen): the policy for server-side JavaScript
//! (Node, edge runtimes, SSR middleware). JSON crosses the boundary both
//! ways; `js/lib/wrap.js` wraps it into objects and gives it types.

use std::collections::BTreeMap;

use jwt_core::Claims;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::{Decision, Env, Policy};

/// The environment a caller hands over (e.g. `process.env`), for `secret_env`.
struct Variables(BTreeMap<String, String>);

impl Env for Variables {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

#[derive(Deserialize)]
struct Request {
    method: String,
    path: String,
    /// Header name -> value, or several values (`Cookie` may come split).
    #[serde(default)]
    headers: BTreeMap<String, Values>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Values {
    One(String),
    Many(Vec<String>),
}

#[wasm_bindgen(js_name = Policy)]
pub struct JsPolicy {
    policy: Policy,
}

#[wasm_bindgen(js_class = Policy)]
impl JsPolicy {
    /// Parses the filter configuration (docs/filter.md);
    /// `env_json` is an object of environment variables.
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str, env_json: &str) -> Result<JsPolicy, JsError> {
        let env: BTreeMap<String, String> =
            serde_json::from_str(env_json).map_err(|e| JsError::new(&format!("env: {e}")))?;
        Policy::from_json(config_json.as_bytes(), &Variables(env))
            .map(|policy| JsPolicy { policy })
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Decides `{method, path, headers}` at `now` (Unix seconds); the
    /// decision as JSON: `{"allow": true, "outcome", "headers", "removeHeaders"}`
    /// or `{"allow": false, "outcome", "status", "headers", "body"}`.
    pub fn decide(&self, request_json: &str, now: f64) -> Result<String, JsError> {
        let request: Request = serde_json::from_str(request_json)
            .map_err(|e| JsError::new(&format!("request: {e}")))?;
        let pairs = request.headers.iter().flat_map(|(name, values)| {
            let values: Vec<&str> = match values {
                Values::One(value) => vec![value.as_str()],
                Values::Many(values) => values.iter().map(String::as_str).collect(),
            };
            values.into_iter().map(move |value| (name.as_str(), value))
        });
        let pseudo = [
            (":method", request.method.as_str()),
            (":path", request.path.as_str()),
        ];
        let head = self.policy.read_request(pseudo.into_iter().chain(pairs));
        let decision = self.policy.decide(&head, seconds(now));
        let answer = match decision {
            Decision::Forward(forward) => serde_json::json!({
                "allow": true,
                "outcome": forward.outcome.metric(),
                "headers": forward.set_headers.into_iter().collect::<BTreeMap<_, _>>(),
                "removeHeaders": forward.remove_headers,
            }),
            Decision::Deny(denial) => serde_json::json!({
                "allow": false,
                "outcome": denial.outcome.metric(),
                "status": denial.status,
                "headers": denial.headers.into_iter().collect::<BTreeMap<_, _>>(),
                "body": denial.body,
            }),
        };
        Ok(answer.to_string())
    }

    /// The claims of the access cookie in a `Cookie` header, verified at
    /// `now`: `{"valid": true, "claims": {...}}` or `{"valid": false, "reason"}`.
    pub fn verify(&self, cookie_header: &str, now: f64) -> String {
        let answer = match self.policy.verify_cookie(cookie_header, seconds(now)) {
            Ok(claims) => serde_json::json!({ "valid": true, "claims": Claims::as_map(&claims) }),
            Err(reason) => serde_json::json!({ "valid": false, "reason": reason }),
        };
        answer.to_string()
    }
}

/// Whole seconds from JavaScript's number; `None` (refuse) for nonsense.
fn seconds(now: f64) -> Option<i64> {
    (now.is_finite() && now > 0.0 && now < 1e15).then(|| now.floor() as i64)
}

use jwt_core::{Problem, VerifyError};

/// The counter of decisions, under the stat prefix: `<prefix>.decision.<outcome>...`
/// in Envoy, `<prefix>_decision{...}` in the gate's Prometheus text.
pub const DECISION_METRIC: &str = "decision";

/// What happened to a request, for metrics and logs (never contains a token).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Public route, no valid token: passed as it came.
    Public,
    /// Public route with a valid access cookie, forwarded as Bearer.
    PublicWithToken,
    /// Private route, valid token.
    Allowed,
    /// A CORS preflight from an allowed origin, passed to the upstream.
    Preflight,
    /// Private route without a valid token (401); the reason slug
    /// (`missing`, `expired`, ...).
    Denied(&'static str),
    /// Refused whatever the route: a cross-site unsafe request (403),
    /// ambiguous cookies (400), or a path never served (404).
    Refused(Problem),
    /// The filter could not decide (no clock, a host call failed): refused (500).
    Failure,
}

impl Outcome {
    /// Every outcome, so that hosts can define each counter before its first event.
    pub fn all() -> Vec<Outcome> {
        let mut all = vec![
            Outcome::Public,
            Outcome::PublicWithToken,
            Outcome::Allowed,
            Outcome::Preflight,
        ];
        all.push(Outcome::Denied(Problem::Missing.slug()));
        all.push(Outcome::Denied(Problem::SessionEnded.slug()));
        all.extend(VerifyError::ALL.iter().map(|e| Outcome::Denied(e.reason())));
        all.push(Outcome::Refused(Problem::Csrf));
        all.push(Outcome::Refused(Problem::AmbiguousCookie));
        all.push(Outcome::Refused(Problem::NotFound));
        all.push(Outcome::Refused(Problem::MalformedCookie));
        all.push(Outcome::Refused(Problem::ForgedHeader));
        all.push(Outcome::Refused(Problem::Throttled));
        all.push(Outcome::Refused(Problem::RevocationsStale));
        all.push(Outcome::Refused(Problem::InsufficientAal));
        all.push(Outcome::Failure);
        all
    }

    /// The outcome and, for refusals, the reason: the labels of the metric.
    pub fn labels(&self) -> (&'static str, Option<&'static str>) {
        match self {
            Outcome::Public => ("public", None),
            Outcome::PublicWithToken => ("public_with_token", None),
            Outcome::Allowed => ("allowed", None),
            Outcome::Preflight => ("preflight", None),
            Outcome::Denied(reason) => ("denied", Some(reason)),
            Outcome::Refused(problem) => ("refused", Some(problem.slug())),
            Outcome::Failure => ("failure", None),
        }
    }

    /// Stable metric name, `decision.<outcome>[.<reason>]`.
    pub fn metric(&self) -> String {
        match self.labels() {
            (outcome, Some(reason)) => format!("{DECISION_METRIC}.{outcome}.{reason}"),
            (outcome, None) => format!("{DECISION_METRIC}.{outcome}"),
        }
    }
}

/// Let the request through, with these header changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward {
    pub outcome: Outcome,
    /// Headers to remove first: client copies of headers the filter owns.
    pub remove_headers: Vec<String>,
    /// Headers to set, replacing any value: `authorization` and forwarded claims.
    pub set_headers: Vec<(String, String)>,
}

/// Answer the request here, without calling the upstream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub outcome: Outcome,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Forward(Forward),
    Deny(Denial),
}

impl Decision {
    pub fn outcome(&self) -> Outcome {
        match self {
            Decision::Forward(forward) => forward.outcome,
            Decision::Deny(denial) => denial.outcome,
        }
    }
}

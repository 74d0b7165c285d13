/// What happened to a request, for metrics and logs (never contains a token).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Public route, no valid token: passed as it came.
    Public,
    /// Public route with a valid access cookie, forwarded as Bearer.
    PublicWithToken,
    /// Private route, valid token.
    Allowed,
    /// Private route refused; the reason slug (`missing`, `expired`, ...).
    Denied(&'static str),
    /// Unsafe method from another site.
    CsrfBlocked,
}

impl Outcome {
    /// Stable metric name.
    pub fn metric(&self) -> String {
        match self {
            Outcome::Public => "public".into(),
            Outcome::PublicWithToken => "public_with_token".into(),
            Outcome::Allowed => "allowed".into(),
            Outcome::Denied(reason) => format!("denied.{reason}"),
            Outcome::CsrfBlocked => "csrf_blocked".into(),
        }
    }
}

/// Let the request through, with these header changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward {
    pub outcome: Outcome,
    /// Headers to remove first (client copies of headers we own).
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

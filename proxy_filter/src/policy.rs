use std::time::{SystemTime, UNIX_EPOCH};

use jwt_core::{Claims, CookieNames, Cookies, Problem, VerifyError, AAL2, AUTH_RPC_PATHS};

use crate::bad_tokens::BadTokens;
use crate::decision::{Decision, Forward, Outcome};
use crate::keys::Keys;
use crate::request::RequestHead;
use crate::revocations::{Revocations, SessionState};
use crate::routes::{self, RouteMatcher};
use crate::{cors, csrf, response};

/// A checked configuration, ready to decide requests. Built once by
/// [`Policy::from_json`]; hosts only translate requests in and decisions out.
#[derive(Debug)]
pub struct Policy {
    pub(crate) keys: Keys,
    pub(crate) revocations: Revocations,
    pub(crate) bad_tokens: BadTokens,
    pub(crate) cookies: CookieNames,
    pub(crate) allow_authorization_header: bool,
    pub(crate) public_routes: Vec<RouteMatcher>,
    pub(crate) aal2_routes: Vec<RouteMatcher>,
    /// (claim, lower-case header name)
    pub(crate) forward_claims: Vec<(String, String)>,
    pub(crate) csrf_enabled: bool,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) stat_prefix: String,
}

/// Seconds since the Unix epoch, or `None` when the clock cannot be read or
/// is before 1970: the filter then refuses rather than let nothing expire.
pub fn unix_seconds(now: Option<SystemTime>) -> Option<i64> {
    let elapsed = now?.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(elapsed.as_secs()).ok().filter(|s| *s > 0)
}

impl Policy {
    /// Reads a request from header (name, value) pairs; see
    /// [`RequestHead`]. `:method` and `:path` pseudo-headers set those fields.
    pub fn read_request<'a, I, V>(&self, headers: I) -> RequestHead
    where
        I: IntoIterator<Item = (&'a str, V)>,
        V: AsRef<[u8]>,
    {
        RequestHead::from_headers(headers, |name| {
            self.forward_claims
                .iter()
                .any(|(_, header)| header.eq_ignore_ascii_case(name))
        })
    }

    pub fn public_routes(&self) -> &[RouteMatcher] {
        &self.public_routes
    }

    /// The full name of an outcome's counter: `<stat_prefix>.decision...`.
    pub fn metric_name(&self, outcome: Outcome) -> String {
        self.full_metric_name(&outcome.metric())
    }

    /// The configuration's `stat_prefix` (letters, digits and underscores).
    pub fn stat_prefix(&self) -> &str {
        &self.stat_prefix
    }

    /// `<stat_prefix>.<name>`.
    pub fn full_metric_name(&self, name: &str) -> String {
        format!("{}.{name}", self.stat_prefix)
    }

    /// Decides a request at time `now` (Unix seconds; `None` when the host
    /// has no usable clock, which refuses the request). Denials carry the
    /// CORS headers an allowed origin needs to read them.
    pub fn decide(&self, request: &RequestHead, now: Option<i64>) -> Decision {
        self.decide_asking_client(request, now, || request.client.clone())
    }

    /// [`Policy::decide`] for a host where the client address costs a host
    /// call (proxy-wasm): `client` is asked only when a forged-token count
    /// needs it (a token failed its check, or some client is being held),
    /// so a request with a cached token never asks.
    pub fn decide_asking_client(
        &self,
        request: &RequestHead,
        now: Option<i64>,
        client: impl FnOnce() -> Option<String>,
    ) -> Decision {
        self.with_cors(request, self.decide_inner(request, now, client))
    }

    /// [`Policy::decide`] for a host that cannot remove request headers (the
    /// forward-auth gate): a client's copy of a claim header the policy
    /// sets would reach the upstream, so such a request is refused.
    pub fn decide_without_removal(&self, request: &RequestHead, now: Option<i64>) -> Decision {
        if request.owned_headers.is_empty() {
            return self.decide(request, now);
        }
        let problem = Problem::ForgedHeader;
        let message = format!(
            "{}: {}",
            problem.message(),
            request.owned_headers.join(", ")
        );
        self.with_cors(
            request,
            Decision::Deny(response::refused(problem, &message)),
        )
    }

    fn with_cors(&self, request: &RequestHead, decision: Decision) -> Decision {
        match decision {
            Decision::Deny(mut denial) => {
                denial
                    .headers
                    .extend(cors::response_headers(request, &self.allowed_origins));
                Decision::Deny(denial)
            }
            forward => forward,
        }
    }

    fn decide_inner(
        &self,
        request: &RequestHead,
        now: Option<i64>,
        client: impl FnOnce() -> Option<String>,
    ) -> Decision {
        let Some(now) = now else {
            return Decision::Deny(response::filter_failure());
        };
        let cross_site =
            || Decision::Deny(response::refused(Problem::Csrf, Problem::Csrf.message()));
        // First the checks that hold for every request, preflights included:
        // nothing is passed on with ambiguous credentials or to a path never
        // served.
        if request.cookie_not_utf8 {
            return Decision::Deny(response::refused(
                Problem::MalformedCookie,
                Problem::MalformedCookie.message(),
            ));
        }
        let cookies = self.read_cookies(request.cookies.iter().map(String::as_str));
        for (name, count) in [
            (&self.cookies.access, cookies.access_count),
            (&self.cookies.refresh, cookies.refresh_count),
        ] {
            if count > 1 {
                return Decision::Deny(response::refused(
                    Problem::AmbiguousCookie,
                    &format!("More than one {name} cookie"),
                ));
            }
        }
        let path = request.path_only();
        if self.is_feed_path(path) || routes::is_auth_rpc_elsewhere(path) {
            return Decision::Deny(response::refused(
                Problem::NotFound,
                Problem::NotFound.message(),
            ));
        }
        if cors::is_preflight(request) {
            // Preflights carry no credential: PostgREST answers those of the
            // allowed origins (server-cors-allowed-origins); no other origin
            // gets a CORS answer. Client copies of the headers the filter
            // owns are removed as on any request.
            return if cors::origin_allowed(request, &self.allowed_origins) {
                Decision::Forward(self.forward(Outcome::Preflight, request, None))
            } else {
                cross_site()
            };
        }
        if csrf::blocks(self.csrf_enabled, &self.allowed_origins, request) {
            return cross_site();
        }
        let needs_aal2 = self
            .aal2_routes
            .iter()
            .any(|route| route.covers(&request.method, path));
        let public = !needs_aal2
            && self
                .public_routes
                .iter()
                .any(|route| route.matches(&request.method, path));
        if public && AUTH_RPC_PATHS.contains(&path) {
            // The auth RPCs read the cookies themselves: no Bearer, which
            // PostgREST would check first and, during a switch of signing
            // keys, refuse even on a refresh or a login.
            return Decision::Forward(self.forward(Outcome::Public, request, None));
        }
        let mut ask_client = Some(client);
        let asked = std::cell::OnceCell::new();
        let mut client = || {
            asked
                .get_or_init(|| ask_client.take().and_then(|ask| ask()))
                .as_deref()
        };
        let token = self.token(request, cookies.access);
        if token.is_some() && self.bad_tokens.anyone_held(now) {
            if let Some(wait) = client().and_then(|c| self.bad_tokens.wait(c, now)) {
                return Decision::Deny(response::throttled(wait));
            }
        }
        let verified = token.map(|token| (token, self.verify(token, now)));
        if let Some((_, Err(Rejected::Invalid(error)))) = &verified {
            if matches!(error, VerifyError::BadSignature | VerifyError::UnknownKey) {
                if let Some(client) = client() {
                    self.bad_tokens.record(client, now);
                }
            }
        }

        match (public, verified) {
            (_, Some((_, Ok(claims)))) if needs_aal2 && claims.get_str("aal") != Some(AAL2) => {
                Decision::Deny(response::refused(
                    Problem::InsufficientAal,
                    Problem::InsufficientAal.message(),
                ))
            }
            (_, Some((token, Ok(claims)))) => {
                let outcome = if public {
                    Outcome::PublicWithToken
                } else {
                    Outcome::Allowed
                };
                Decision::Forward(self.forward(outcome, request, Some((token, &claims))))
            }
            // Public routes pass without a Bearer header: a refresh with an
            // expired access cookie must still reach PostgREST.
            (true, _) => Decision::Forward(self.forward(Outcome::Public, request, None)),
            (false, None) => Decision::Deny(response::missing_token(&self.cookies.access)),
            (false, Some((_, Err(Rejected::Invalid(error))))) => {
                Decision::Deny(response::invalid_token(error.reason(), &error.to_string()))
            }
            (false, Some((_, Err(Rejected::SessionEnded)))) => {
                Decision::Deny(response::session_ended())
            }
            (false, Some((_, Err(Rejected::RevocationsStale)))) => {
                Decision::Deny(response::revocations_stale())
            }
        }
    }

    /// Verification, then the ended sessions.
    fn verify(&self, token: &str, now: i64) -> Result<std::sync::Arc<Claims>, Rejected> {
        let claims = self.keys.verify(token, now).map_err(Rejected::Invalid)?;
        match claims.get_str("sid") {
            Some(sid) => match self.revocations.session(sid, now) {
                SessionState::Live => Ok(claims),
                SessionState::Ended => Err(Rejected::SessionEnded),
                SessionState::Unknown => Err(Rejected::RevocationsStale),
            },
            None => Ok(claims),
        }
    }

    /// The ended-sessions endpoint is for the proxies only: never passed on,
    /// at its own path nor under the `/rest/` prefix the proxies strip.
    fn is_feed_path(&self, path: &str) -> bool {
        self.revocations.source().is_some_and(|source| {
            let feed = source.path.split('?').next().unwrap_or_default();
            path == feed || path.strip_prefix("/rest").is_some_and(|rest| rest == feed)
        })
    }

    /// The verified claims of the access cookie in a `Cookie` header value,
    /// for code that only needs to know who is signed in (SSR middleware);
    /// otherwise the reason slug (`missing`, `ambiguous_cookie`, `expired`...).
    pub fn verify_cookie(
        &self,
        cookie_header: &str,
        now: Option<i64>,
    ) -> Result<Claims, &'static str> {
        let now = now.ok_or(Problem::FilterFailure.slug())?;
        let cookies = self.read_cookies([cookie_header]);
        match cookies.access {
            _ if cookies.access_count > 1 => Err(Problem::AmbiguousCookie.slug()),
            Some(token) if !token.is_empty() => self
                .verify(token, now)
                .map(|claims| claims.as_ref().clone())
                .map_err(|rejected| rejected.reason()),
            _ => Err(Problem::Missing.slug()),
        }
    }

    /// The access and refresh cookies of a request, in one pass over its
    /// `Cookie` header values (three passes were a fifth of the policy's
    /// time). The one reader of both, for requests and for `verify_cookie`.
    fn read_cookies<'a>(&self, headers: impl IntoIterator<Item = &'a str>) -> RequestCookies<'a> {
        let mut found = RequestCookies::default();
        for (name, value) in headers.into_iter().flat_map(Cookies::parse) {
            if name == self.cookies.access {
                found.access_count += 1;
                found.access = found.access.or(Some(value));
            } else if name == self.cookies.refresh {
                found.refresh_count += 1;
            }
        }
        found
    }

    /// The access cookie (the first), or with `allow_authorization_header`
    /// a Bearer token.
    fn token<'a>(&self, request: &'a RequestHead, access: Option<&'a str>) -> Option<&'a str> {
        access.filter(|token| !token.is_empty()).or_else(|| {
            self.allow_authorization_header
                .then(|| request.authorization.as_deref().and_then(bearer_token))
                .flatten()
        })
    }

    fn forward(
        &self,
        outcome: Outcome,
        request: &RequestHead,
        verified: Option<(&str, &Claims)>,
    ) -> Forward {
        // Client copies of the headers the filter owns never reach the
        // upstream: a client's own Authorization (PostgREST would accept one
        // expired up to 30 s ago, or one without exp) and claim headers.
        let mut remove_headers = request.owned_headers.clone();
        let mut set_headers = Vec::new();
        match verified {
            Some((token, claims)) => {
                set_headers.push(("authorization".to_owned(), format!("Bearer {token}")));
                for (claim, header) in &self.forward_claims {
                    if let Some(value) = claim_value(claims, claim) {
                        set_headers.push((header.clone(), value));
                    }
                }
            }
            None if request.authorization.is_some() => {
                remove_headers.push("authorization".to_owned());
            }
            None => {}
        }
        Forward {
            outcome,
            remove_headers,
            set_headers,
        }
    }
}

/// What [`Policy::read_cookies`] found.
#[derive(Default)]
struct RequestCookies<'a> {
    access: Option<&'a str>,
    access_count: usize,
    refresh_count: usize,
}

/// Why a token is not accepted.
enum Rejected {
    Invalid(jwt_core::VerifyError),
    SessionEnded,
    RevocationsStale,
}

impl Rejected {
    fn reason(&self) -> &'static str {
        match self {
            Rejected::Invalid(error) => error.reason(),
            Rejected::SessionEnded => Problem::SessionEnded.slug(),
            Rejected::RevocationsStale => Problem::RevocationsStale.slug(),
        }
    }
}

/// A string, number or boolean claim as a header value; nothing that could
/// not travel in a header.
fn claim_value(claims: &Claims, claim: &str) -> Option<String> {
    let value = match claims.get(claim)? {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Number(number) => number.to_string(),
        serde_json::Value::Bool(flag) => flag.to_string(),
        _ => return None,
    };
    value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        .then_some(value)
}

/// `Bearer <token>` (scheme case-insensitive, RFC 7235); empty tokens are none.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests;

use jwt_core::{cookie_values, Claims, Verifier};

use crate::csrf::CsrfConfig;
use crate::decision::{Decision, Forward, Outcome};
use crate::request::RequestHead;
use crate::response;
use crate::routes::RouteMatcher;

/// A checked configuration, ready to decide requests.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) verifier: Verifier,
    pub(crate) cookie_name: String,
    pub(crate) allow_authorization_header: bool,
    pub(crate) public_routes: Vec<RouteMatcher>,
    /// (claim, lower-case header name)
    pub(crate) forward_claims: Vec<(String, String)>,
    pub(crate) csrf: CsrfConfig,
}

/// Why no usable token was found.
enum NoToken {
    Missing,
    /// Several access cookies: which one the upstream would see is anyone's
    /// guess (and a classic cookie-tossing trick), so none is trusted.
    Ambiguous,
}

impl Policy {
    /// Decides a request at time `now` (Unix seconds).
    pub fn decide(&self, request: &RequestHead, now: i64) -> Decision {
        if self.csrf.blocks(request) {
            return Decision::Deny(response::cross_site());
        }
        let path = request.path_only();
        let public = self
            .public_routes
            .iter()
            .any(|route| route.matches(&request.method, path));
        let verified = self
            .token(request)
            .map(|token| (token, self.verifier.verify(token, now)));

        match (public, verified) {
            (_, Ok((token, Ok(claims)))) => {
                let outcome = if public {
                    Outcome::PublicWithToken
                } else {
                    Outcome::Allowed
                };
                Decision::Forward(self.forward(outcome, Some((token, &claims))))
            }
            // Public routes pass without our Authorization header: a refresh
            // with an expired access cookie must still reach PostgREST.
            (true, _) => Decision::Forward(self.forward(Outcome::Public, None)),
            (false, Err(NoToken::Missing)) => {
                Decision::Deny(response::missing_token(&self.cookie_name))
            }
            (false, Err(NoToken::Ambiguous)) => Decision::Deny(response::invalid_token(
                "ambiguous",
                &format!("More than one {} cookie", self.cookie_name),
            )),
            (false, Ok((_, Err(error)))) => {
                Decision::Deny(response::invalid_token(error.reason(), &error.to_string()))
            }
        }
    }

    fn token<'a>(&self, request: &'a RequestHead) -> Result<&'a str, NoToken> {
        let mut cookies = cookie_values(
            request.cookies.iter().map(String::as_str),
            &self.cookie_name,
        );
        match (cookies.next(), cookies.next()) {
            (Some(_), Some(_)) => return Err(NoToken::Ambiguous),
            (Some(token), None) if !token.is_empty() => return Ok(token),
            _ => {}
        }
        if self.allow_authorization_header {
            if let Some(token) = request.authorization.as_deref().and_then(bearer_token) {
                return Ok(token);
            }
        }
        Err(NoToken::Missing)
    }

    fn forward(&self, outcome: Outcome, verified: Option<(&str, &Claims)>) -> Forward {
        // Client-sent copies of the claim headers never reach the upstream.
        let remove_headers = self
            .forward_claims
            .iter()
            .map(|(_, header)| header.clone())
            .collect();
        let mut set_headers = Vec::new();
        if let Some((token, claims)) = verified {
            set_headers.push(("authorization".to_owned(), format!("Bearer {token}")));
            for (claim, header) in &self.forward_claims {
                let value = match claims.get(claim) {
                    Some(serde_json::Value::String(text)) => Some(text.clone()),
                    Some(serde_json::Value::Number(number)) => Some(number.to_string()),
                    Some(serde_json::Value::Bool(flag)) => Some(flag.to_string()),
                    _ => None,
                };
                if let Some(value) =
                    value.filter(|v| v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)))
                {
                    set_headers.push((header.clone(), value));
                }
            }
        }
        Forward {
            outcome,
            remove_headers,
            set_headers,
        }
    }
}

/// `Bearer <token>` (scheme case-insensitive, RFC 7235); empty tokens are none.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests;

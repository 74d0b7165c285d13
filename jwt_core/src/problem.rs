//! Every failure a client can see, with its stable slug: the extension, the
//! proxy filter and the forward-auth gate answer with the same slug in the
//! JSON body's `details`, so that clients match slugs, not English.
//! Token verification failures have their own slugs ([`crate::VerifyError::reason`]).

/// A failure a client sees, other than a token that failed verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Problem {
    /// No access cookie on a private route.
    Missing,
    /// More than one access or refresh cookie: which one the upstream would
    /// see is anyone's guess (a cookie-tossing trick), so none is used.
    AmbiguousCookie,
    /// An unsafe method from another site.
    Csrf,
    /// The filter itself failed (a host call, the clock): refused, not passed.
    FilterFailure,
    /// Login: wrong password or unknown user, said alike.
    InvalidCredentials,
    /// Refresh: no such token, or its session has ended.
    InvalidRefreshToken,
    /// Refresh: a rotated token used again after the grace window; the
    /// session has been ended.
    RefreshReused,
    /// An access token whose session has ended (logout, reuse, password or
    /// role change).
    SessionEnded,
    /// The account's role may not be used (dropped, superuser, reserved).
    AccountUnusable,
    /// Too many attempts; retry later.
    Throttled,
    /// `Prefer: tx=rollback` on an auth RPC: its cookies would describe a
    /// session change that never happened.
    RollbackRefused,
    /// A path the proxy never serves (the proxies' own feeds).
    NotFound,
    /// A `Cookie` header that is not UTF-8.
    MalformedCookie,
    /// A header the proxy sets (a forwarded claim) came from the client, and
    /// this host cannot remove it (the forward-auth gate): refused.
    ForgedHeader,
    /// No session of the signed-in user has that id (another user's
    /// session is "not found" too, never "forbidden").
    SessionNotFound,
    /// Sign-up is off (`pg_auth.signup`).
    SignupDisabled,
    /// Login with the right password to an account whose email address is
    /// not verified yet (`pg_auth.email_confirm_required`).
    EmailNotVerified,
    /// A new password the policy refuses; the hint says why.
    WeakPassword,
    /// Not an email address the extension can send to.
    InvalidEmail,
    /// A one-time link (verification, reset) that is unknown, used, replaced
    /// by a newer one or expired: said alike.
    InvalidLink,
    /// The proxy's list of ended sessions is older than its bound (not
    /// fetched since it started, or PostgREST not answering): it cannot
    /// tell whether the token's session has ended, so it does not pass it.
    RevocationsStale,
    /// A route or RPC that needs a second factor (`aal2`), with a token of
    /// a password-only session (`aal1`).
    InsufficientAal,
    /// A one-time code (TOTP or recovery) that is wrong, outside its window
    /// or already used: said alike.
    InvalidCode,
    /// No factor of the signed-in user has that id.
    FactorNotFound,
    /// The account has as many factors as it may (`auth.max_factors`).
    TooManyFactors,
    /// A passkey registration or sign-in that does not verify (signature,
    /// origin, challenge unknown, used or expired, no user verification, a
    /// signature counter that went back): said alike.
    InvalidPasskey,
    /// `pg_auth.webauthn_rp_id` is not set.
    PasskeysDisabled,
}

impl Problem {
    /// Every problem, for the catalogue's tests and the docs.
    pub const ALL: [Problem; 27] = [
        Problem::Missing,
        Problem::AmbiguousCookie,
        Problem::Csrf,
        Problem::FilterFailure,
        Problem::InvalidCredentials,
        Problem::InvalidRefreshToken,
        Problem::RefreshReused,
        Problem::SessionEnded,
        Problem::AccountUnusable,
        Problem::Throttled,
        Problem::RollbackRefused,
        Problem::SessionNotFound,
        Problem::NotFound,
        Problem::MalformedCookie,
        Problem::ForgedHeader,
        Problem::SignupDisabled,
        Problem::EmailNotVerified,
        Problem::WeakPassword,
        Problem::InvalidEmail,
        Problem::InvalidLink,
        Problem::RevocationsStale,
        Problem::InsufficientAal,
        Problem::InvalidCode,
        Problem::FactorNotFound,
        Problem::TooManyFactors,
        Problem::InvalidPasskey,
        Problem::PasskeysDisabled,
    ];

    /// The stable name clients match on (`invalid_credentials`...).
    pub fn slug(self) -> &'static str {
        match self {
            Problem::Missing => "missing",
            Problem::AmbiguousCookie => "ambiguous_cookie",
            Problem::Csrf => "csrf",
            Problem::FilterFailure => "filter_failure",
            Problem::InvalidCredentials => "invalid_credentials",
            Problem::InvalidRefreshToken => "invalid_refresh_token",
            Problem::RefreshReused => "refresh_reused",
            Problem::SessionEnded => "session_ended",
            Problem::AccountUnusable => "account_unusable",
            Problem::Throttled => "throttled",
            Problem::RollbackRefused => "rollback_refused",
            Problem::SessionNotFound => "session_not_found",
            Problem::NotFound => "not_found",
            Problem::MalformedCookie => "malformed_cookie",
            Problem::ForgedHeader => "forged_header",
            Problem::SignupDisabled => "signup_disabled",
            Problem::EmailNotVerified => "email_not_verified",
            Problem::WeakPassword => "weak_password",
            Problem::InvalidEmail => "invalid_email",
            Problem::InvalidLink => "invalid_link",
            Problem::RevocationsStale => "revocations_stale",
            Problem::InsufficientAal => "insufficient_aal",
            Problem::InvalidCode => "invalid_code",
            Problem::FactorNotFound => "factor_not_found",
            Problem::TooManyFactors => "too_many_factors",
            Problem::InvalidPasskey => "invalid_passkey",
            Problem::PasskeysDisabled => "passkeys_disabled",
        }
    }

    /// The problem named `slug` (the SQL side names problems by slug).
    pub fn from_slug(slug: &str) -> Option<Problem> {
        Problem::ALL.into_iter().find(|p| p.slug() == slug)
    }

    /// The HTTP status it is answered with.
    pub fn status(self) -> u16 {
        match self {
            Problem::AmbiguousCookie
            | Problem::RollbackRefused
            | Problem::MalformedCookie
            | Problem::ForgedHeader
            | Problem::InvalidLink => 400,
            Problem::Csrf
            | Problem::AccountUnusable
            | Problem::SignupDisabled
            | Problem::EmailNotVerified
            | Problem::InsufficientAal
            | Problem::PasskeysDisabled => 403,
            Problem::WeakPassword
            | Problem::InvalidEmail
            | Problem::InvalidCode
            | Problem::TooManyFactors => 422,
            Problem::Throttled => 429,
            Problem::SessionNotFound | Problem::NotFound | Problem::FactorNotFound => 404,
            Problem::FilterFailure => 500,
            Problem::RevocationsStale => 503,
            Problem::Missing
            | Problem::InvalidCredentials
            | Problem::InvalidRefreshToken
            | Problem::RefreshReused
            | Problem::SessionEnded
            | Problem::InvalidPasskey => 401,
        }
    }

    /// The message; the extension's are those of the plpgsql + caddy-jwt
    /// setup where it had one.
    pub fn message(self) -> &'static str {
        match self {
            Problem::Missing => "Authentication required",
            Problem::AmbiguousCookie => "More than one cookie with the same credential name",
            Problem::Csrf => "Cross-site request refused",
            Problem::FilterFailure => "Authentication filter failure",
            Problem::InvalidCredentials => "Invalid user or password",
            Problem::InvalidRefreshToken => "Invalid or expired refresh token",
            Problem::RefreshReused => "Refresh token reused: the session has ended",
            Problem::SessionEnded => "Session has ended",
            Problem::AccountUnusable => "This account cannot sign in",
            Problem::Throttled => "Too many attempts",
            Problem::RollbackRefused => "The auth RPCs always commit",
            Problem::SessionNotFound => "No such session",
            Problem::NotFound => "Not found",
            Problem::MalformedCookie => "The Cookie header is not valid UTF-8",
            Problem::ForgedHeader => "A header the proxy sets came from the client",
            Problem::SignupDisabled => "Sign-up is closed",
            Problem::EmailNotVerified => "Verify your email address first",
            Problem::WeakPassword => "This password is too weak",
            Problem::InvalidEmail => "Not a valid email address",
            Problem::InvalidLink => "This link is invalid or has expired",
            Problem::RevocationsStale => "The proxy cannot tell yet whether this session has ended",
            Problem::InsufficientAal => "This needs a second factor",
            Problem::InvalidCode => "Invalid, expired or already used code",
            Problem::FactorNotFound => "No such factor",
            Problem::TooManyFactors => "This account has as many factors as it may",
            Problem::InvalidPasskey => "This passkey could not be verified",
            Problem::PasskeysDisabled => "Passkeys are not set up on this server",
        }
    }

    /// What the client can do about it, when there is something.
    pub fn hint(self) -> Option<&'static str> {
        match self {
            Problem::Missing | Problem::SessionEnded | Problem::RefreshReused => {
                Some("Log in with POST /rpc/login")
            }
            Problem::AmbiguousCookie | Problem::MalformedCookie => {
                Some("Clear this site's cookies, then log in again")
            }
            Problem::Csrf => {
                Some("Unsafe methods must come from the same origin (Sec-Fetch-Site or Origin)")
            }
            Problem::AccountUnusable => Some("Ask an administrator to check the account's role"),
            Problem::Throttled | Problem::RevocationsStale => {
                Some("Retry after the time in Retry-After")
            }
            Problem::RollbackRefused => Some("Send the request without Prefer: tx=rollback"),
            Problem::ForgedHeader => Some("Send the request without the proxy's claim headers"),
            Problem::EmailNotVerified => {
                Some("Open the link in the verification mail, or ask for a new one (POST /rpc/resend_verification)")
            }
            Problem::WeakPassword => Some("Choose a longer, less common password"),
            Problem::InvalidEmail => Some("Send one address like name@example.com"),
            Problem::InvalidLink => Some("Ask for a new link"),
            Problem::InsufficientAal => {
                Some("Verify a second factor with POST /rpc/mfa_verify (or sign in with a passkey), then retry")
            }
            Problem::InvalidCode => Some("Enter the code your authenticator app shows now"),
            Problem::TooManyFactors => Some("Remove a factor first (POST /rpc/mfa_unenroll)"),
            Problem::InvalidPasskey => Some("Start again (a challenge is good for one try and two minutes), or sign in with your password"),
            Problem::FilterFailure
            | Problem::InvalidCredentials
            | Problem::InvalidRefreshToken
            | Problem::SessionNotFound
            | Problem::NotFound
            | Problem::SignupDisabled
            | Problem::FactorNotFound
            | Problem::PasskeysDisabled => None,
        }
    }

    /// The SQLSTATE that makes PostgREST answer with [`Problem::status`].
    pub fn sqlstate(self) -> String {
        format!("PT{}", self.status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_round_trip() {
        for problem in Problem::ALL {
            assert_eq!(Problem::from_slug(problem.slug()), Some(problem));
            let same = Problem::ALL
                .iter()
                .filter(|p| p.slug() == problem.slug())
                .count();
            assert_eq!(same, 1, "{problem:?}");
        }
        assert_eq!(Problem::from_slug("nope"), None);
        assert_eq!(Problem::InvalidCredentials.sqlstate(), "PT401");
    }
}

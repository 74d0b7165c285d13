//! Building `Set-Cookie` header values (RFC 6265 section 4.1).

use core::fmt;
use core::str::FromStr;

use crate::cookie::{is_cookie_domain, is_cookie_name, is_cookie_path, HOST_PREFIX, SECURE_PREFIX};

/// When browsers send a cookie with a request another site started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// Never.
    Strict,
    /// On top-level navigations only (links, not forms that POST).
    Lax,
    /// Always; the cookie must be `Secure`.
    None,
}

impl SameSite {
    fn name(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

impl FromStr for SameSite {
    type Err = SetCookieError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "strict" => Ok(SameSite::Strict),
            "lax" => Ok(SameSite::Lax),
            "none" => Ok(SameSite::None),
            _ => Err(SetCookieError::InvalidSameSite(s.into())),
        }
    }
}

/// Why a `Set-Cookie` value was not built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetCookieError {
    /// The name is not an RFC 7230 token.
    InvalidName,
    /// The value has characters a cookie may not carry.
    InvalidValue,
    /// The path does not start with `/`, or has `;` or control characters.
    InvalidPath,
    /// Not `Strict`, `Lax` or `None` (any case).
    InvalidSameSite(String),
    /// Browsers drop `SameSite=None` cookies that are not `Secure`.
    SameSiteNoneNeedsSecure,
    /// Not a host name (letters, digits, `-` and `.`).
    InvalidDomain,
    /// A `__Secure-` cookie must be `Secure`; a `__Host-` one also
    /// `Path=/` and without `Domain` (RFC 6265bis section 4.1.3).
    PrefixRules,
}

impl fmt::Display for SetCookieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetCookieError::InvalidName => f.write_str("cookie name must be an RFC 7230 token"),
            SetCookieError::InvalidValue => {
                f.write_str("cookie value has characters not allowed in a cookie")
            }
            SetCookieError::InvalidPath => f.write_str(
                "cookie path must start with / and contain no ';' or control characters",
            ),
            SetCookieError::InvalidSameSite(value) => {
                write!(f, "SameSite must be Strict, Lax or None, not {value:?}")
            }
            SetCookieError::SameSiteNoneNeedsSecure => {
                f.write_str("SameSite=None requires Secure (browsers drop the cookie otherwise)")
            }
            SetCookieError::InvalidDomain => {
                f.write_str("cookie domain must be a host name like example.com")
            }
            SetCookieError::PrefixRules => f.write_str(
                "a __Secure- cookie must be Secure, and a __Host- cookie also Path=/ without Domain (browsers drop it otherwise)",
            ),
        }
    }
}

impl std::error::Error for SetCookieError {}

/// One `Set-Cookie` value. Always `HttpOnly`: these cookies carry credentials
/// that page scripts have no business reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetCookie<'a> {
    /// The cookie's name.
    pub name: &'a str,
    /// Its value (empty to remove it).
    pub value: &'a str,
    /// The paths browsers send it to.
    pub path: &'a str,
    /// `None`: a session cookie. `Some(0)`: delete the cookie.
    pub max_age: Option<u64>,
    /// Sent over HTTPS only.
    pub secure: bool,
    /// `None`: the browser's default (Lax in current browsers).
    pub same_site: Option<SameSite>,
    /// `Domain`: sent to subdomains too. `None`: this host only.
    pub domain: Option<&'a str>,
}

impl<'a> SetCookie<'a> {
    /// A cookie that deletes `name` at `path` (a cookie is only replaced or
    /// removed by one with the same name, domain and path).
    pub fn removal(
        name: &'a str,
        path: &'a str,
        secure: bool,
        same_site: Option<SameSite>,
    ) -> Self {
        SetCookie {
            name,
            value: "",
            path,
            max_age: Some(0),
            secure,
            same_site,
            domain: None,
        }
    }

    /// The header's value, or why one of the parts may not be sent.
    pub fn to_header_value(&self) -> Result<String, SetCookieError> {
        if !is_cookie_name(self.name) {
            return Err(SetCookieError::InvalidName);
        }
        if !self.value.bytes().all(is_cookie_octet) {
            return Err(SetCookieError::InvalidValue);
        }
        if !is_cookie_path(self.path) {
            return Err(SetCookieError::InvalidPath);
        }
        if self.same_site == Some(SameSite::None) && !self.secure {
            return Err(SetCookieError::SameSiteNoneNeedsSecure);
        }
        if self.domain.is_some_and(|domain| !is_cookie_domain(domain)) {
            return Err(SetCookieError::InvalidDomain);
        }
        let host_rules =
            !self.name.starts_with(HOST_PREFIX) || (self.path == "/" && self.domain.is_none());
        let secure_rules = !(self.name.starts_with(HOST_PREFIX)
            || self.name.starts_with(SECURE_PREFIX))
            || self.secure;
        if !(host_rules && secure_rules) {
            return Err(SetCookieError::PrefixRules);
        }
        let mut out = format!("{}={}; Path={}", self.name, self.value, self.path);
        if let Some(domain) = self.domain {
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        if let Some(max_age) = self.max_age {
            out.push_str(&format!("; Max-Age={max_age}"));
            if max_age == 0 {
                // For clients that predate Max-Age, as the plpgsql setup did.
                out.push_str("; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
            }
        }
        out.push_str("; HttpOnly");
        if self.secure {
            out.push_str("; Secure");
        }
        if let Some(same_site) = self.same_site {
            out.push_str("; SameSite=");
            out.push_str(same_site.name());
        }
        Ok(out)
    }
}

/// RFC 6265 cookie-octet: visible ASCII except `"` `,` `;` `\`.
fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(value: &str) -> SetCookie<'_> {
        SetCookie {
            name: "access_token",
            value,
            path: "/",
            max_age: None,
            secure: true,
            same_site: Some(SameSite::Lax),
            domain: None,
        }
    }

    #[test]
    fn formats_attributes() {
        assert_eq!(
            cookie("abc.def").to_header_value().unwrap(),
            "access_token=abc.def; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
        let mut plain = cookie("x");
        plain.secure = false;
        plain.same_site = None;
        plain.max_age = Some(600);
        assert_eq!(
            plain.to_header_value().unwrap(),
            "access_token=x; Path=/; Max-Age=600; HttpOnly"
        );
    }

    #[test]
    fn removal_expires_now() {
        let removal = SetCookie::removal("refresh_token", "/rpc/refresh_token", false, None);
        assert_eq!(
            removal.to_header_value().unwrap(),
            "refresh_token=; Path=/rpc/refresh_token; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly"
        );
    }

    #[test]
    fn refuses_header_injection() {
        assert_eq!(
            cookie("a;b").to_header_value(),
            Err(SetCookieError::InvalidValue)
        );
        assert_eq!(
            cookie("a\r\nX: y").to_header_value(),
            Err(SetCookieError::InvalidValue)
        );
        assert_eq!(
            cookie("a b").to_header_value(),
            Err(SetCookieError::InvalidValue)
        );
        let mut bad_path = cookie("x");
        bad_path.path = "/; Domain=evil";
        assert_eq!(bad_path.to_header_value(), Err(SetCookieError::InvalidPath));
        let mut bad_name = cookie("x");
        bad_name.name = "a=b";
        assert_eq!(bad_name.to_header_value(), Err(SetCookieError::InvalidName));
    }

    #[test]
    fn domains_and_prefixes() {
        let mut shared = cookie("x");
        shared.domain = Some("example.com");
        assert_eq!(
            shared.to_header_value().unwrap(),
            "access_token=x; Path=/; Domain=example.com; HttpOnly; Secure; SameSite=Lax"
        );
        shared.domain = Some("example.com; Secure");
        assert_eq!(shared.to_header_value(), Err(SetCookieError::InvalidDomain));

        let mut host = cookie("x");
        host.name = "__Host-access_token";
        assert!(host.to_header_value().is_ok());
        for broken in [
            SetCookie {
                domain: Some("example.com"),
                ..host.clone()
            },
            SetCookie {
                path: "/rpc",
                ..host.clone()
            },
            SetCookie {
                secure: false,
                same_site: None,
                ..host.clone()
            },
        ] {
            assert_eq!(broken.to_header_value(), Err(SetCookieError::PrefixRules));
        }
        let mut secure = cookie("x");
        secure.name = "__Secure-refresh_token";
        secure.path = "/rpc/refresh_token";
        assert!(secure.to_header_value().is_ok());
        secure.secure = false;
        secure.same_site = None;
        assert_eq!(secure.to_header_value(), Err(SetCookieError::PrefixRules));
    }

    #[test]
    fn same_site_none_needs_secure() {
        let mut c = cookie("x");
        c.same_site = Some(SameSite::None);
        c.secure = false;
        assert_eq!(
            c.to_header_value(),
            Err(SetCookieError::SameSiteNoneNeedsSecure)
        );
        assert_eq!("LAX".parse::<SameSite>(), Ok(SameSite::Lax));
        assert!("sometimes".parse::<SameSite>().is_err());
    }
}

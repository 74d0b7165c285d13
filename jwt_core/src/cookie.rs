//! Cookie names, and reading the `Cookie` request header (RFC 6265 sections
//! 4.2.1 and 5.4).

/// The access cookie: the signed JWT, `Path=/`. The name the plpgsql +
/// caddy-jwt setup used, kept for drop-in compatibility.
pub const ACCESS_COOKIE: &str = "access_token";
/// The refresh cookie: an opaque token, sent only to the refresh RPC.
pub const REFRESH_COOKIE: &str = "refresh_token";
/// Where the refresh RPC is served as browsers see it, and so the refresh
/// cookie's `Path`.
pub const DEFAULT_REFRESH_PATH: &str = "/rpc/refresh_token";
/// The auth RPCs as browsers call them: public routes at the proxies, which
/// serve them nowhere else (not under `/rest/`, not percent-encoded), never
/// with a Bearer token, and (all but logout and refresh) within a per-client
/// rate limit: sign-in, and the account RPCs (sign-up, verification, reset).
pub const AUTH_RPC_PATHS: [&str; 11] = [
    "/rpc/login",
    "/rpc/logout",
    DEFAULT_REFRESH_PATH,
    "/rpc/signup",
    "/rpc/verify_email",
    "/rpc/resend_verification",
    "/rpc/request_password_reset",
    "/rpc/reset_password",
    "/rpc/confirm_email_change",
    "/rpc/passkey_login_begin",
    "/rpc/passkey_login_finish",
];

/// Cookie name prefixes browsers enforce (RFC 6265bis section 4.1.3):
/// `__Host-` cookies are `Secure`, `Path=/` and host-only, so no sibling
/// subdomain can set or shadow them; `__Secure-` cookies are `Secure`.
pub const HOST_PREFIX: &str = "__Host-";
/// See [`HOST_PREFIX`].
pub const SECURE_PREFIX: &str = "__Secure-";

/// The two credential cookies' names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieNames {
    /// The access token's cookie, sent on every request.
    pub access: String,
    /// The refresh token's cookie, sent only to the refresh RPC's path.
    pub refresh: String,
}

impl CookieNames {
    /// `access` and `refresh`, or with `prefixed` `__Host-access` (it is
    /// `Path=/`) and `__Secure-refresh` (its path is the refresh RPC's):
    /// the one rule the extension and every host apply.
    pub fn new(access: &str, refresh: &str, prefixed: bool) -> CookieNames {
        let (access_prefix, refresh_prefix) = if prefixed {
            (HOST_PREFIX, SECURE_PREFIX)
        } else {
            ("", "")
        };
        CookieNames {
            access: format!("{access_prefix}{access}"),
            refresh: format!("{refresh_prefix}{refresh}"),
        }
    }
}

impl Default for CookieNames {
    fn default() -> Self {
        CookieNames::new(ACCESS_COOKIE, REFRESH_COOKIE, false)
    }
}

/// A valid cookie name: an RFC 7230 token (visible ASCII except separators).
pub fn is_cookie_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_token_byte)
}

/// A valid cookie `Path`: starts with `/`, printable ASCII other than `;`.
pub fn is_cookie_path(path: &str) -> bool {
    path.starts_with('/') && path.bytes().all(|b| b != b';' && (0x20..0x7f).contains(&b))
}

/// A valid cookie `Domain`: a host name (letters, digits, hyphens, dots).
pub fn is_cookie_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The `name=value` pairs of a `Cookie` header value, in order. Lenient the
/// way browsers are: pairs without `=` are skipped, white space around names
/// and values is dropped, and a value in double quotes is unquoted.
#[derive(Clone, Debug)]
pub struct Cookies<'a> {
    rest: core::str::Split<'a, char>,
}

impl<'a> Cookies<'a> {
    /// The pairs of one `Cookie` header, read as they are iterated.
    pub fn parse(header: &'a str) -> Cookies<'a> {
        Cookies {
            rest: header.split(';'),
        }
    }
}

impl<'a> Iterator for Cookies<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        for pair in self.rest.by_ref() {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let name = name.trim_matches(is_space);
            if name.is_empty() {
                continue;
            }
            let value = value.trim_matches(is_space);
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            return Some((name, value));
        }
        None
    }
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Every value of cookie `name` across the given `Cookie` header values
/// (HTTP/2 may split cookies over several headers). More than one value is
/// possible, e.g. cookies of the same name set for different paths.
pub fn cookie_values<'h, 'n, I>(
    headers: I,
    name: &'n str,
) -> impl Iterator<Item = &'h str> + use<'h, 'n, I>
where
    I: IntoIterator<Item = &'h str>,
{
    headers
        .into_iter()
        .flat_map(Cookies::parse)
        .filter(move |(cookie, _)| *cookie == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_names() {
        assert_eq!(
            CookieNames::new(ACCESS_COOKIE, REFRESH_COOKIE, true),
            CookieNames {
                access: "__Host-access_token".into(),
                refresh: "__Secure-refresh_token".into()
            }
        );
        assert_eq!(CookieNames::default().access, ACCESS_COOKIE);
    }

    #[test]
    fn cookie_names_are_tokens() {
        assert!(is_cookie_name(ACCESS_COOKIE));
        assert!(is_cookie_name("__Host-access_token"));
        for bad in [
            "",
            "a b",
            "a=b",
            "a;b",
            "a,b",
            "a\"b",
            "caf\u{e9}",
            "a\tb",
            "(a)",
        ] {
            assert!(!is_cookie_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn cookie_paths() {
        assert!(is_cookie_path("/"));
        assert!(is_cookie_path(DEFAULT_REFRESH_PATH));
        for bad in ["", "rpc", "/a;b", "/a\nb", "/caf\u{e9}"] {
            assert!(!is_cookie_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn pairs_in_order() {
        let pairs: Vec<_> = Cookies::parse("a=1; b=2;c=3").collect();
        assert_eq!(pairs, vec![("a", "1"), ("b", "2"), ("c", "3")]);
    }

    #[test]
    fn lenient_like_a_browser() {
        let pairs: Vec<_> = Cookies::parse(" ; junk; a = 1 ;=x; b=\"q\"; c=; d=x=y").collect();
        assert_eq!(pairs, vec![("a", "1"), ("b", "q"), ("c", ""), ("d", "x=y")]);
    }

    #[test]
    fn names_are_case_sensitive_and_exact() {
        let header = "Access_Token=1; access_token_x=2; xaccess_token=3; access_token=4";
        let values: Vec<_> = cookie_values([header], "access_token").collect();
        assert_eq!(values, vec!["4"]);
    }

    #[test]
    fn several_headers_and_repeated_names() {
        let values: Vec<_> =
            cookie_values(["a=1; access_token=x", "access_token=y"], "access_token").collect();
        assert_eq!(values, vec!["x", "y"]);
    }

    #[test]
    fn empty_and_odd_input() {
        assert_eq!(Cookies::parse("").count(), 0);
        assert_eq!(Cookies::parse(";;;").count(), 0);
        assert_eq!(Cookies::parse("\u{0}=\u{1}").count(), 1);
    }
}

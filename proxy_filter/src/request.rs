/// What the policy needs of a request, copied out of the host once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    /// The request target as received: path and query.
    pub path: String,
    /// `Host` (HTTP/1) or `:authority` (HTTP/2).
    pub host: Option<String>,
    /// Every `Cookie` header value (HTTP/2 may send several).
    pub cookies: Vec<String>,
    /// A `Cookie` header was not UTF-8 (PostgREST answers such a request
    /// 500 "Something went wrong": it is refused before).
    pub cookie_not_utf8: bool,
    pub authorization: Option<String>,
    pub origin: Option<String>,
    pub sec_fetch_site: Option<String>,
    /// `Access-Control-Request-Method`: present on CORS preflights.
    pub access_control_request_method: Option<String>,
    /// The client's address as the host knows its peer (no port), when the
    /// host can tell: forged tokens are counted per client.
    pub client: Option<String>,
    /// Lower-case names of headers present that the policy owns (forwarded
    /// claims): client copies to remove. Only headers present are removed,
    /// since each header change costs the host a route re-match.
    pub owned_headers: Vec<String>,
}

/// The client address a host gives with its port (`203.0.113.9:5432`,
/// `[2001:db8::1]:443`), without it; None when it is not UTF-8.
#[cfg_attr(
    not(any(feature = "proxy-wasm", feature = "http-wasm")),
    allow(dead_code)
)]
pub(crate) fn client_address(with_port: &[u8]) -> Option<String> {
    let address = std::str::from_utf8(with_port).ok()?;
    let host = match address.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(bracketed),
        None => address.rsplit_once(':').map_or(address, |(host, _)| host),
    };
    Some(host.to_owned())
}

impl RequestHead {
    /// Fills the fields from header (name, value) pairs, names compared
    /// case-insensitively. Only the headers the policy reads are copied, and
    /// the names of those `owned` says it owns (it is given the name as
    /// sent, and compares without case); a value that is not UTF-8 is
    /// read lossily (and then fails as a token). The pseudo-headers `:method`
    /// and `:path`, when present, set those.
    pub(crate) fn from_headers<'a, I, V>(headers: I, owned: impl Fn(&str) -> bool) -> RequestHead
    where
        I: IntoIterator<Item = (&'a str, V)>,
        V: AsRef<[u8]>,
    {
        let mut head = RequestHead::default();
        for (name, value) in headers {
            let value = value.as_ref();
            match name {
                ":method" => head.method = text(value),
                ":path" => head.path = text(value),
                ":authority" => head.host = Some(text(value)),
                _ if name.eq_ignore_ascii_case("cookie") => {
                    let (cookie, utf8) = checked_text(value);
                    head.cookie_not_utf8 |= !utf8;
                    head.cookies.push(cookie);
                }
                _ if name.eq_ignore_ascii_case("host") => head.host = Some(text(value)),
                _ if name.eq_ignore_ascii_case("authorization") => {
                    head.authorization = Some(text(value));
                }
                _ if name.eq_ignore_ascii_case("origin") => head.origin = Some(text(value)),
                _ if name.eq_ignore_ascii_case("sec-fetch-site") => {
                    head.sec_fetch_site = Some(text(value));
                }
                _ if name.eq_ignore_ascii_case("access-control-request-method") => {
                    head.access_control_request_method = Some(text(value));
                }
                // Lower-cased only when owned: a copy of every other name
                // was an allocation per header per request.
                _ if owned(name) => {
                    let lower = name.to_ascii_lowercase();
                    if !head.owned_headers.contains(&lower) {
                        head.owned_headers.push(lower);
                    }
                }
                _ => {}
            }
        }
        head
    }

    /// The path without its query string. Only `?` ends a path: a `#` in a
    /// request target is no fragment (clients never send one), so it stays
    /// part of the path and matches no public route.
    pub fn path_only(&self) -> &str {
        self.path
            .split_once('?')
            .map_or(self.path.as_str(), |(path, _)| path)
    }
}

fn text(bytes: &[u8]) -> String {
    checked_text(bytes).0
}

/// The text of a header value, and whether it was UTF-8 (a value that is
/// not is read lossily). Valid text is checked once, on the fast path:
/// the lossy reader took a sixth of the policy's time on long cookies.
fn checked_text(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), true),
        Err(_) => (String::from_utf8_lossy(bytes).into_owned(), false),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn client_addresses_lose_their_port() {
        for (given, address) in [
            ("203.0.113.9:5432", "203.0.113.9"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[fe80::1%eth0]:41236", "fe80::1%eth0"),
            ("203.0.113.9", "203.0.113.9"),
        ] {
            assert_eq!(client_address(given.as_bytes()).as_deref(), Some(address));
        }
        assert_eq!(client_address(b"\xff:1"), None);
    }

    use super::*;

    #[test]
    fn collects_the_headers_it_needs() {
        let head = RequestHead::from_headers(
            [
                (":method", "POST"),
                (":path", "/rpc/x?y=1"),
                ("Host", "api.example"),
                ("Cookie", "a=1"),
                ("cookie", "b=2"),
                ("Origin", "https://api.example"),
                ("X-User", "forged"),
                ("X-Other", "z"),
            ],
            |name| name.eq_ignore_ascii_case("x-user"),
        );
        assert_eq!(head.method, "POST");
        assert_eq!(head.host.as_deref(), Some("api.example"));
        assert_eq!(head.cookies, vec!["a=1", "b=2"]);
        assert_eq!(head.path_only(), "/rpc/x");
        assert_eq!(head.origin.as_deref(), Some("https://api.example"));
        assert_eq!(head.owned_headers, vec!["x-user"]);
    }

    #[test]
    fn only_a_question_mark_ends_the_path() {
        let head = RequestHead {
            path: "/rpc/login#/../rest/task?x".into(),
            ..RequestHead::default()
        };
        assert_eq!(head.path_only(), "/rpc/login#/../rest/task");
    }

    #[test]
    fn non_utf8_values_are_read_lossily() {
        let head = RequestHead::from_headers([("cookie", &b"access_token=\xff"[..])], |_| false);
        assert_eq!(head.cookies, vec!["access_token=\u{fffd}"]);
        assert!(head.cookie_not_utf8);
        let utf8 = RequestHead::from_headers([("cookie", "name=caf\u{e9}")], |_| false);
        assert!(!utf8.cookie_not_utf8);
    }
}

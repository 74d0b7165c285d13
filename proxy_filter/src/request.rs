/// What the filter needs of a request, copied out of the host once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    /// The request target as received: path and query.
    pub path: String,
    /// `Host` (HTTP/1) or `:authority` (HTTP/2).
    pub host: Option<String>,
    /// Every `Cookie` header value (HTTP/2 may send several).
    pub cookies: Vec<String>,
    pub authorization: Option<String>,
    pub origin: Option<String>,
    pub sec_fetch_site: Option<String>,
}

impl RequestHead {
    /// Fills the fields from header (name, value) pairs, names compared
    /// case-insensitively. Only the headers the policy reads are copied; a
    /// value that is not UTF-8 is read lossily (and then fails as a token).
    /// The pseudo-headers `:method` and `:path`, when present, set those.
    pub fn from_headers<'a, I, V>(headers: I) -> RequestHead
    where
        I: IntoIterator<Item = (&'a str, V)>,
        V: AsRef<[u8]>,
    {
        let mut head = RequestHead::default();
        for (name, value) in headers {
            let slot = match name {
                ":method" => &mut head.method,
                ":path" => &mut head.path,
                _ => {
                    let field = match () {
                        _ if name.eq_ignore_ascii_case("cookie") => {
                            head.cookies.push(text(value.as_ref()));
                            continue;
                        }
                        _ if name.eq_ignore_ascii_case("host") || name == ":authority" => {
                            &mut head.host
                        }
                        _ if name.eq_ignore_ascii_case("authorization") => &mut head.authorization,
                        _ if name.eq_ignore_ascii_case("origin") => &mut head.origin,
                        _ if name.eq_ignore_ascii_case("sec-fetch-site") => {
                            &mut head.sec_fetch_site
                        }
                        _ => continue,
                    };
                    *field = Some(text(value.as_ref()));
                    continue;
                }
            };
            *slot = text(value.as_ref());
        }
        head
    }

    /// The path without its query string.
    pub fn path_only(&self) -> &str {
        self.path
            .split_once(['?', '#'])
            .map_or(self.path.as_str(), |(path, _)| path)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_the_headers_it_needs() {
        let head = RequestHead::from_headers([
            (":method", "POST"),
            (":path", "/rpc/x?y=1"),
            ("Host", "api.example"),
            ("Cookie", "a=1"),
            ("cookie", "b=2"),
            ("Origin", "https://api.example"),
            ("X-Other", "z"),
        ]);
        assert_eq!(head.method, "POST");
        assert_eq!(head.host.as_deref(), Some("api.example"));
        assert_eq!(head.cookies, vec!["a=1", "b=2"]);
        assert_eq!(head.path_only(), "/rpc/x");
        assert_eq!(head.origin.as_deref(), Some("https://api.example"));
    }

    #[test]
    fn non_utf8_values_are_read_lossily() {
        let head = RequestHead::from_headers([("cookie", &b"access_token=\xff"[..])]);
        assert_eq!(head.cookies, vec!["access_token=\u{fffd}"]);
    }
}

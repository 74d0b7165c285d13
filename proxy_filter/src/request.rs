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
    /// Fills the fields from header (name, value) pairs; names compare
    /// case-insensitively.
    pub fn from_headers<'a, I>(method: &str, path: &str, headers: I) -> RequestHead
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut head = RequestHead {
            method: method.to_owned(),
            path: path.to_owned(),
            ..RequestHead::default()
        };
        for (name, value) in headers {
            let value = value.to_owned();
            match name.to_ascii_lowercase().as_str() {
                "host" | ":authority" => head.host = Some(value),
                "cookie" => head.cookies.push(value),
                "authorization" => head.authorization = Some(value),
                "origin" => head.origin = Some(value),
                "sec-fetch-site" => head.sec_fetch_site = Some(value),
                _ => {}
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_the_headers_it_needs() {
        let head = RequestHead::from_headers(
            "POST",
            "/rpc/x?y=1",
            [
                ("Host", "api.example"),
                ("Cookie", "a=1"),
                ("cookie", "b=2"),
                ("Origin", "https://api.example"),
                ("X-Other", "z"),
            ],
        );
        assert_eq!(head.host.as_deref(), Some("api.example"));
        assert_eq!(head.cookies, vec!["a=1", "b=2"]);
        assert_eq!(head.path_only(), "/rpc/x");
        assert_eq!(head.origin.as_deref(), Some("https://api.example"));
    }
}

//! The original request, as a proxy describes it in its auth subrequest:
//! Caddy's `forward_auth` and Traefik's ForwardAuth send `X-Forwarded-Method`,
//! `X-Forwarded-Uri` and `X-Forwarded-Host`; nginx's `auth_request` sends
//! what its configuration sets, by convention `X-Original-Method`,
//! `X-Original-URI` and `X-Original-Host`. Every proxy passes the original
//! request's other headers (Cookie, Origin, Sec-Fetch-Site, Authorization) on.

use crate::{Policy, RequestHead};

/// How the proxy described the request, which is also how it wants the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// `X-Forwarded-*`: the proxy returns a denial to the client as it is.
    Forwarded,
    /// `X-Original-*` (nginx `auth_request`): the proxy only tells 401 and 403
    /// apart, so the denial's status and body travel in headers.
    Original,
}

/// Why the subrequest does not describe one original request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NotForwarded {
    /// No description: the proxy is not configured for the gate, and
    /// guessing could pass a request.
    Missing,
    /// Both styles: a proxy sets one and passes the client's other headers
    /// on, so one of them was written by the client, who would choose what
    /// the gate decides on.
    Both,
}

/// Reads the original request from the subrequest's headers.
pub(crate) fn read(
    policy: &Policy,
    headers: &[(&str, &[u8])],
) -> Result<(RequestHead, Style), NotForwarded> {
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    };
    let forwarded = ["x-forwarded-method", "x-forwarded-uri", "x-forwarded-host"].map(find);
    let original = ["x-original-method", "x-original-uri", "x-original-host"].map(find);
    let any = |set: &[Option<&[u8]>; 3]| set.iter().any(Option::is_some);
    let (style, [method, uri, host]) = match (any(&forwarded), any(&original)) {
        (true, true) => return Err(NotForwarded::Both),
        (true, false) => (Style::Forwarded, forwarded),
        (false, true) => (Style::Original, original),
        (false, false) => return Err(NotForwarded::Missing),
    };
    let (Some(method), Some(uri)) = (method, uri) else {
        return Err(NotForwarded::Missing);
    };
    // The subrequest's own Host names the gate: only the original one counts.
    let own = headers.iter().copied().filter(|(name, _)| {
        !name.eq_ignore_ascii_case("host")
            && !name.eq_ignore_ascii_case("x-forwarded-host")
            && !name.eq_ignore_ascii_case("x-original-host")
    });
    let pseudo = [(":method", method), (":path", uri)]
        .into_iter()
        .chain(host.map(|host| (":authority", host)));
    let mut head = policy.read_request(own.chain(pseudo));
    // The front writes its peer's address last (Caddy and Traefik replace a
    // client's X-Forwarded-For, the shipped nginx sets it).
    head.client = find("x-forwarded-for")
        .and_then(|value| std::str::from_utf8(value).ok())
        .and_then(|value| value.rsplit(',').next())
        .map(|client| client.trim().to_owned())
        .filter(|client| !client.is_empty());
    Ok((head, style))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vars;

    fn policy() -> Policy {
        Policy::from_json(
            br#"{"secret":"q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE=","secret_is_base64":true,"forward_claims":{"sub":"x-user"}}"#,
            &Vars(|_| None),
        )
        .unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static [u8])> {
        pairs.iter().map(|(n, v)| (*n, v.as_bytes())).collect()
    }

    #[test]
    fn caddy_and_traefik_describe_the_request_in_x_forwarded() {
        let sent = headers(&[
            ("host", "gate:9000"),
            ("x-forwarded-method", "POST"),
            ("x-forwarded-uri", "/rpc/login?x=1"),
            ("x-forwarded-host", "api.example"),
            ("cookie", "a=1"),
            ("origin", "https://api.example"),
            ("x-user", "forged"),
        ]);
        let (head, style) = read(&policy(), &sent).unwrap();
        assert_eq!(style, Style::Forwarded);
        assert_eq!(head.method, "POST");
        assert_eq!(head.path_only(), "/rpc/login");
        assert_eq!(head.host.as_deref(), Some("api.example"));
        assert_eq!(head.cookies, vec!["a=1"]);
        assert_eq!(head.owned_headers, vec!["x-user"]);
        assert_eq!(head.client, None);
        let mut with_client = sent.clone();
        with_client.push(("x-forwarded-for", b"203.0.113.9, 198.51.100.7"));
        let (head, _) = read(&policy(), &with_client).unwrap();
        assert_eq!(
            head.client.as_deref(),
            Some("198.51.100.7"),
            "the front's entry"
        );
    }

    #[test]
    fn nginx_describes_it_in_x_original() {
        let sent = headers(&[
            ("host", "gate"),
            ("x-original-method", "GET"),
            ("x-original-uri", "/rest/task"),
            ("x-original-host", "api.example"),
        ]);
        let (head, style) = read(&policy(), &sent).unwrap();
        assert_eq!(style, Style::Original);
        assert_eq!(head.path, "/rest/task");
        assert_eq!(head.host.as_deref(), Some("api.example"));
    }

    #[test]
    fn without_a_description_nothing_is_guessed() {
        for sent in [
            headers(&[("host", "gate")]),
            headers(&[("x-forwarded-uri", "/rest/task")]),
            headers(&[("x-original-method", "GET")]),
        ] {
            assert_eq!(read(&policy(), &sent).err(), Some(NotForwarded::Missing));
        }
    }

    #[test]
    fn a_client_cannot_add_the_other_style() {
        // nginx sets X-Original-*, and passes a client's X-Forwarded-* on;
        // Caddy and Traefik the other way round.
        for client in [
            ("x-forwarded-method", "GET"),
            ("x-forwarded-uri", "/"),
            ("x-forwarded-host", "elsewhere"),
        ] {
            let sent = headers(&[
                ("x-original-method", "GET"),
                ("x-original-uri", "/rpc/ended_sessions"),
                ("x-original-host", "api.example"),
                client,
            ]);
            assert_eq!(read(&policy(), &sent).err(), Some(NotForwarded::Both));
        }
        let sent = headers(&[
            ("x-forwarded-method", "GET"),
            ("x-forwarded-uri", "/rest/task"),
            ("x-original-uri", "/"),
        ]);
        assert_eq!(read(&policy(), &sent).err(), Some(NotForwarded::Both));
    }
}

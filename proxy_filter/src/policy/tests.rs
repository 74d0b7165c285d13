use jwt_core::{sign, Algorithm, Key, Problem};

use super::*;
use crate::decision::Denial;
use crate::Vars;

const SECRET: &str = "q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE=";
const NOW: i64 = 1_800_000_000;

fn policy(extra: &str) -> Policy {
    let json = format!(r#"{{"secret":"{SECRET}","secret_is_base64":true{extra}}}"#);
    Policy::from_json(json.as_bytes(), &Vars(|_| None)).unwrap()
}

/// Minted with the real key: these fail (or pass) for the stated reason.
fn token(claims: &str) -> String {
    sign(
        Algorithm::HS256,
        &Key::from_secret(SECRET, true).unwrap(),
        claims,
    )
}

fn valid() -> String {
    token(&format!(
        r#"{{"role":"basic_subscriber","sub":"demo","exp":{}}}"#,
        NOW + 60
    ))
}

fn request(method: &str, path: &str, cookies: &[&str], authorization: Option<&str>) -> RequestHead {
    RequestHead {
        method: method.into(),
        path: path.into(),
        host: Some("127.0.0.1:8000".into()),
        cookies: cookies.iter().map(|c| (*c).to_owned()).collect(),
        authorization: authorization.map(Into::into),
        ..RequestHead::default()
    }
}

fn cookie(token: &str) -> String {
    format!("access_token={token}")
}

/// `method` `path` with `token` as the access cookie.
fn with_cookie(method: &str, path: &str, token: &str) -> RequestHead {
    request(method, path, &[&cookie(token)], None)
}

/// A read of a private route with `token` as the access cookie.
fn read(token: &str) -> RequestHead {
    with_cookie("GET", "/rest/task", token)
}

fn forwarded(decision: Decision) -> Forward {
    match decision {
        Decision::Forward(forward) => forward,
        Decision::Deny(denial) => panic!("denied: {denial:?}"),
    }
}

fn denied(decision: Decision) -> Denial {
    match decision {
        Decision::Deny(denial) => denial,
        Decision::Forward(forward) => panic!("forwarded: {forward:?}"),
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn private_route_with_a_valid_cookie_gets_bearer() {
    let token = valid();
    let forward = forwarded(policy("").decide(&read(&token), Some(NOW)));
    assert_eq!(forward.outcome, Outcome::Allowed);
    assert_eq!(
        header(&forward.set_headers, "authorization"),
        Some(format!("Bearer {token}").as_str())
    );
}

#[test]
fn a_client_sent_authorization_header_is_replaced() {
    let token = valid();
    let forward = forwarded(policy("").decide(
        &request(
            "GET",
            "/rest/task",
            &[&format!("a=b; access_token={token}")],
            Some("Bearer forged"),
        ),
        Some(NOW),
    ));
    assert_eq!(
        header(&forward.set_headers, "authorization"),
        Some(format!("Bearer {token}").as_str())
    );
}

#[test]
fn a_client_sent_authorization_header_alone_is_not_a_credential_by_default() {
    let denial = denied(policy("").decide(
        &request(
            "GET",
            "/rest/task",
            &[],
            Some(&format!("Bearer {}", valid())),
        ),
        Some(NOW),
    ));
    assert_eq!(denial.status, 401);
    assert_eq!(denial.outcome, Outcome::Denied("missing"));
}

#[test]
fn the_authorization_header_can_be_allowed() {
    let policy = policy(r#","allow_authorization_header":true"#);
    let forward = forwarded(policy.decide(
        &request(
            "GET",
            "/rest/task",
            &[],
            Some(&format!("bearer {}", valid())),
        ),
        Some(NOW),
    ));
    assert_eq!(forward.outcome, Outcome::Allowed);
    let empty = denied(policy.decide(
        &request("GET", "/rest/task", &[], Some("Bearer ")),
        Some(NOW),
    ));
    assert_eq!(empty.outcome, Outcome::Denied("missing"));
}

#[test]
fn missing_token_is_401_without_error_attribute() {
    let denial = denied(policy("").decide(&request("GET", "/rest/task", &[], None), Some(NOW)));
    assert_eq!(denial.status, 401);
    assert_eq!(header(&denial.headers, "www-authenticate"), Some("Bearer"));
    let body: serde_json::Value = serde_json::from_str(&denial.body).unwrap();
    assert_eq!(body["code"], "PGRST302");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("no access_token cookie"));
    assert!(body.get("details").is_some() && body.get("hint").is_some());
}

#[test]
fn an_empty_cookie_is_a_missing_token() {
    let denial = denied(policy("").decide(
        &request("GET", "/rest/task", &["access_token="], None),
        Some(NOW),
    ));
    assert_eq!(denial.outcome, Outcome::Denied("missing"));
}

#[test]
fn expired_token_is_401_invalid_token_and_never_echoes_the_token() {
    let expired = token(&format!(r#"{{"sub":"demo","exp":{}}}"#, NOW - 1));
    let denial = denied(policy("").decide(&read(&expired), Some(NOW)));
    assert_eq!(denial.status, 401);
    assert_eq!(denial.outcome, Outcome::Denied("expired"));
    assert_eq!(
        header(&denial.headers, "www-authenticate"),
        Some("Bearer error=\"invalid_token\", error_description=\"JWT expired\"")
    );
    let body: serde_json::Value = serde_json::from_str(&denial.body).unwrap();
    assert_eq!(body["message"], "JWT expired");
    assert_eq!(body["details"], "expired");
    let everything = format!("{denial:?}");
    assert!(!everything.contains(&expired[..20]));
}

/// A second credential cookie (planted from a sibling subdomain, say) is
/// refused on every route: PostgREST keeps the last one, so a tossed
/// refresh cookie would sign the victim into the attacker's account.
#[test]
fn ambiguous_credential_cookies_are_refused_on_every_route() {
    let access = format!("access_token={}", valid());
    for (path, cookies) in [
        ("/rest/task", vec![access.clone(), access.clone()]),
        ("/rpc/logout", vec![format!("{access}; access_token=x")]),
        (
            "/rpc/refresh_token",
            vec!["refresh_token=a; refresh_token=b".to_owned()],
        ),
        (
            "/rpc/login",
            vec!["refresh_token=a".to_owned(), "refresh_token=b".to_owned()],
        ),
    ] {
        let cookies: Vec<&str> = cookies.iter().map(String::as_str).collect();
        let denial = denied(policy("").decide(&request("POST", path, &cookies, None), Some(NOW)));
        assert_eq!(denial.status, 400, "{path}");
        assert_eq!(denial.outcome, Outcome::Refused(Problem::AmbiguousCookie));
        let body: serde_json::Value = serde_json::from_str(&denial.body).unwrap();
        assert_eq!(body["details"], "ambiguous_cookie");
        assert_eq!(body["code"], "PF400");
    }
}

/// A client's own Authorization used to reach PostgREST on public routes,
/// which accepted one expired 20 s ago (its 30 s skew) or without exp.
#[test]
fn a_client_authorization_header_never_reaches_public_routes() {
    let expired = token(&format!(r#"{{"role":"x","exp":{}}}"#, NOW - 20));
    for path in ["/rpc/login", "/rpc/refresh_token", "/rest/"] {
        let forward = forwarded(policy("").decide(
            &request("POST", path, &[], Some(&format!("Bearer {expired}"))),
            Some(NOW),
        ));
        assert_eq!(forward.remove_headers, vec!["authorization"], "{path}");
        assert!(header(&forward.set_headers, "authorization").is_none());
    }
    // Without one, nothing is removed (each change costs the host a re-match).
    let plain = forwarded(policy("").decide(&request("POST", "/rpc/login", &[], None), Some(NOW)));
    assert!(plain.remove_headers.is_empty());
}

#[test]
fn no_clock_no_decision() {
    let token = valid();
    let denial = denied(policy("").decide(&read(&token), None));
    assert_eq!(denial.status, 500);
    assert_eq!(denial.outcome, Outcome::Failure);
    assert_eq!(unix_seconds(None), None);
    assert_eq!(unix_seconds(Some(std::time::UNIX_EPOCH)), None);
}

#[test]
fn a_hash_is_part_of_the_path() {
    for path in ["/rpc/login#x", "/rest/#/../task"] {
        let denial = denied(policy("").decide(&request("GET", path, &[], None), Some(NOW)));
        assert_eq!(denial.status, 401, "{path}");
    }
}

#[test]
fn public_routes_pass_and_forward_only_valid_cookies() {
    let policy = policy("");
    let plain = forwarded(policy.decide(&request("POST", "/rpc/login", &[], None), Some(NOW)));
    assert_eq!(plain.outcome, Outcome::Public);
    assert!(plain.set_headers.is_empty());

    let token = valid();
    let with_token = forwarded(policy.decide(&with_cookie("GET", "/rest/", &token), Some(NOW)));
    assert_eq!(with_token.outcome, Outcome::PublicWithToken);
    assert_eq!(
        header(&with_token.set_headers, "authorization"),
        Some(format!("Bearer {token}").as_str())
    );

    let expired = token_expired();
    let refresh = forwarded(policy.decide(
        &with_cookie("POST", "/rpc/refresh_token?x=1", &expired),
        Some(NOW),
    ));
    assert_eq!(refresh.outcome, Outcome::Public);
    assert!(
        header(&refresh.set_headers, "authorization").is_none(),
        "no Bearer for an expired cookie"
    );

    let openapi = forwarded(policy.decide(&request("GET", "/rest/", &[], None), Some(NOW)));
    assert_eq!(openapi.outcome, Outcome::Public);
}

fn token_expired() -> String {
    token(&format!(r#"{{"sub":"demo","exp":{}}}"#, NOW - 1))
}

#[test]
fn other_rpc_and_rest_paths_are_private() {
    let policy = policy("");
    for path in [
        "/rpc/other",
        "/rest/task",
        "/rest",
        "/rpc/login/x",
        "/rpc/login/../other",
        "/",
    ] {
        let denial = denied(policy.decide(&request("GET", path, &[], None), Some(NOW)));
        assert_eq!(denial.status, 401, "{path}");
    }
}

#[test]
fn claims_are_forwarded_and_client_copies_removed() {
    let policy =
        policy(r#","forward_claims":{"sub":"X-User","exp":"x-exp","missing":"x-missing"}"#);
    let cookie = format!("access_token={}", valid());
    let read = |path: &str, cookie: &str| {
        policy.read_request([
            (":method", "GET"),
            (":path", path),
            ("cookie", cookie),
            ("X-User", "admin"),
        ])
    };
    let forward = forwarded(policy.decide(&read("/rest/task", &cookie), Some(NOW)));
    assert_eq!(header(&forward.set_headers, "x-user"), Some("demo"));
    assert_eq!(
        header(&forward.set_headers, "x-exp"),
        Some((NOW + 60).to_string().as_str())
    );
    assert_eq!(header(&forward.set_headers, "x-missing"), None);
    assert_eq!(forward.remove_headers, vec!["x-user"]);
    let public = forwarded(policy.decide(&read("/rpc/login", ""), Some(NOW)));
    assert_eq!(
        public.remove_headers,
        vec!["x-user"],
        "spoofed headers go on public routes too"
    );
}

#[test]
fn cross_site_unsafe_requests_are_403_even_on_public_routes() {
    let mut login = request("POST", "/rpc/login", &[], None);
    login.sec_fetch_site = Some("cross-site".into());
    let denial = denied(policy("").decide(&login, Some(NOW)));
    assert_eq!(denial.status, 403);
    assert_eq!(denial.outcome, Outcome::Refused(Problem::Csrf));
    login.sec_fetch_site = Some("same-origin".into());
    assert!(matches!(
        policy("").decide(&login, Some(NOW)),
        Decision::Forward(_)
    ));
}

#[test]
fn issuer_and_audience_are_enforced() {
    let policy = policy(r#","issuer":"auth","audience":"api""#);
    let good = token(&format!(
        r#"{{"iss":"auth","aud":"api","exp":{}}}"#,
        NOW + 60
    ));
    let wrong_aud = token(&format!(
        r#"{{"iss":"auth","aud":"web","exp":{}}}"#,
        NOW + 60
    ));
    assert!(matches!(
        policy.decide(&with_cookie("GET", "/rest/t", &good), Some(NOW)),
        Decision::Forward(_)
    ));
    let denial = denied(policy.decide(&with_cookie("GET", "/rest/t", &wrong_aud), Some(NOW)));
    assert_eq!(denial.outcome, Outcome::Denied("wrong_audience"));
}

#[test]
fn leeway_is_applied() {
    let policy = policy(r#","leeway_seconds":30"#);
    let just_expired = token(&format!(r#"{{"exp":{}}}"#, NOW - 29));
    assert!(matches!(
        policy.decide(&with_cookie("GET", "/rest/t", &just_expired), Some(NOW)),
        Decision::Forward(_)
    ));
}

#[test]
fn oversized_cookies_are_refused_as_too_large() {
    let big = token(&format!(
        r#"{{"exp":{},"pad":"{}"}}"#,
        NOW + 60,
        "x".repeat(5000)
    ));
    let denial = denied(policy("").decide(&with_cookie("GET", "/rest/t", &big), Some(NOW)));
    assert_eq!(denial.outcome, Outcome::Denied("too_large"));
}

#[test]
fn verify_cookie_gives_claims_or_the_reason() {
    let policy = policy("");
    let token = valid();
    let claims = policy
        .verify_cookie(&format!("theme=dark; access_token={token}"), Some(NOW))
        .unwrap();
    assert_eq!(claims.get_str("sub"), Some("demo"));
    let expired = token_expired();
    for (header, reason) in [
        ("theme=dark".to_owned(), "missing"),
        ("access_token=".to_owned(), "missing"),
        (format!("access_token={expired}"), "expired"),
        (
            format!("access_token={token}; access_token={token}"),
            "ambiguous_cookie",
        ),
    ] {
        assert_eq!(policy.verify_cookie(&header, Some(NOW)).err(), Some(reason));
    }
    assert_eq!(
        policy
            .verify_cookie(&format!("access_token={token}"), None)
            .err(),
        Some("filter_failure")
    );
}

/// An app on another origin: its preflights pass (they carry no cookie),
/// and the filter's own denials carry the CORS headers it needs to read them.
#[test]
fn cors_for_allowed_origins_only() {
    let policy = policy(r#","allowed_origins":["http://localhost:5173"]"#);
    let preflight = |origin: &str| RequestHead {
        method: "OPTIONS".into(),
        path: "/rest/task".into(),
        origin: Some(origin.into()),
        access_control_request_method: Some("GET".into()),
        ..RequestHead::default()
    };
    let passed = forwarded(policy.decide(&preflight("http://localhost:5173"), Some(NOW)));
    assert_eq!(passed.outcome, Outcome::Preflight);
    assert!(passed.set_headers.is_empty() && passed.remove_headers.is_empty());
    let refused = denied(policy.decide(&preflight("https://evil.example"), Some(NOW)));
    assert_eq!(refused.status, 403);
    assert!(header(&refused.headers, "access-control-allow-origin").is_none());

    let mut read = request("GET", "/rest/task", &[], None);
    read.origin = Some("http://localhost:5173".into());
    let missing = denied(policy.decide(&read, Some(NOW)));
    assert_eq!(missing.status, 401);
    assert_eq!(
        header(&missing.headers, "access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(
        header(&missing.headers, "access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(header(&missing.headers, "vary"), Some("Origin"));
    read.origin = Some("https://evil.example".into());
    let other = denied(policy.decide(&read, Some(NOW)));
    assert!(header(&other.headers, "access-control-allow-origin").is_none());

    // The same list lets the app's unsafe requests through the CSRF check.
    let mut write = request(
        "POST",
        "/rest/task",
        &[&format!("access_token={}", valid())],
        None,
    );
    write.origin = Some("http://localhost:5173".into());
    write.sec_fetch_site = Some("cross-site".into());
    assert!(matches!(
        policy.decide(&write, Some(NOW)),
        Decision::Forward(_)
    ));
    write.origin = Some("https://evil.example".into());
    assert_eq!(denied(policy.decide(&write, Some(NOW))).status, 403);
}

#[test]
fn prefixed_cookie_names_follow_one_switch() {
    let policy = policy(r#","cookie_prefixes":true"#);
    let token = valid();
    let plain = denied(policy.decide(&read(&token), Some(NOW)));
    assert_eq!(plain.status, 401);
    let prefixed = request(
        "GET",
        "/rest/task",
        &[&format!("__Host-access_token={token}")],
        None,
    );
    assert!(matches!(
        policy.decide(&prefixed, Some(NOW)),
        Decision::Forward(_)
    ));
    let tossed = request(
        "POST",
        "/rpc/refresh_token",
        &["__Secure-refresh_token=a; __Secure-refresh_token=b"],
        None,
    );
    assert_eq!(denied(policy.decide(&tossed, Some(NOW))).status, 400);
}

#[test]
fn metric_names() {
    let policy = policy(r#","stat_prefix":"api_auth""#);
    assert_eq!(
        policy.metric_name(Outcome::Denied("expired")),
        "api_auth.decision.denied.expired"
    );
    assert_eq!(
        policy.metric_name(Outcome::Refused(Problem::Csrf)),
        "api_auth.decision.refused.csrf"
    );
    let all = Outcome::all();
    assert_eq!(all.len(), 4 + 2 + jwt_core::VerifyError::ALL.len() + 8 + 1);
    assert!(all.contains(&Outcome::Refused(Problem::ForgedHeader)));
    assert!(all.contains(&Outcome::Denied("unknown_key")));
    let names: std::collections::BTreeSet<String> = all.iter().map(Outcome::metric).collect();
    assert_eq!(names.len(), all.len(), "distinct names");
}

#[test]
fn a_cookie_header_that_is_not_utf8_is_refused_on_every_route() {
    // PostgREST answers such a request 500: it never gets there.
    let policy = policy("");
    for path in ["/rest/task", "/rpc/login", "/"] {
        let request = policy.read_request([
            (":method", &b"GET"[..]),
            (":path", path.as_bytes()),
            ("cookie", &b"access_token=\xc3\xa9\xff"[..]),
        ]);
        let denial = denied(policy.decide(&request, Some(NOW)));
        assert_eq!(
            (denial.status, denial.outcome.metric()),
            (400, "decision.refused.malformed_cookie".to_owned())
        );
    }
}

/// A preflight-shaped request (any client can send one) is cleaned like
/// every other: a client's Authorization and claim headers never pass, and
/// ambiguous cookies and the feed path are refused first (redteam R3-08).
#[test]
fn preflights_get_the_same_header_hygiene() {
    let policy =
        policy(r#","allowed_origins":["http://localhost:5173"],"forward_claims":{"sub":"x-user"}"#);
    let preflight = |cookies: &[&str]| {
        let mut head = policy.read_request([
            (":method", "OPTIONS"),
            (":path", "/rest/task"),
            ("origin", "http://localhost:5173"),
            ("access-control-request-method", "GET"),
            ("authorization", "Bearer forged.token.value"),
            ("x-user", "admin"),
        ]);
        head.cookies = cookies.iter().map(|c| (*c).to_owned()).collect();
        head
    };
    let passed = forwarded(policy.decide(&preflight(&[]), Some(NOW)));
    assert_eq!(passed.outcome, Outcome::Preflight);
    assert!(passed.set_headers.is_empty());
    let mut removed = passed.remove_headers.clone();
    removed.sort();
    assert_eq!(removed, vec!["authorization", "x-user"]);
    let ambiguous =
        denied(policy.decide(&preflight(&["access_token=a; access_token=b"]), Some(NOW)));
    assert_eq!(
        ambiguous.outcome,
        Outcome::Refused(Problem::AmbiguousCookie)
    );
}

/// The auth RPCs answer only at their own paths, where every front caps
/// and rate-limits them (redteam R3-12).
#[test]
fn auth_rpcs_elsewhere_are_not_found() {
    let policy = policy("");
    let cookie = format!("access_token={}", valid());
    for path in [
        "/rest/rpc/login",
        "/rest/rpc/refresh_token",
        "/rest/rpc/logout",
        "/rpc/%6Cogin",
    ] {
        let refused = denied(policy.decide(&request("POST", path, &[&cookie], None), Some(NOW)));
        assert_eq!(
            refused.outcome,
            Outcome::Refused(Problem::NotFound),
            "{path}"
        );
        assert_eq!(refused.status, 404);
    }
    let login = forwarded(policy.decide(&request("POST", "/rpc/login", &[], None), Some(NOW)));
    assert_eq!(login.outcome, Outcome::Public);
}

/// The gate cannot remove a client's claim header: it refuses the request
/// rather than let the header reach the upstream (redteam R3-02).
#[test]
fn a_host_that_cannot_remove_headers_refuses_forged_claims() {
    let policy = policy(r#","forward_claims":{"sub":"x-user"}"#);
    let cookie = format!("access_token={}", valid());
    let head = |extra: Option<(&'static str, &'static str)>| {
        policy.read_request(
            [
                (":method", "GET"),
                (":path", "/rest/task"),
                ("cookie", cookie.as_str()),
            ]
            .into_iter()
            .chain(extra),
        )
    };
    let clean = forwarded(policy.decide_without_removal(&head(None), Some(NOW)));
    assert_eq!(header(&clean.set_headers, "x-user"), Some("demo"));
    let forged = denied(policy.decide_without_removal(&head(Some(("X-User", "admin"))), Some(NOW)));
    assert_eq!(forged.outcome, Outcome::Refused(Problem::ForgedHeader));
    assert_eq!(forged.status, 400);
    assert!(forged.body.contains("x-user"));
}

/// The auth RPCs read the cookies themselves: a valid access cookie is not
/// passed to them as a Bearer, which PostgREST would check first (and refuse
/// during a switch of signing keys, even on a refresh).
#[test]
fn auth_rpcs_get_no_bearer() {
    let policy = policy("");
    let cookie = format!("access_token={}", valid());
    for path in jwt_core::AUTH_RPC_PATHS {
        let forward = forwarded(policy.decide(
            &request("POST", path, &[&cookie], Some("Bearer forged")),
            Some(NOW),
        ));
        assert_eq!(forward.outcome, Outcome::Public, "{path}");
        assert!(forward.set_headers.is_empty(), "{path}");
        assert_eq!(forward.remove_headers, vec!["authorization"], "{path}");
    }
}

/// The client address costs proxy-wasm a host call: it is asked only when a
/// forged-token count needs it, and at most once a request.
#[test]
fn the_client_is_asked_only_when_a_count_needs_it() {
    use std::cell::Cell;
    let policy = policy(r#","bad_token_limit_per_minute":1"#);
    let asked = Cell::new(0);
    let decide = |token: &str, now: i64| {
        policy.decide_asking_client(&read(token), Some(now), || {
            asked.set(asked.get() + 1);
            Some("198.51.100.1".to_owned())
        })
    };
    assert!(matches!(decide(&valid(), NOW), Decision::Forward(_)));
    assert_eq!(asked.get(), 0, "a valid token, nobody held");
    let forged = format!("{}.AAAA", valid().rsplit_once('.').unwrap().0);
    let _ = denied(decide(&forged, NOW));
    assert_eq!(
        asked.get(),
        1,
        "a forged token is counted against its client"
    );
    let throttled = denied(decide(&valid(), NOW + 1));
    assert_eq!(throttled.outcome, Outcome::Refused(Problem::Throttled));
    assert_eq!(
        asked.get(),
        2,
        "while someone is held, every token's client"
    );
    let _ = denied(decide(&forged, NOW + 2));
    assert_eq!(asked.get(), 3, "held and forged: asked once");
    let later = token(&format!(
        r#"{{"role":"basic_subscriber","sub":"demo","exp":{}}}"#,
        NOW + 600
    ));
    assert!(matches!(decide(&later, NOW + 60), Decision::Forward(_)));
    assert_eq!(asked.get(), 3, "the window is over");
}

/// A client that keeps sending forged tokens is refused for the rest of the
/// minute without another signature check; other clients, and its requests
/// without a token, are not (redteam item 8).
#[test]
fn a_client_sending_forged_tokens_waits_without_more_checks() {
    let policy = policy(r#","bad_token_limit_per_minute":3"#);
    let forged = token(&format!(
        r#"{{"role":"x","sub":"demo","exp":{}}}"#,
        NOW + 60
    ))
    .rsplit_once('.')
    .map(|(signed, _)| format!("{signed}.AAAA"))
    .unwrap();
    let from = |client: &str, token: &str| {
        let mut head = read(token);
        head.client = Some(client.into());
        head
    };
    for _ in 0..3 {
        let refused = denied(policy.decide(&from("198.51.100.1", &forged), Some(NOW)));
        assert_eq!(refused.outcome, Outcome::Denied("bad_signature"));
    }
    let throttled = denied(policy.decide(&from("198.51.100.1", &valid()), Some(NOW + 1)));
    assert_eq!(throttled.outcome, Outcome::Refused(Problem::Throttled));
    assert_eq!(throttled.status, 429);
    assert_eq!(header(&throttled.headers, "retry-after"), Some("59"));
    assert!(matches!(
        policy.decide(&from("198.51.100.2", &valid()), Some(NOW + 1)),
        Decision::Forward(_)
    ));
    let mut public = request("POST", "/rpc/login", &[], None);
    public.client = Some("198.51.100.1".into());
    assert!(matches!(
        policy.decide(&public, Some(NOW + 1)),
        Decision::Forward(_)
    ));
    let later = token(&format!(
        r#"{{"role":"basic_subscriber","sub":"demo","exp":{}}}"#,
        NOW + 600
    ));
    assert!(
        matches!(
            policy.decide(&from("198.51.100.1", &later), Some(NOW + 60)),
            Decision::Forward(_)
        ),
        "the next minute"
    );
}

fn at_level(aal: Option<&str>) -> String {
    let aal = aal
        .map(|aal| format!(r#","aal":"{aal}""#))
        .unwrap_or_default();
    token(&format!(
        r#"{{"role":"basic_subscriber","sub":"demo","exp":{}{aal}}}"#,
        NOW + 60
    ))
}

#[test]
fn aal2_routes_need_an_aal2_token() {
    let policy = policy(
        r#","aal2_routes":[{"path":"/rest/secret"},{"prefix":"/rest/rpc/pay/","methods":["POST"]}],
            "public_routes":[{"prefix":"/rest/"}]"#,
    );
    let aal2 = at_level(Some("aal2"));
    for (method, path) in [("GET", "/rest/secret"), ("POST", "/rest/rpc/pay/x")] {
        let decision = policy.decide(&with_cookie(method, path, &aal2), Some(NOW));
        assert_eq!(forwarded(decision).outcome, Outcome::Allowed, "{path}");
        for lower in [
            at_level(Some("aal1")),
            at_level(None),
            at_level(Some("AAL2")),
        ] {
            let denial = denied(policy.decide(&with_cookie(method, path, &lower), Some(NOW)));
            assert_eq!(denial.status, 403);
            assert_eq!(denial.outcome, Outcome::Refused(Problem::InsufficientAal));
            assert!(denial.body.contains("insufficient_aal"), "{}", denial.body);
            assert!(denial.body.contains("mfa_verify"), "{}", denial.body);
        }
        // Covered routes are private even under a public prefix.
        let denial = denied(policy.decide(&request(method, path, &[], None), Some(NOW)));
        assert_eq!(denial.status, 401);
    }
    // An encoded name is the same route; other routes keep their rules.
    let aal1 = cookie(&at_level(Some("aal1")));
    let denial =
        denied(policy.decide(&request("GET", "/rest/%73ecret", &[&aal1], None), Some(NOW)));
    assert_eq!(denial.status, 403);
    let read = policy.decide(&request("GET", "/rest/task", &[&aal1], None), Some(NOW));
    assert_eq!(forwarded(read).outcome, Outcome::PublicWithToken);
    let other_method = policy.decide(
        &request("GET", "/rest/rpc/pay/x", &[&aal1], None),
        Some(NOW),
    );
    assert_eq!(forwarded(other_method).outcome, Outcome::PublicWithToken);
}

#[test]
fn aal2_routes_are_checked_at_start() {
    for bad in [
        r#"[{"path":"rpc/x"}]"#,
        r#"[{"prefix":"/rest"}]"#,
        r#"[{"path":"/rest/%73ecret"}]"#,
        r#"[{"prefix":"/rpc/"}]"#,
        r#"[{"path":"/rpc/login"}]"#,
        r#"[{"prefix":"/"}]"#,
    ] {
        let json =
            format!(r#"{{"secret":"{SECRET}","secret_is_base64":true,"aal2_routes":{bad}}}"#);
        let error = Policy::from_json(json.as_bytes(), &Vars(|_| None)).unwrap_err();
        assert!(error.to_string().contains("aal2_routes"), "{bad}: {error}");
    }
}

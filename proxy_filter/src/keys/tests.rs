//! Key sets as hosts drive them: tokens of a JWKS key pass, a new key
//! arrives by a fetch (early when a token names it), a revoked key's tokens
//! stop at the next fetch even when cached, a bad fetch keeps the last set.
//! Every token is minted with a real key.

use jwt_core::{sign_with_key, KeyAlgorithm, PrivateKey};

use crate::testing::Fetching;
use crate::{Decision, FeedSource, Policy, RequestHead, Vars};

const NOW: i64 = 1_800_000_000;

fn key(algorithm: KeyAlgorithm, seed: u8) -> PrivateKey {
    PrivateKey::from_bytes(algorithm, &[seed; 32]).unwrap()
}

fn jwks(keys: &[&PrivateKey]) -> String {
    let keys: Vec<_> = keys
        .iter()
        .map(|key| {
            let public = key.public_key();
            public.to_jwk(&public.thumbprint())
        })
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}

fn mint(key: &PrivateKey) -> String {
    let payload = format!(
        r#"{{"role":"basic_subscriber","sub":"demo","exp":{}}}"#,
        NOW + 60
    );
    sign_with_key(key, &key.public_key().thumbprint(), &payload)
}

fn decide(policy: &Policy, token: &str) -> Result<(), String> {
    let request = RequestHead {
        method: "GET".into(),
        path: "/rest/notes".into(),
        cookies: vec![format!("access_token={token}")],
        ..RequestHead::default()
    };
    match policy.decide(&request, Some(NOW)) {
        Decision::Forward(_) => Ok(()),
        Decision::Deny(denial) => Err(denial.outcome.metric()),
    }
}

const FETCHING: Fetching = Fetching(&[("JWKS_URI", "http://127.0.0.1:3000/rpc/jwks")]);

fn fetching_policy(extra: &str) -> Policy {
    let json = format!(
        r#"{{"jwks_uri_env":"JWKS_URI","jwks_headers":{{"Accept-Profile":"auth"}}{extra}}}"#
    );
    Policy::from_json(json.as_bytes(), &FETCHING).unwrap()
}

fn metric(policy: &Policy, name: &str) -> u64 {
    policy
        .key_metrics()
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.value)
        .unwrap()
}

#[test]
fn inline_keys_of_both_algorithms_verify_without_any_secret() {
    let es = key(KeyAlgorithm::ES256, 1);
    let ed = key(KeyAlgorithm::EdDSA, 2);
    let config = serde_json::json!({ "jwks": jwks(&[&es, &ed]) }).to_string();
    let policy = Policy::from_json(config.as_bytes(), &Vars(|_| None)).unwrap();
    assert_eq!(decide(&policy, &mint(&es)), Ok(()));
    assert_eq!(decide(&policy, &mint(&ed)), Ok(()));
    let other = key(KeyAlgorithm::ES256, 3);
    assert_eq!(
        decide(&policy, &mint(&other)),
        Err("decision.denied.unknown_key".into())
    );
    assert!(policy.jwks_source().is_none());
    assert!(!policy.jwks_due(NOW), "inline keys are never fetched");
}

#[test]
fn the_uri_is_taken_apart_for_the_hosts() {
    let policy = fetching_policy("");
    let Some(FeedSource::Http(source)) = policy.jwks_source() else {
        panic!("no HTTP source");
    };
    assert_eq!(source.authority, "127.0.0.1:3000");
    assert_eq!(source.path, "/rpc/jwks");
    assert_eq!(source.cluster, "127.0.0.1");
    assert!(!source.tls);
    assert_eq!(
        source.headers,
        vec![("accept-profile".to_owned(), "auth".to_owned())]
    );
}

#[test]
fn rotation_arrives_by_fetch_and_revocation_beats_the_cache() {
    let old = key(KeyAlgorithm::ES256, 1);
    let new = key(KeyAlgorithm::EdDSA, 2);
    let policy = fetching_policy("");
    assert!(policy.jwks_due(NOW), "the first fetch is at once");
    assert_eq!(
        policy.jwks_fetched(NOW, Ok(jwks(&[&old]).as_bytes())),
        Ok(1)
    );
    let old_token = mint(&old);
    assert_eq!(decide(&policy, &old_token), Ok(()));
    assert_eq!(decide(&policy, &old_token), Ok(()));
    assert_eq!(
        metric(&policy, "token_cache.hit"),
        1,
        "the second check was a cache hit"
    );

    // A token of a key not fetched yet: refused, and a fetch is due early.
    let new_token = mint(&new);
    assert!(!policy.jwks_due(NOW + 1));
    assert_eq!(
        decide(&policy, &new_token),
        Err("decision.denied.unknown_key".into())
    );
    assert!(policy.jwks_due(NOW + 5));
    assert_eq!(
        policy.jwks_fetched(NOW + 5, Ok(jwks(&[&old, &new]).as_bytes())),
        Ok(2)
    );
    assert_eq!(decide(&policy, &new_token), Ok(()));
    assert_eq!(decide(&policy, &old_token), Ok(()));

    // A failed fetch keeps the last good set.
    assert!(policy.jwks_due(NOW + 65));
    assert!(policy
        .jwks_fetched(NOW + 65, Err("connection refused".into()))
        .is_err());
    assert!(policy
        .jwks_fetched(NOW + 65, Ok(b"{\"keys\":[{\"kty\":\"oct\"}]}"))
        .is_err());
    assert_eq!(decide(&policy, &old_token), Ok(()));
    assert_eq!(metric(&policy, "jwks.fetch_failed"), 2);
    assert_eq!(metric(&policy, "jwks.keys"), 2);

    // Revoked: the cached token goes with its key.
    assert!(policy.jwks_due(NOW + 70), "retried soon after a failure");
    assert_eq!(
        policy.jwks_fetched(NOW + 70, Ok(jwks(&[&new]).as_bytes())),
        Ok(1)
    );
    assert_eq!(
        decide(&policy, &old_token),
        Err("decision.denied.unknown_key".into())
    );
    assert_eq!(decide(&policy, &new_token), Ok(()));
    assert_eq!(metric(&policy, "jwks.fetch_ok"), 3);
}

#[test]
fn cached_tokens_still_expire() {
    let es = key(KeyAlgorithm::ES256, 1);
    let config = serde_json::json!({ "jwks": jwks(&[&es]) }).to_string();
    let policy = Policy::from_json(config.as_bytes(), &Vars(|_| None)).unwrap();
    let token = mint(&es);
    assert_eq!(decide(&policy, &token), Ok(()));
    let request = RequestHead {
        method: "GET".into(),
        path: "/rest/notes".into(),
        cookies: vec![format!("access_token={token}")],
        ..RequestHead::default()
    };
    let Decision::Deny(denial) = policy.decide(&request, Some(NOW + 61)) else {
        panic!("a cached token outlived its exp");
    };
    assert_eq!(denial.outcome.metric(), "decision.denied.expired");
}

#[test]
fn jwks_settings_are_checked() {
    let error = |json: &str| {
        Policy::from_json(json.as_bytes(), &FETCHING)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(error(r#"{"jwks_uri":"ftp://x/jwks"}"#).contains("http://"));
    assert!(error(r#"{"jwks_uri":"http://user@x/jwks"}"#).contains("no user name"));
    assert!(error(r#"{"jwks_uri":"http:///jwks"}"#).contains("host"));
    assert!(error(r#"{"jwks_uri":"http://x/","jwks_file":"/k"}"#).contains("at most one"));
    assert!(error(r#"{"jwks_uri":"http://x/","jwks_refresh_seconds":0}"#).contains("1 to"));
    assert!(
        error(r#"{"jwks_uri":"http://x/","jwks_headers":{"a b":"c"}}"#)
            .contains("not a header we can send")
    );
    assert!(error(r#"{"jwks_uri_env":"NOPE"}"#).contains("NOPE (jwks_uri_env) is not set"));
    assert!(error(r#"{"jwks":{"keys":[{"kty":"oct","k":"AAAA"}]}}"#).contains("\"jwks\""));
    assert!(error(
        r#"{"jwks_cluster":"postgrest","secret":"q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE="}"#
    )
    .contains("go with"));
    assert!(error(r#"{"jwks_uri":"http://x/","token_cache_size":2000000}"#).contains("at most"));
    // A host without timers or HTTP calls (http-wasm, JavaScript) refuses
    // what it could not keep fresh.
    let static_host = Policy::from_json(br#"{"jwks_uri":"http://x/jwks"}"#, &Vars(|_| None));
    assert!(static_host
        .unwrap_err()
        .to_string()
        .contains("cannot fetch a JWKS"));
    assert!(Policy::from_json(br#"{}"#, &Vars(|_| None))
        .unwrap_err()
        .to_string()
        .contains("or none, with a JWKS"));
}

/// A switch of pg_auth.signing_mode: while the database signs with the shared
/// secret its JWKS says so (`"shared_secret": true`), and tokens without a kid
/// pass beside the key pairs' (the proxies learn a key before it signs); once
/// it signs with key pairs they are refused at the proxy, as PostgREST, which
/// then has only the JWKS, refuses them (issue 21: signed-in users were
/// locked out where the proxy passed such tokens on).
#[test]
fn the_shared_secret_serves_while_the_database_signs_with_it() {
    let pair = key(KeyAlgorithm::ES256, 3);
    let policy = fetching_policy(
        r#","secret":"q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE=","secret_is_base64":true"#,
    );
    let secret_token = jwt_core::sign(
        jwt_core::Algorithm::HS256,
        &jwt_core::Key::from_secret("q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE=", true).unwrap(),
        &format!(
            r#"{{"role":"basic_subscriber","sub":"demo","exp":{}}}"#,
            NOW + 60
        ),
    );
    assert_eq!(decide(&policy, &secret_token), Ok(()), "no key yet");
    let with_marker = |keys: &[&PrivateKey]| {
        let mut set: serde_json::Value = serde_json::from_str(&jwks(keys)).unwrap();
        set["shared_secret"] = true.into();
        set.to_string()
    };
    assert_eq!(
        policy.jwks_fetched(NOW, Ok(with_marker(&[&pair]).as_bytes())),
        Ok(1)
    );
    assert_eq!(
        decide(&policy, &secret_token),
        Ok(()),
        "still signing with the secret"
    );
    assert_eq!(
        decide(&policy, &mint(&pair)),
        Ok(()),
        "and the key is known already"
    );
    assert_eq!(
        policy.jwks_fetched(NOW + 60, Ok(jwks(&[&pair]).as_bytes())),
        Ok(1)
    );
    assert_eq!(
        decide(&policy, &secret_token),
        Err("decision.denied.unknown_key".into()),
        "key pairs sign now: the cached token goes too"
    );
    assert_eq!(decide(&policy, &mint(&pair)), Ok(()));
    assert_eq!(
        policy.jwks_fetched(NOW + 120, Ok(with_marker(&[&pair]).as_bytes())),
        Ok(1)
    );
    assert_eq!(decide(&policy, &secret_token), Ok(()), "and back");
}

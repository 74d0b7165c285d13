//! Arbitrary cookie headers and paths through the cookie parser and the
//! whole filter policy: a decision for every input, never a panic.
#![no_main]

use jwt_core::Cookies;
use libfuzzer_sys::fuzz_target;
use proxy_filter::{Policy, RequestHead, Vars};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (path, cookie, origin) = (
        parts.next().unwrap_or("/"),
        parts.next().unwrap_or(""),
        parts.next(),
    );
    for (name, value) in Cookies::parse(cookie) {
        assert!(!name.is_empty());
        assert!(!name.contains(';') && !value.contains(';'));
    }
    let config =
        br#"{"secret":"fuzzing-key-fuzzing-key-fuzzing-key!","forward_claims":{"sub":"x-user"}}"#;
    let Ok(policy) = Policy::from_json(config, &Vars(|_| None)) else {
        return;
    };
    let head = RequestHead {
        method: "POST".into(),
        path: path.into(),
        host: Some("api.example".into()),
        cookies: vec![cookie.into()],
        origin: origin.map(Into::into),
        ..RequestHead::default()
    };
    let _ = policy.decide(&head, Some(1_800_000_000));
});

use crate::algorithm::Algorithm;
use crate::asymmetric::PrivateKey;
use crate::base64url;
use crate::claims::Claims;
use crate::key::Key;

/// Signs `payload_json` as written (no re-serialisation), with the header
/// `{"alg":"…","typ":"JWT"}`: the same bytes the legacy setup's `auth.sign_raw` signed.
pub fn sign(algorithm: Algorithm, key: &Key, payload_json: &str) -> String {
    let header = base64url::encode(algorithm.header_json().as_bytes());
    let payload = base64url::encode(payload_json.as_bytes());
    let mut token = String::with_capacity(header.len() + payload.len() + 90);
    token.push_str(&header);
    token.push('.');
    token.push_str(&payload);
    let signature = algorithm.mac(key.as_bytes(), token.as_bytes());
    token.push('.');
    token.push_str(&base64url::encode(&signature));
    token
}

/// Signs a claims set, serialised compactly.
pub fn sign_claims(algorithm: Algorithm, key: &Key, claims: &Claims) -> String {
    // Serialising a map of JSON values cannot fail.
    let payload = serde_json::to_string(claims.as_map()).unwrap_or_default();
    sign(algorithm, key, &payload)
}

/// Signs `payload_json` as written with a key pair, the header naming its
/// algorithm and `kid`: `{"alg":"ES256","kid":"…","typ":"JWT"}`.
pub fn sign_with_key(key: &PrivateKey, kid: &str, payload_json: &str) -> String {
    let header = serde_json::json!({ "alg": key.algorithm().name(), "kid": kid, "typ": "JWT" });
    let mut token = base64url::encode(header.to_string().as_bytes());
    token.push('.');
    token.push_str(&base64url::encode(payload_json.as_bytes()));
    let signature = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&base64url::encode(&signature));
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_the_legacy_setups() {
        let key = Key::from_bytes(vec![7; 32]).unwrap();
        let token = sign(Algorithm::HS384, &key, "{}");
        let header = token.split('.').next().unwrap();
        assert_eq!(
            base64url::decode_segment(header).unwrap(),
            br#"{"alg":"HS384","typ":"JWT"}"#
        );
    }

    #[test]
    fn payload_is_signed_as_written() {
        let key = Key::from_bytes(vec![7; 32]).unwrap();
        let token = sign(Algorithm::HS256, &key, r#"{ "b" : 1,  "a":2 }"#);
        let payload = token.split('.').nth(1).unwrap();
        assert_eq!(
            base64url::decode_segment(payload).unwrap(),
            br#"{ "b" : 1,  "a":2 }"#
        );
    }
}

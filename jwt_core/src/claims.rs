use core::fmt;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::VerifyError;

/// The authenticator assurance levels of the `aal` claim (NIST SP 800-63B,
/// as Supabase Auth names them): a password only, and a password with a
/// second factor or a passkey with user verification.
pub const AAL1: &str = "aal1";
/// See [`AAL1`].
pub const AAL2: &str = "aal2";

/// A JOSE header or claims set: a JSON object whose top-level member names
/// are unique. RFC 7515 section 4 lets parsers either reject duplicates or
/// take the last; taking the last is how two parsers come to disagree on one
/// token, so we reject.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claims(Map<String, Value>);

impl Claims {
    /// `None` unless `json` is an object with unique member names.
    pub fn parse(json: &[u8]) -> Option<Claims> {
        serde_json::from_slice::<Claims>(json).ok()
    }

    /// A member, of any type.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// A member that is a string; `None` when absent or of another type.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// Every member.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// A NumericDate claim (RFC 7519 section 2): absent, or a finite JSON
    /// number. A string such as `"1700000000"` is invalid, not coerced.
    pub(crate) fn numeric_date(&self, name: &str) -> Result<Option<f64>, VerifyError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(value) if value.is_finite() => Ok(Some(value)),
                _ => Err(VerifyError::InvalidClaims),
            },
            Some(_) => Err(VerifyError::InvalidClaims),
        }
    }
}

impl From<Map<String, Value>> for Claims {
    fn from(map: Map<String, Value>) -> Self {
        Claims(map)
    }
}

impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(UniqueObjectVisitor)
    }
}

struct UniqueObjectVisitor;

impl<'de> Visitor<'de> for UniqueObjectVisitor {
    type Value = Claims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with unique member names")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Claims, A::Error> {
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            let value: Value = access.next_value()?;
            if map.insert(name, value).is_some() {
                return Err(A::Error::custom("duplicate member name"));
            }
        }
        Ok(Claims(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_only_and_unique_names() {
        assert!(Claims::parse(br#"{"a":1,"b":{"a":1}}"#).is_some());
        assert!(Claims::parse(br#"{"a":1,"a":2}"#).is_none());
        assert!(Claims::parse(br#"[1]"#).is_none());
        assert!(Claims::parse(br#""x""#).is_none());
        assert!(Claims::parse(br#"{"a":1} x"#).is_none());
        assert!(Claims::parse(b"").is_none());
    }

    #[test]
    fn numeric_dates() {
        let claims = Claims::parse(br#"{"n":1.5,"s":"1","b":true,"big":1e300}"#).unwrap();
        assert_eq!(claims.numeric_date("n"), Ok(Some(1.5)));
        assert_eq!(claims.numeric_date("missing"), Ok(None));
        assert_eq!(claims.numeric_date("s"), Err(VerifyError::InvalidClaims));
        assert_eq!(claims.numeric_date("b"), Err(VerifyError::InvalidClaims));
        assert_eq!(claims.numeric_date("big"), Ok(Some(1e300)));
        // Beyond f64 the JSON itself is refused.
        assert!(Claims::parse(br#"{"exp":1e400}"#).is_none());
    }
}

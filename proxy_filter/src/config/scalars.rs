//! Booleans and numbers that may arrive as strings: Traefik hands plugin
//! configuration over with every scalar as a string (`"true"`, `"30"`).

use core::fmt;
use core::str::FromStr;

use serde::de::{Deserializer, Error, Visitor};

pub(crate) fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    struct BooleanVisitor;
    impl Visitor<'_> for BooleanVisitor {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("true or false")
        }
        fn visit_bool<E: Error>(self, value: bool) -> Result<bool, E> {
            Ok(value)
        }
        fn visit_str<E: Error>(self, value: &str) -> Result<bool, E> {
            match value {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(E::custom(format!(
                    "expected true or false, found {value:?}"
                ))),
            }
        }
    }
    deserializer.deserialize_any(BooleanVisitor)
}

pub(super) fn number<'de, D, N>(deserializer: D) -> Result<N, D::Error>
where
    D: Deserializer<'de>,
    N: FromStr + TryFrom<u64>,
{
    struct NumberVisitor<N>(core::marker::PhantomData<N>);
    impl<N: FromStr + TryFrom<u64>> Visitor<'_> for NumberVisitor<N> {
        type Value = N;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a non-negative whole number")
        }
        fn visit_u64<E: Error>(self, value: u64) -> Result<N, E> {
            N::try_from(value).map_err(|_| E::custom(format!("{value} is out of range")))
        }
        fn visit_i64<E: Error>(self, value: i64) -> Result<N, E> {
            Err(E::custom(format!("{value} is negative")))
        }
        fn visit_str<E: Error>(self, value: &str) -> Result<N, E> {
            value.parse().map_err(|_| {
                E::custom(format!(
                    "expected a non-negative whole number, found {value:?}"
                ))
            })
        }
    }
    deserializer.deserialize_any(NumberVisitor(core::marker::PhantomData))
}

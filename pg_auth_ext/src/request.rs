//! What the extension reads of a request beyond its cookies: the client's
//! address, from the proxies' `X-Forwarded-For`.

use std::net::IpAddr;

use pgrx::prelude::*;

/// The entry `hops` places from the right of an `X-Forwarded-For` value
/// (the proxy in front of PostgREST appends its peer's address last), as
/// canonical text when it is an IP address; NULL otherwise. Parsed here
/// rather than cast in SQL: a failed cast would need an exception block,
/// a subtransaction on every login and refresh.
#[pg_extern(immutable, parallel_safe)]
fn forwarded_address(forwarded_for: Option<&str>, hops: i32) -> Option<String> {
    let hops = usize::try_from(hops).ok()?;
    let entry = forwarded_for?.rsplit(',').nth(hops)?.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .map(|address| address.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxys_entry_is_read_and_nothing_else() {
        assert_eq!(
            forwarded_address(Some("203.0.113.5"), 0).as_deref(),
            Some("203.0.113.5")
        );
        assert_eq!(
            forwarded_address(Some("1.2.3.4, 203.0.113.5"), 0).as_deref(),
            Some("203.0.113.5")
        );
        assert_eq!(
            forwarded_address(Some("1.2.3.4, 203.0.113.5"), 1).as_deref(),
            Some("1.2.3.4")
        );
        assert_eq!(forwarded_address(Some("1.2.3.4"), 1), None);
        assert_eq!(
            forwarded_address(Some("2001:DB8::1"), 0).as_deref(),
            Some("2001:db8::1")
        );
        for bad in [
            "",
            "1.2.3",
            "not an address",
            "1.2.3.4/8",
            "::ffff:1.2.3.4.5",
        ] {
            assert_eq!(forwarded_address(Some(bad), 0), None, "{bad}");
        }
        assert_eq!(forwarded_address(None, 0), None);
        assert_eq!(forwarded_address(Some("1.2.3.4"), -1), None);
    }
}

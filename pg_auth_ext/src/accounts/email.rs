//! Email addresses as the extension stores and sends to them: one address,
//! ASCII, lower case (as Supabase Auth does: a second account for
//! `Ann@x.org` beside `ann@x.org` only confuses its owner), nothing that
//! could end a mail header. Internationalised addresses are refused rather
//! than half supported.

/// RFC 5321's limits: the whole path, and the local part.
const MAX_ADDRESS: usize = 254;
const MAX_LOCAL: usize = 64;

pub(super) fn normalize(address: &str) -> Option<String> {
    let address = address.trim().to_ascii_lowercase();
    let (local, domain) = address.split_once('@')?;
    let valid = address.len() <= MAX_ADDRESS
        && (1..=MAX_LOCAL).contains(&local.len())
        && local.bytes().all(is_local_byte)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && is_domain(domain);
    valid.then_some(address)
}

/// RFC 5322's atext and dots: no quotes, spaces, controls, `@`, `<`, `,`...
fn is_local_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&byte)
}

/// Host names with at least one dot: letters, digits and inner hyphens.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn addresses_are_trimmed_and_lowered() {
        assert_eq!(
            normalize("  Ann.Lee+tag@Example.ORG ").as_deref(),
            Some("ann.lee+tag@example.org")
        );
        assert_eq!(
            normalize("o'brien@mail.example.co.uk").as_deref(),
            Some("o'brien@mail.example.co.uk")
        );
    }

    #[test]
    fn anything_that_is_not_one_plain_address_is_refused() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.org",
            "ann@example",
            "ann@@example.org",
            "a@b@example.org",
            "ann@example.org\r\nBcc: x@example.org",
            "ann@example.org\nBcc: x@example.org",
            "ann lee@example.org",
            "\"ann\"@example.org",
            "<ann@example.org>",
            "ann@example.org, bob@example.org",
            ".ann@example.org",
            "ann.@example.org",
            "a..nn@example.org",
            "ann@-example.org",
            "ann@example..org",
            "ann@exämple.org",
            "änn@example.org",
            "ann@example.org.",
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
        let long_local = format!("{}@example.org", "a".repeat(65));
        assert_eq!(normalize(&long_local), None);
        let long = format!("a@{}.org", "b".repeat(250));
        assert_eq!(normalize(&long), None);
    }
}

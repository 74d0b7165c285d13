//! Session ids: the `sid` claim of access tokens, a UUID in canonical text.

/// The 16 bytes of a session id written as a canonical UUID: lower-case hex
/// in groups of 8-4-4-4-12. Anything else (braces, upper case, no hyphens) is
/// `None`, so that one session has exactly one spelling everywhere.
pub fn parse_session_id(text: &str) -> Option<[u8; 16]> {
    const HYPHENS: [usize; 4] = [8, 13, 18, 23];
    let bytes = text.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut digits = bytes
        .iter()
        .enumerate()
        .filter(|(i, _)| !HYPHENS.contains(i))
        .map(|(_, b)| *b);
    for (i, b) in bytes.iter().enumerate() {
        if HYPHENS.contains(&i) != (*b == b'-') {
            return None;
        }
    }
    for byte in &mut out {
        let high = hex_digit(digits.next()?)?;
        let low = hex_digit(digits.next()?)?;
        *byte = high << 4 | low;
    }
    Some(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_only() {
        let bytes = parse_session_id("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0").unwrap();
        assert_eq!(bytes[0], 0x0f);
        assert_eq!(bytes[15], 0xf0);
        for bad in [
            "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f00",
            "0f1e2d3c-4b5a-6978-8796a-5b4c3d2e1f0",
            "zz1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1\u{e9}",
            "",
        ] {
            assert_eq!(parse_session_id(bad), None, "{bad}");
        }
    }
}

//! proxy-wasm's serialized header map (what `proxy_get_header_map_pairs`
//! returns), read in place: a count, then each name's and value's length
//! (u32, little-endian), then each name and each value followed by a NUL.
//! The SDK's `get_map_bytes` copies every name and value into an allocation
//! of its own, two per header per request (about 0.8 µs a request in V8);
//! this borrows them from the one buffer. Pure, so tested natively.

/// The (name, value) pairs of a serialized map, in order; `None` if the
/// buffer is not what the ABI says or a name is not UTF-8 (Envoy only
/// passes token names).
pub(crate) fn map_pairs(bytes: &[u8]) -> Option<Vec<(&str, &[u8])>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let number = |at: usize| -> Option<usize> {
        let word = bytes.get(at..at.checked_add(4)?)?;
        usize::try_from(u32::from_le_bytes(word.try_into().ok()?)).ok()
    };
    let count = number(0)?;
    let mut at = count.checked_mul(8)?.checked_add(4)?;
    if at > bytes.len() {
        return None;
    }
    let mut pairs = Vec::with_capacity(count);
    for n in 0..count {
        let name = slice(bytes, &mut at, number(4 + n * 8)?)?;
        let value = slice(bytes, &mut at, number(8 + n * 8)?)?;
        pairs.push((std::str::from_utf8(name).ok()?, value));
    }
    Some(pairs)
}

/// `len` bytes at `at` and the NUL after them; moves `at` past both. The
/// NUL is skipped unread, as the SDK does: a host that wrote another byte
/// there is not refused for it.
fn slice<'a>(bytes: &'a [u8], at: &mut usize, len: usize) -> Option<&'a [u8]> {
    let end = at.checked_add(len)?;
    let found = bytes.get(*at..end)?;
    bytes.get(end)?;
    *at = end + 1;
    Some(found)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The host's side of the ABI (proxy-wasm-cpp-host's `marshalPairs`).
    fn serialize(map: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = u32::try_from(map.len()).unwrap().to_le_bytes().to_vec();
        for (name, value) in map {
            out.extend(u32::try_from(name.len()).unwrap().to_le_bytes());
            out.extend(u32::try_from(value.len()).unwrap().to_le_bytes());
        }
        for (name, value) in map {
            out.extend(name.as_bytes());
            out.push(0);
            out.extend(*value);
            out.push(0);
        }
        out
    }

    const MAP: &[(&str, &[u8])] = &[
        (":method", b"GET"),
        (":path", b"/rest/task"),
        ("cookie", b"access_token=abc; theme=\xff"),
        ("x-empty", b""),
        ("cookie", b"refresh_token=def"),
    ];

    #[test]
    fn reads_every_pair_in_order_values_as_bytes() {
        assert_eq!(map_pairs(&serialize(MAP)).unwrap(), MAP);
        assert_eq!(map_pairs(&[]).unwrap(), []);
        assert_eq!(map_pairs(&serialize(&[])).unwrap(), []);
    }

    #[test]
    fn a_buffer_cut_short_or_lengthened_is_refused_not_a_panic() {
        let bytes = serialize(MAP);
        for len in 1..bytes.len() {
            assert_eq!(map_pairs(&bytes[..len]), None, "cut at {len}");
        }
        let mut longer = bytes.clone();
        longer[4] += 1; // the first name one byte longer: the last NUL is missing
        assert_eq!(map_pairs(&longer), None);
        let mut huge = bytes;
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(map_pairs(&huge), None);
    }

    #[test]
    fn a_name_that_is_not_utf8_is_refused() {
        let mut bytes = serialize(&[("x-abc", b"v")]);
        bytes[12..17].copy_from_slice(b"x-\xff\xfe\xfd");
        assert_eq!(map_pairs(&bytes), None);
    }
}

//! An HTTP endpoint a host fetches from (`jwks_uri`, `revocation_uri`),
//! taken apart and checked once.

use std::collections::BTreeMap;

use super::{invalid, ConfigError, Env};
use crate::feeds::HttpSource;

/// The URI of feed `feed` (`jwks`, `revocation`): `<feed>_uri`, or the value
/// of the environment variable `<feed>_uri_env` names; `<feed>_cluster` and
/// `<feed>_headers` (`with_extras`) only beside one. None when neither is set.
pub(crate) fn feed_uri(
    feed: &str,
    uri: Option<String>,
    uri_env: Option<&str>,
    with_extras: bool,
    env: &dyn Env,
) -> Result<Option<String>, ConfigError> {
    let uri = match (uri, uri_env) {
        (Some(_), Some(_)) => {
            return Err(invalid(format!(
                "set at most one of \"{feed}_uri\" or \"{feed}_uri_env\""
            )))
        }
        (Some(uri), None) => Some(uri),
        (None, Some(name)) => Some(env.var(name).ok_or_else(|| {
            invalid(format!(
                "environment variable {name} ({feed}_uri_env) is not set"
            ))
        })?),
        (None, None) => None,
    };
    if uri.is_none() && with_extras {
        return Err(invalid(format!(
            "\"{feed}_cluster\" and \"{feed}_headers\" go with \"{feed}_uri\""
        )));
    }
    Ok(uri)
}

/// `http[s]://host[:port]/path`: no user info, no fragment.
pub(crate) fn http_source(
    key: &str,
    uri: &str,
    cluster: Option<String>,
    headers: BTreeMap<String, String>,
) -> Result<HttpSource, ConfigError> {
    let bad = |why: &str| invalid(format!("\"{key}\" {uri:?}: {why}"));
    let (tls, rest) = if let Some(rest) = uri.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = uri.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(bad("must start with http:// or https://"));
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    let host = authority
        .rsplit_once(':')
        .filter(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(authority, |(host, _)| host);
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b));
    if !host_ok || authority.contains('@') {
        return Err(bad("needs a host name or address, and no user name"));
    }
    if path.contains('#') || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(bad(
            "the path may not hold spaces, control characters or a fragment",
        ));
    }
    let mut checked = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !name.starts_with(':');
        if !name_ok
            || !value
                .bytes()
                .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        {
            return Err(invalid(format!(
                "headers of \"{key}\": {name:?} is not a header we can send"
            )));
        }
        checked.push((name, value));
    }
    Ok(HttpSource {
        uri: uri.to_owned(),
        tls,
        authority: authority.to_owned(),
        path: path.to_owned(),
        cluster: cluster.unwrap_or_else(|| host.to_owned()),
        headers: checked,
    })
}

//! The check hooks of string settings: the only unsafe code of the
//! settings, called by PostgreSQL's GUC machinery with raw pointers. A hook
//! never raises; it reports why a value is refused through
//! GUC_check_errdetail_string.

use std::ffi::{c_char, c_void, CStr};

use pgrx::pg_sys;

/// The value a string check hook is asked about (NULL: unset).
///
/// # Safety
/// `newval` is what Postgres passes a string check hook.
unsafe fn checked_value(newval: *mut *mut c_char) -> Option<String> {
    // SAFETY: a valid pointer to a NUL-terminated string or to NULL.
    unsafe { newval.as_ref().filter(|v| !v.is_null()) }
        .map(|v| unsafe { CStr::from_ptr(*v) }.to_string_lossy().into_owned())
}

/// Reports why a value is refused (the GUC machinery adds the setting's name).
fn refuse(detail: &'static CStr) -> bool {
    // SAFETY: pstrdup allocates in the current memory context, as the GUC
    // machinery expects of its error detail.
    unsafe { pg_sys::GUC_check_errdetail_string = pg_sys::pstrdup(detail.as_ptr()) };
    false
}

/// A check hook for a string setting: `$valid` decides on the value (None:
/// unset), `$detail` tells the user why one is refused.
macro_rules! string_check {
    ($(#[$doc:meta])* $name:ident, $valid:expr, $detail:expr) => {
        $(#[$doc])*
        pub(super) unsafe extern "C-unwind" fn $name(
            newval: *mut *mut c_char,
            _extra: *mut *mut c_void,
            _source: pg_sys::GucSource::Type,
        ) -> bool {
            let valid: fn(Option<&str>) -> bool = $valid;
            // SAFETY: called by Postgres with its arguments.
            valid(unsafe { checked_value(newval) }.as_deref()) || refuse($detail)
        }
    };
}

string_check!(
    /// Refuses a cookie path that would not survive in a Set-Cookie header.
    check_cookie_path,
    |path| path.is_some_and(jwt_core::is_cookie_path),
    c"A cookie path starts with / and holds printable ASCII other than ;"
);
string_check!(
    check_cookie_name,
    |name| name.is_some_and(jwt_core::is_cookie_name),
    c"A cookie name is a token: letters, digits and !#$%&'*+-.^_`|~"
);
string_check!(
    check_cookie_domain,
    |domain| domain.is_none_or(|d| d.is_empty() || jwt_core::is_cookie_domain(d)),
    c"A cookie domain is a host name like example.com"
);
string_check!(
    /// Refuses a function name that is not schema-qualified: an unqualified
    /// one would be looked up along whatever search path a session has.
    check_function_name,
    |name| name.is_none_or(|n| n.is_empty() || is_qualified_name(n)),
    c"Name the function with its schema, in lower case: myschema.my_claims"
);

string_check!(
    /// Refuses a site address mailed links could not start with.
    check_site_url,
    |url| url.is_none_or(|u| u.is_empty() || is_site_url(u)),
    c"The site's address starts with https:// (or http://) and holds no spaces, quotes or angle brackets"
);

fn is_site_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"\"'<>\\`".contains(&b))
    })
}

fn is_qualified_name(name: &str) -> bool {
    let identifier = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
    };
    matches!(name.split_once('.'), Some((schema, function)) if identifier(schema) && identifier(function))
}

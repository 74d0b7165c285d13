//! What PostgREST tells a function about the request it serves.

use std::ffi::CStr;

use pgrx::prelude::*;

/// Every value of cookie `name` in the current request, in order. Read from
/// the raw `Cookie` header (`request.headers`) with the project's one cookie
/// parser, because `request.cookies` is an object that silently keeps only
/// the last of two cookies of one name: a planted second `refresh_token`
/// would win there. Falls back to `request.cookies` outside PostgREST 12.
#[pg_extern(stable, parallel_safe)]
fn request_cookie_values(name: &str) -> Vec<String> {
    let headers = setting(c"request.headers");
    let header = headers
        .as_ref()
        .and_then(|json| json.get("cookie"))
        .and_then(serde_json::Value::as_str);
    if let Some(header) = header {
        return jwt_core::cookie_values([header], name)
            .map(str::to_owned)
            .collect();
    }
    setting(c"request.cookies")
        .as_ref()
        .and_then(|cookies| cookies.get(name))
        .and_then(serde_json::Value::as_str)
        .map(|value| vec![value.to_owned()])
        .unwrap_or_default()
}

/// A JSON-valued request setting, or `None` when unset, empty or not JSON.
fn setting(name: &CStr) -> Option<serde_json::Value> {
    // SAFETY: missing_ok = true returns NULL instead of raising; the string
    // belongs to the GUC machinery and is only read here.
    let value = unsafe { pg_sys::GetConfigOption(name.as_ptr(), true, false) };
    if value.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string from Postgres, read before any other call.
    let text = unsafe { CStr::from_ptr(value) }.to_string_lossy();
    serde_json::from_str(&text).ok()
}

//! Lets every request through untouched, through the same SDK as proxy_filter.
//! With feature `host-calls` it first makes the three host calls proxy_filter
//! makes for a request it lets through (the request headers read into the VM
//! as proxy_filter reads them, the clock, Authorization set) and decides
//! nothing: what any proxy-wasm filter doing this job pays before its logic.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root) });
}}

struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Pass))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Pass;

impl Context for Pass {}

impl HttpContext for Pass {
    fn on_http_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        #[cfg(feature = "host-calls")]
        host_calls::make();
        Action::Continue
    }
}

#[cfg(feature = "host-calls")]
mod host_calls {
    use proxy_wasm::hostcalls;
    use proxy_wasm::types::{MapType, Status};

    #[link(wasm_import_module = "env")]
    extern "C" {
        fn proxy_get_header_map_pairs(
            map_type: MapType,
            data: *mut *mut u8,
            size: *mut usize,
        ) -> Status;
    }

    /// A Bearer value as long as an ES256 access token's.
    const BEARER: &str = concat!(
        "Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6ImFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6MDEyMzQ1Njc4OSJ9.",
        "eyJyb2xlIjoiYmFzaWNfc3Vic2NyaWJlciIsInVzZXJuYW1lIjoiZGVtbyIsInNpZCI6IjAxMjM0NTY3LTg5YWItY2RlZi0w",
        "MTIzLTQ1Njc4OWFiY2RlZiIsImV4cCI6MTkwMDAwMDYwMCwiYWFsIjoiYWFsMSJ9.",
        "MEUCIQDabcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefgh"
    );

    pub(super) fn make() {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: the host hands over a buffer it allocated in this VM
        // (proxy_on_memory_allocate), freed here as proxy_filter frees it.
        unsafe {
            if proxy_get_header_map_pairs(MapType::HttpRequestHeaders, &mut data, &mut size)
                == Status::Ok
                && !data.is_null()
            {
                drop(Vec::from_raw_parts(data, size, size));
            }
        }
        let _ = std::hint::black_box(hostcalls::get_current_time());
        let _ =
            hostcalls::set_map_value(MapType::HttpRequestHeaders, "authorization", Some(BEARER));
    }
}

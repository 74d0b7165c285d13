//! The http-wasm plugin is a WASI command: its `main` registers the handler.

fn main() {
    proxy_filter::host::http_wasm::main();
}

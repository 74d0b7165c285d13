//! The forward-auth gate for stock Caddy, nginx and Traefik (see `host/gate`).

fn main() -> std::process::ExitCode {
    proxy_filter::host::gate::main()
}

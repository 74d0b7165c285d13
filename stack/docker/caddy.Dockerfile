# Caddy with an http-wasm host module (wazemmes passes the plugin its
# configuration) and proxy_filter built as an http-wasm plugin.
FROM rust:1.95-bookworm AS wasm
RUN rustup target add wasm32-wasip1
WORKDIR /src
COPY . .
RUN cargo build -p proxy_filter --target wasm32-wasip1 --profile wasm --features http-wasm --bin http_wasm_filter

FROM caddy:2-builder AS caddy
RUN xcaddy build --with github.com/darkweak/wazemmes/caddy

FROM caddy:2
COPY --from=caddy /usr/bin/caddy /usr/bin/caddy
COPY --from=wasm /src/target/wasm32-wasip1/wasm/http_wasm_filter.wasm /etc/caddy/proxy_filter.wasm

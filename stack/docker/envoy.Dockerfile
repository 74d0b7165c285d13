# Envoy 1.40 with proxy_filter (proxy-wasm, V8). Its configuration is
# stack/envoy/, mounted by compose.yaml and rendered at start.
FROM rust:1.95-bookworm AS wasm
RUN rustup target add wasm32-wasip1
WORKDIR /src
COPY . .
RUN cargo build -p proxy_filter --target wasm32-wasip1 --profile wasm --features proxy-wasm --lib

FROM envoyproxy/envoy:v1.40-latest
COPY --from=wasm /src/target/wasm32-wasip1/wasm/proxy_filter.wasm /etc/envoy/proxy_filter.wasm

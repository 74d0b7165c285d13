# pg_auth_gate, the forward-auth gate for stock Caddy, nginx and Traefik.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p proxy_filter --features gate --bin pg_auth_gate

FROM debian:bookworm-slim
COPY --from=build /src/target/release/pg_auth_gate /usr/local/bin/pg_auth_gate
USER nobody
ENTRYPOINT ["pg_auth_gate"]

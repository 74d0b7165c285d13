# PostgreSQL 15 with pg_auth_ext, built with cargo-pgrx (pinned as in stack/lib/install.sh).
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-server-dev-15 libclang-dev clang python3 \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-pgrx --version =0.18.0 --locked \
 && cargo pgrx init --pg15 /usr/lib/postgresql/15/bin/pg_config
WORKDIR /src
COPY . .
RUN cd pg_auth_ext \
 && cargo pgrx package --pg-config /usr/lib/postgresql/15/bin/pg_config --out-dir /out

FROM postgres:15-bookworm
COPY --from=build /out/usr/lib/postgresql/15/lib/ /usr/lib/postgresql/15/lib/
COPY --from=build /out/usr/share/postgresql/15/extension/ /usr/share/postgresql/15/extension/
COPY stack/docker/postgres-entrypoint.sh /usr/local/bin/pg-auth-entrypoint.sh
ENTRYPOINT ["sh", "/usr/local/bin/pg-auth-entrypoint.sh"]

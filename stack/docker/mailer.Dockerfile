# pg_auth_mailer: sends auth.outbox (sign-up, verification, reset and
# email-change mail) through SMTP. Configuration from PG_AUTH_MAILER_*.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p pg_auth_mailer

FROM debian:bookworm-slim
# The CA roots for STARTTLS and smtps:// relays.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/pg_auth_mailer /usr/local/bin/pg_auth_mailer
USER nobody
ENTRYPOINT ["pg_auth_mailer"]

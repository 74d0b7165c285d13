#!/bin/sh
# The postgres image's entrypoint, after putting the signing key where
# pg_auth_ext reads it: a file only the postgres OS user can read. The key
# then leaves the environment, so the server's processes never carry it.
set -eu
key_file=${PG_AUTH_KEY_FILE:-/var/lib/postgresql/pg_auth/jwt_secret}
: "${JWT_SECRET:?set JWT_SECRET (openssl rand -base64 32)}"
install -d -o postgres -g postgres -m 700 "$(dirname "$key_file")"
(umask 077 && printf '%s\n' "$JWT_SECRET" > "$key_file")
chown postgres:postgres "$key_file"
unset JWT_SECRET
exec docker-entrypoint.sh "$@"

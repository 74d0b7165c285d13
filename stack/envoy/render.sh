#!/bin/sh
# Fills the {{NAME}} placeholders of an Envoy config template from the
# environment and prints the result. POSIX sh + sed: runs in the Envoy image.
set -eu
: "${LISTEN_ADDRESS:?}" "${PROXY_PORT:?}" "${ADMIN_ADDRESS:?}" "${ADMIN_PORT:?}"
: "${POSTGREST_HOST:?}" "${POSTGREST_PORT:?}" "${FILTER_WASM:?}"
sed -e "s#{{LISTEN_ADDRESS}}#${LISTEN_ADDRESS}#g" \
    -e "s#{{PROXY_PORT}}#${PROXY_PORT}#g" \
    -e "s#{{ADMIN_ADDRESS}}#${ADMIN_ADDRESS}#g" \
    -e "s#{{ADMIN_PORT}}#${ADMIN_PORT}#g" \
    -e "s#{{POSTGREST_HOST}}#${POSTGREST_HOST}#g" \
    -e "s#{{POSTGREST_PORT}}#${POSTGREST_PORT}#g" \
    -e "s#{{FILTER_WASM}}#${FILTER_WASM}#g" \
    "${1:?usage: render.sh TEMPLATE}"

#!/bin/sh
# Fills the {{NAME}} placeholders of an Envoy config template from the
# environment and prints the result. POSIX sh + sed: runs in the Envoy image.
# FILTER_CONFIG defaults to the filter configuration in FILTER_CONFIG_FILE, by
# default stack/filter.json (key pairs; stack/filter-secret.json with the
# shared secret: the gate's too), AUTH_CONCURRENCY to 3 (of PostgREST's 10 pool connections),
# WEB_INDEX to the demo page stack/web/index.html.
# TLS_CERT_FILE and TLS_KEY_FILE (PEM, both or neither) make the listener HTTPS.
set -eu
: "${LISTEN_ADDRESS:?}" "${PROXY_PORT:?}" "${ADMIN_ADDRESS:?}" "${ADMIN_PORT:?}"
: "${POSTGREST_HOST:?}" "${POSTGREST_PORT:?}" "${FILTER_WASM:?}"
FILTER_CONFIG=${FILTER_CONFIG:-$(cat "${FILTER_CONFIG_FILE:-$(dirname "$0")/../filter.json}")}
AUTH_CONCURRENCY=${AUTH_CONCURRENCY:-3}
WEB_INDEX=${WEB_INDEX:-$(cd "$(dirname "$0")/.." && pwd)/web/index.html}
case "$ADMIN_ADDRESS" in
  127.*|::1|localhost) ;;
  *) echo "render.sh: ADMIN_ADDRESS must be a loopback address, not $ADMIN_ADDRESS: Envoy's admin interface can reconfigure and stop it" >&2; exit 1 ;;
esac
case "$FILTER_CONFIG" in
  *"'"*|*"#"*) echo "render.sh: FILTER_CONFIG must not contain ' or #" >&2; exit 1 ;;
esac
TLS_CERT_FILE=${TLS_CERT_FILE:-} TLS_KEY_FILE=${TLS_KEY_FILE:-}
if [ -n "$TLS_CERT_FILE$TLS_KEY_FILE" ]; then
  for file in "$TLS_CERT_FILE" "$TLS_KEY_FILE"; do
    [ -r "$file" ] || { echo "render.sh: TLS_CERT_FILE and TLS_KEY_FILE must both name readable files ('$file' is not)" >&2; exit 1; }
    case "$file" in *'"'*|*"|"*|*"&"*|*"\\"*) echo "render.sh: TLS file names must not contain \", |, & or \\" >&2; exit 1 ;; esac
  done
  TRANSPORT_SOCKET="transport_socket: { name: envoy.transport_sockets.tls, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, common_tls_context: { alpn_protocols: [h2, http/1.1], tls_params: { tls_minimum_protocol_version: TLSv1_2 }, tls_certificates: [{ certificate_chain: { filename: \"$TLS_CERT_FILE\" }, private_key: { filename: \"$TLS_KEY_FILE\" } }] } } }"
else
  TRANSPORT_SOCKET="# (plain HTTP)"
fi
sed -e "s#{{LISTEN_ADDRESS}}#${LISTEN_ADDRESS}#g" \
    -e "s#{{PROXY_PORT}}#${PROXY_PORT}#g" \
    -e "s#{{ADMIN_ADDRESS}}#${ADMIN_ADDRESS}#g" \
    -e "s#{{ADMIN_PORT}}#${ADMIN_PORT}#g" \
    -e "s#{{POSTGREST_HOST}}#${POSTGREST_HOST}#g" \
    -e "s#{{POSTGREST_PORT}}#${POSTGREST_PORT}#g" \
    -e "s#{{FILTER_WASM}}#${FILTER_WASM}#g" \
    -e "s#{{FILTER_CONFIG}}#${FILTER_CONFIG}#g" \
    -e "s#{{AUTH_CONCURRENCY}}#${AUTH_CONCURRENCY}#g" \
    -e "s#{{WEB_INDEX}}#${WEB_INDEX}#g" \
    -e "s|{{TRANSPORT_SOCKET}}|${TRANSPORT_SOCKET}|g" \
    "${1:?usage: render.sh TEMPLATE}"

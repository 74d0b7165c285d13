#!/bin/sh
# Fills the {{NAME}} placeholders of an Envoy config template from the
# environment and prints the result. POSIX sh + sed: runs in the Envoy image.
# FILTER_CONFIG defaults to the filter configuration in FILTER_CONFIG_FILE, by
# default stack/filter.json (key pairs; stack/filter-secret.json with the
# shared secret: the gate's too), AUTH_CONCURRENCY to 3 (of PostgREST's 10 pool connections),
# WEB_INDEX to the demo page stack/web/index.html.
# TLS_CERT_FILE and TLS_KEY_FILE (PEM, both or neither) make the listener HTTPS.
# TRUSTED_PROXY (an address or CIDR; default none) names the load balancer in
# front: from it, the client address is the last one it added to
# X-Forwarded-For; from anyone else, the peer's.
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
TRUSTED_PROXY=${TRUSTED_PROXY:-}
refuse_trusted_proxy() {
  echo "render.sh: TRUSTED_PROXY must be an IPv4 or IPv6 address or CIDR (e.g. 10.0.0.0/8), or unix: for none, not '$TRUSTED_PROXY'" >&2
  exit 1
}
# Four decimal numbers of at most 255, split on the dots.
is_ipv4() {
  OLD_IFS=$IFS; IFS=.
  # shellcheck disable=SC2086 # split on purpose, in the function's own arguments
  set -- $1
  IFS=$OLD_IFS
  [ $# -eq 4 ] || return 1
  for OCTET in "$@"; do
    case "$OCTET" in ????*) return 1 ;; esac
    [ "$OCTET" -le 255 ] || return 1
  done
}
case "$TRUSTED_PROXY" in */) refuse_trusted_proxy ;; esac
if [ -z "$TRUSTED_PROXY" ] || [ "$TRUSTED_PROXY" = "unix:" ]; then
  CLIENT_ADDRESS="use_remote_address: true"
else
  PROXY_ADDRESS=${TRUSTED_PROXY%/*}
  case "$TRUSTED_PROXY" in */*) PREFIX_LENGTH=${TRUSTED_PROXY#*/} ;; *) PREFIX_LENGTH= ;; esac
  case "$PREFIX_LENGTH" in *[!0-9]*|????*) refuse_trusted_proxy ;; esac
  case "$PROXY_ADDRESS" in
    *:*)
      # IPv6 (Envoy refuses to start on one it cannot parse).
      case "$PROXY_ADDRESS" in *[!0-9A-Fa-f:.]*) refuse_trusted_proxy ;; esac
      MAX_PREFIX=128 ;;
    *)
      case "$PROXY_ADDRESS" in ""|.*|*.|*..*|*[!0-9.]*) refuse_trusted_proxy ;; esac
      is_ipv4 "$PROXY_ADDRESS" || refuse_trusted_proxy
      MAX_PREFIX=32 ;;
  esac
  PREFIX_LENGTH=${PREFIX_LENGTH:-$MAX_PREFIX}
  [ "$PREFIX_LENGTH" -le "$MAX_PREFIX" ] || refuse_trusted_proxy
  # /0 would believe every client's X-Forwarded-For.
  [ "$PREFIX_LENGTH" -gt 0 ] || refuse_trusted_proxy
  CLIENT_ADDRESS="original_ip_detection_extensions: [{ name: envoy.extensions.http.original_ip_detection.xff, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig, xff_trusted_cidrs: { cidrs: [{ address_prefix: \"$PROXY_ADDRESS\", prefix_len: $PREFIX_LENGTH }] } } }]"
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
    -e "s|{{CLIENT_ADDRESS}}|${CLIENT_ADDRESS}|g" \
    "${1:?usage: render.sh TEMPLATE}"

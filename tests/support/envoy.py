"""Envoy configurations for the host tests and the proxy benchmark: a listener
with the given HTTP filters that routes every path to one static upstream (or
answers itself), and the proxy_filter wasm filter entry."""

from __future__ import annotations

import json
from pathlib import Path

FRONT = """
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {admin}}}}}}}
static_resources:
  listeners:
  - address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: front
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{{match: {{prefix: "{prefix}"}}, {action}}}]
          http_filters:
{filters}
          - name: envoy.filters.http.router
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}
{clusters}"""

UPSTREAM_CLUSTER = """
  clusters:
  - name: upstream
    type: STATIC
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {upstream}}}}}}}
"""

WASM_FILTER = """
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                root_id: pg_auth_filter
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: {config}
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  code: {{local: {{filename: "{wasm}"}}}}
"""


def front_config(admin: int, port: int, upstream: int, filters: str = "", strip_rest: bool = False) -> str:
    """Proxies every request to 127.0.0.1:`upstream` through `filters`; with
    `strip_rest`, only /rest/..., without that prefix (PostgREST behind)."""
    prefix, action = ("/rest/", 'route: {cluster: upstream, prefix_rewrite: "/"}') if strip_rest else \
        ("/", "route: {cluster: upstream}")
    return FRONT.format(admin=admin, port=port, filters=filters, action=action, prefix=prefix,
                        clusters=UPSTREAM_CLUSTER.format(upstream=upstream))


def direct_response_config(admin: int, port: int, body: str) -> str:
    """Answers every request itself with 200 and `body`: an upstream that is never the bottleneck."""
    action = f"direct_response: {{status: 200, body: {{inline_string: {json.dumps(body)}}}}}"
    return FRONT.format(admin=admin, port=port, filters="", action=action, prefix="/", clusters="")


def wasm_filter(config: dict, wasm: Path) -> str:
    """The proxy_filter entry; the JSON configuration as a YAML string."""
    return WASM_FILTER.format(config=json.dumps(json.dumps(config)), wasm=wasm)

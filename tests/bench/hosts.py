#!/usr/bin/env python3
"""The forward-auth gate behind stock proxies, against those proxies'
copy-only path and against Envoy with the wasm filter, side by side in one
run (alternating over ROUNDS rounds). The same wrk load: a private route
with a valid access cookie. Behind every front, either an Envoy that answers
with a direct_response (default: the proxies' own cost, the upstream never
the bottleneck) or, with --postgrest, the real PostgREST reading a table
(what users see). Also wrk straight at the gate (one worker thread):
decisions per second. Run on demand:

    python3 tests/bench/hosts.py [--seconds 10] [--rounds 2] [--postgrest]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: the stack controller and the test helpers are importable.
sys.path[:0] = [str(Path(__file__).resolve().parents[2] / "stack"), str(Path(__file__).resolve().parents[1])]

import shutil
import subprocess
import tempfile

import fronts
import harness
from harness import ROOT, SECRET_B64, alternate, median, warm_up, wrk

import stack as stack_controller
from processes import LOOPBACK, free_port, http_status, spawn, stop, wait_until
from support import envoy

# The plpgsql + caddy-jwt setup's path without caddy-jwt: the cookie copied
# into Authorization unchecked. The upper bound for any Caddy front.
CADDY_COPY_ONLY = """{
\tadmin off
}
http://127.0.0.1:{$PORT} {
\tbind 127.0.0.1
\t@cookie header_regexp Cookie (^|;\\s*)access_token=[^;]+
\trequest_header @cookie Authorization "Bearer {http.request.cookie.access_token}"
\thandle_path /rest/* {
\t\treverse_proxy {$UPSTREAM}
\t}
}
"""
VARIANTS = ["Caddy, copy only", "Caddy + gate", "nginx + gate", "Envoy + wasm filter", "Envoy, no filter"]


def start_variant(variant: str, workdir: Path, gate: fronts.Server | None, upstream: int,
                  secret: str) -> tuple[str, list[int]]:
    """Starts one front; its URL and the PIDs to stop."""
    if variant == "Caddy, copy only":
        port = free_port()
        caddyfile = workdir / "Caddyfile.copy-only"
        caddyfile.write_text(CADDY_COPY_ONLY)
        log = workdir / "caddy-copy.log"
        pid = spawn([str(fronts.BINARIES["caddy"]), "run", "--config", str(caddyfile), "--adapter", "caddyfile"], log,
                    {"PORT": str(port), "UPSTREAM": f"{LOOPBACK}:{upstream}", "HOME": str(workdir),
                     "XDG_DATA_HOME": str(workdir), "XDG_CONFIG_HOME": str(workdir)})
        url = f"http://{LOOPBACK}:{port}"
        wait_until(lambda: http_status(f"{url}/rest/") == 200, variant, log, pid=pid)
        return url, [pid]
    if variant in ("Caddy + gate", "nginx + gate"):
        kind = "caddy" if variant.startswith("Caddy") else "nginx"
        server = fronts.start_front(kind, workdir / kind, gate, upstream)
        return server.url, [server.pid]
    port, admin = free_port(), free_port()
    filters = "" if variant == "Envoy, no filter" else envoy.wasm_filter(
        {"secret": secret, "secret_is_base64": True}, stack_controller.FILTER_WASM)
    path = workdir / f"envoy-{port}.yaml"
    path.write_text(envoy.front_config(admin, port, upstream, filters, strip_rest=True))
    log = workdir / f"envoy-{port}.log"
    pid = spawn([str(stack_controller.ENVOY), "-c", str(path), "--base-id", str(admin), "--concurrency", "1",
                 "--log-level", "error"], log)
    wait_until(lambda: http_status(f"http://{LOOPBACK}:{admin}/ready") == 200, variant, log, pid=pid)
    return f"http://{LOOPBACK}:{port}", [pid]


def main() -> int:
    args = harness.arguments(__doc__, extra=lambda parser: parser.add_argument(
        "--postgrest", action="store_true", help="PostgREST behind every front"))

    workdir = Path(tempfile.mkdtemp(prefix="hosts-bench-"))
    workdir.chmod(0o755)
    results = {v: [] for v in VARIANTS}
    stack = None
    if args.postgrest:
        stack = stack_controller.Stack.create(workdir / "stack", SECRET_B64)
        stack.start_postgres()
        stack.migrate()
        stack.start_postgrest()
        upstream_port, upstream = stack.ports["postgrest"], None
    else:
        upstream_port, upstream_admin = free_port(), free_port()
        (workdir / "upstream.yaml").write_text(envoy.direct_response_config(upstream_admin, upstream_port, "[]"))
        upstream = spawn([str(stack_controller.ENVOY), "-c", str(workdir / "upstream.yaml"), "--base-id",
                          str(upstream_admin), "--concurrency", "1", "--log-level", "error"], workdir / "upstream.log")
        wait_until(lambda: http_status(f"http://{LOOPBACK}:{upstream_admin}/ready") == 200, "upstream",
                   workdir / "upstream.log", pid=upstream)
    token = harness.token(secret_b64=SECRET_B64)
    headers = {"Cookie": f"access_token={token}"}
    gate_config = workdir / "gate.json"
    gate_config.write_text('{"secret_env": "JWT_SECRET", "secret_is_base64": true}')
    gate = fronts.start_gate(workdir / "gate", SECRET_B64, gate_config)
    try:
        for round_index, variant in alternate(VARIANTS, args.rounds):
            url, pids = start_variant(variant, workdir, gate, upstream_port, SECRET_B64)
            # Without a filter nothing turns the cookie into a Bearer: the client sends one.
            sent = {**headers, "Authorization": f"Bearer {token}"} if variant == "Envoy, no filter" else headers
            try:
                warm_up(f"{url}/rest/task", sent, args.seconds, args.connections)
                results[variant].append(wrk(f"{url}/rest/task", sent, args.seconds, args.connections))
            finally:
                for pid in pids:
                    stop(pid)
            print(f"  round {round_index + 1}: {variant:<22} {results[variant][-1]['rps']:>9.0f} req/s", flush=True)
        gate.stop()
        # The gate alone, one worker thread: what one core decides.
        single = fronts.Server("gate", "", 0, workdir)
        port = free_port()
        single.pid = spawn([str(fronts.GATE), "--config", str(gate_config), "--listen", f"{LOOPBACK}:{port}",
                            "--threads", "1"], workdir / "gate-single.log", {"JWT_SECRET": SECRET_B64})
        wait_until(lambda: http_status(f"http://{LOOPBACK}:{port}/healthz") == 200, "gate", pid=single.pid)
        decisions = []
        for _ in range(args.rounds):
            decisions.append(wrk(f"http://{LOOPBACK}:{port}/auth",
                                 {**headers, "X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/rest/task"},
                                 args.seconds, args.connections))
        single.stop()
    finally:
        gate.stop()
        stop(upstream)
        if stack:
            stack.down()
        shutil.rmtree(workdir, ignore_errors=True)

    behind = "PostgREST reading a table" if args.postgrest else "a direct_response Envoy"
    print(f"\nwrk -t1 -c{args.connections}, {args.seconds} s per run, medians of {args.rounds} rounds, behind {behind}")
    for variant in VARIANTS:
        print(f"  {variant:<22} {median(results[variant], 'rps'):>9.0f} req/s   "
              f"p99 {median(results[variant], 'p99'):>6.0f} µs")
    rate = {v: median(results[v], "rps") for v in VARIANTS}
    print("\nratios (from this run)")
    print(f"  Caddy + gate / Caddy copy-only          {rate['Caddy + gate'] / rate['Caddy, copy only']:>6.2f}"
          "   target >= 0.85")
    print(f"  nginx + gate / Caddy copy-only          {rate['nginx + gate'] / rate['Caddy, copy only']:>6.2f}")
    print(f"  Envoy + wasm filter / Envoy no filter   {rate['Envoy + wasm filter'] / rate['Envoy, no filter']:>6.2f}")
    print(f"\n  the gate alone, one worker thread:      {median(decisions, 'rps'):>9.0f} decisions/s"
          "   target >= 40,000")
    wasm = ROOT / "js" / "pkg" / "node" / "proxy_filter_bg.wasm"
    print(f"  JavaScript package .wasm:               {wasm.stat().st_size / 1024:>9.1f} KB")
    return 0


if __name__ == "__main__":
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "proxy_filter", "--features", "gate",
                    "--bin", "pg_auth_gate"], cwd=ROOT, check=True)
    sys.exit(main())

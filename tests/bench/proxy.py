#!/usr/bin/env python3
"""proxy_filter in Envoy against Envoy's native jwt_authn, side by side in
one run. Front Envoys, each alone in turn (alternating over ROUNDS rounds):
no filter, a no-op proxy-wasm filter (the floor any wasm filter costs), the
host-call floor (the no-op filter making the three host calls proxy_filter
makes and deciding nothing: the floor of any proxy-wasm filter doing this
job), our filter, native jwt_authn with its token cache (jwt_cache_config:
the fair match for our cached filter), and jwt_authn without it (a weaker
extra row); HS256 from the access_token cookie, local JWKS. All proxy to a second
Envoy that answers with a direct_response, so the upstream is never the
bottleneck; the same wrk load: a private route with a valid cookie.
Run on demand:

    python3 tests/bench/proxy.py [--seconds 10] [--rounds 2] [--baseline-wasm OLD.wasm ...]

--baseline-wasm (repeatable) adds a row for another build of the filter
(say, the one before a change), so that a change's effect is measured in
the same run.

On 2 cores, wrk, the proxy and the upstream share CPUs: read the ratios, not
the absolute numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: the stack controller and the test helpers are importable.
sys.path[:0] = [str(Path(__file__).resolve().parents[2] / "stack"), str(Path(__file__).resolve().parents[1])]

import json
import shutil
import subprocess
import tempfile
from contextlib import contextmanager

import harness
from harness import ROOT, SECRET_B64, SECRET_BYTES, alternate, median, print_results, warm_up, wrk

import stack as stack_controller
from processes import LOOPBACK, free_port, http_status, spawn, stop, wait_until
from support import envoy
from support.tokens import b64url

WASM = ROOT / "target" / "wasm32-wasip1" / "wasm"
NOOP = ROOT / "tests" / "bench" / "noop_filter"
NOOP_WASM = NOOP / "target" / "wasm32-wasip1" / "release" / "noop_filter.wasm"
FLOOR_WASM = NOOP / "target" / "host-calls" / "wasm32-wasip1" / "release" / "noop_filter.wasm"
VARIANTS = ["no filter", "no-op wasm filter", "host-call floor", "proxy_filter (wasm)",
            "jwt_authn (native, cached)", "jwt_authn (native, no cache)"]

# jwt_authn's own cache of verified tokens, as a fair match for our cached
# filter (the review measured against it); without it, an extra row.
JWT_CACHE = "\n                  jwt_cache_config: {jwt_cache_size: 1000}"
JWT_AUTHN = """
          - name: envoy.filters.http.jwt_authn
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
              providers:
                pg:
                  local_jwks: {{inline_string: {jwks}}}
                  from_cookies: [access_token]
                  forward: true{cache}
              rules: [{{match: {{prefix: "/"}}, requires: {{provider_name: pg}}}}]
"""


def baseline_name(path: Path) -> str:
    """The row of a --baseline-wasm build: its file name."""
    return f"build {path.name}"


def front_filters(variant: str, baselines: dict[str, Path]) -> str:
    if variant == "no filter":
        return ""
    if variant == "no-op wasm filter":
        return envoy.wasm_filter({}, NOOP_WASM)
    if variant == "host-call floor":
        return envoy.wasm_filter({}, FLOOR_WASM)
    if variant == "proxy_filter (wasm)" or variant in baselines:
        wasm = baselines.get(variant, WASM / "proxy_filter.wasm")
        return envoy.wasm_filter({"secret": SECRET_B64, "secret_is_base64": True}, wasm)
    jwks = json.dumps({"keys": [{"kty": "oct", "alg": "HS256", "k": b64url(SECRET_BYTES)}]})
    return JWT_AUTHN.format(jwks=json.dumps(jwks), cache="" if "no cache" in variant else JWT_CACHE)


def start_upstream(workdir: Path) -> tuple[int, int]:
    """The Envoy every front proxies to, answering at once: (pid, port)."""
    port, admin = free_port(), free_port()
    return start_envoy(workdir, "upstream", envoy.direct_response_config(admin, port, "[]"), admin), port


def start_envoy(workdir: Path, name: str, config: str, admin: int) -> int:
    path = workdir / f"{name}.yaml"
    path.write_text(config)
    log = workdir / f"{name}.log"
    pid = spawn([str(stack_controller.ENVOY), "-c", str(path), "--base-id", str(admin), "--concurrency", "1",
                 "--log-level", "error"], log)
    wait_until(lambda: http_status(f"http://{LOOPBACK}:{admin}/ready") == 200, f"Envoy {name}", log, pid=pid)
    return pid


@contextmanager
def front_envoy(workdir: Path, name: str, upstream_port: int, filters: str):
    """A front Envoy with `filters` before the upstream, stopped on leaving:
    yields the URL to load."""
    port, admin = free_port(), free_port()
    pid = start_envoy(workdir, name, envoy.front_config(admin, port, upstream_port, filters), admin)
    try:
        yield f"http://{LOOPBACK}:{port}/rest/task"
    finally:
        stop(pid)


def main() -> int:
    args = harness.arguments(__doc__, extra=lambda parser: parser.add_argument(
        "--baseline-wasm", type=Path, action="append", default=[],
        help="another proxy_filter.wasm, measured in its own row (repeatable)"))
    baselines = {baseline_name(path): path for path in args.baseline_wasm}
    if len(baselines) < len(args.baseline_wasm):
        raise SystemExit("--baseline-wasm: each build needs its own file name (rows are named after it)")
    variants = VARIANTS + list(baselines)
    build = ["cargo", "build", "-q", "--release", "--target", "wasm32-wasip1"]
    subprocess.run(build, cwd=NOOP, check=True)
    subprocess.run([*build, "--features", "host-calls", "--target-dir", "target/host-calls"], cwd=NOOP, check=True)

    workdir = Path(tempfile.mkdtemp(prefix="proxy-bench-"))
    throughput = {v: [] for v in variants}
    latency = {v: [] for v in variants}
    cookie = {"Cookie": f"access_token={harness.token()}"}
    upstream, upstream_port = start_upstream(workdir)
    try:
        for round_index, variant in alternate(variants, args.rounds):
            name = f"front-{round_index}-{variants.index(variant)}"
            with front_envoy(workdir, name, upstream_port, front_filters(variant, baselines)) as url:
                warm_up(url, cookie, args.seconds, args.connections)
                throughput[variant].append(wrk(url, cookie, args.seconds, args.connections))
                latency[variant].append(wrk(url, cookie, args.seconds, 1))
            rps = throughput[variant][-1]["rps"]
            print(f"  round {round_index + 1}: {variant:<22} {rps:>9.0f} req/s", flush=True)
    finally:
        stop(upstream)
        shutil.rmtree(workdir, ignore_errors=True)

    print_results(variants, throughput, latency, seconds=args.seconds, rounds=args.rounds,
                  connections=args.connections)
    bare, noop, floor, ours, native, uncached = (median(throughput[v], "rps") for v in VARIANTS)
    print("\nratios (from this run)")
    print(f"  proxy_filter / jwt_authn (cached)       {ours / native:>6.2f}   target >= 1.0")
    print(f"  proxy_filter / jwt_authn (no cache)     {ours / uncached:>6.2f}   (weaker baseline)")
    print(f"  proxy_filter / no filter throughput     {ours / bare:>6.2f}   target >= 0.85")
    print(f"  no-op wasm filter / no filter           {noop / bare:>6.2f}   (the floor of any wasm filter)")
    print(f"  no-op wasm filter / jwt_authn (cached)  {noop / native:>6.2f}   (the most any wasm filter can reach)")
    print(f"  host-call floor / jwt_authn (cached)    {floor / native:>6.2f}   (the most this job can reach)")
    print(f"  host-call floor / no filter             {floor / bare:>6.2f}")
    print(f"  proxy_filter / no-op wasm filter        {ours / noop:>6.2f}   (the filter's own cost)")
    print(f"  proxy_filter / host-call floor          {ours / floor:>6.2f}   (the policy's own cost)")
    print(f"  jwt_authn / no filter                   {native / bare:>6.2f}")
    for name in baselines:
        print(f"  proxy_filter / {name:<24}{ours / median(throughput[name], 'rps'):>6.2f}")
    added = median(latency["proxy_filter (wasm)"], "p99") - median(latency["no filter"], "p99")
    added_native = median(latency["jwt_authn (native, cached)"], "p99") - median(latency["no filter"], "p99")
    print(f"  added p99 latency, proxy_filter          {added:>6.0f} µs   target < 100 µs")
    print(f"  added p99 latency, jwt_authn (cached)    {added_native:>6.0f} µs")
    print("\n.wasm sizes")
    for path in (WASM / "proxy_filter.wasm", WASM / "http_wasm_filter.wasm",
                 ROOT / "js" / "pkg" / "node" / "proxy_filter_bg.wasm", NOOP_WASM, FLOOR_WASM):
        print(f"  {path.relative_to(ROOT)!s:<48} {path.stat().st_size / 1024:>7.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""proxy_filter against Envoy's native jwt_authn, side by side in one run.

Three front Envoys, each alone in turn (alternating over ROUNDS rounds): no
auth filter, our filter, and native jwt_authn (HS256 from the access_token
cookie, local JWKS). All proxy to a second Envoy that answers with a
direct_response, so the upstream is never the bottleneck. The same wrk load:
a private route with a valid cookie. Prints requests/s, p50/p99 and ratios,
and the size of each .wasm. Run on demand:

    python3 tests/bench/proxy.py [--seconds 10] [--rounds 2]

On 2 cores, wrk, the proxy and the upstream share CPUs: read the ratios, not
the absolute numbers.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "stack"))
sys.path.insert(0, str(ROOT / "tests"))
import stack as stack_controller  # noqa: E402
from support import envoy  # noqa: E402

WASM = ROOT / "target" / "wasm32-wasip1" / "wasm"
SECRET_BYTES = os.urandom(32)
SECRET_B64 = base64.b64encode(SECRET_BYTES).decode()

JWT_AUTHN = """
          - name: envoy.filters.http.jwt_authn
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
              providers:
                pg:
                  local_jwks: {{inline_string: {jwks}}}
                  from_cookies: [access_token]
                  forward: true
              rules: [{{match: {{prefix: "/"}}, requires: {{provider_name: pg}}}}]
"""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token() -> str:
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    claims = {"role": "basic_subscriber", "username": "demo", "sub": "demo",
              "iat": int(time.time()), "exp": int(time.time()) + 3600}
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(SECRET_BYTES, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def front_filters(variant: str) -> str:
    if variant == "no auth filter":
        return ""
    if variant == "proxy_filter (wasm)":
        config = {"secret": SECRET_B64, "secret_is_base64": True, "public_routes": []}
        return envoy.wasm_filter(config, WASM / "proxy_filter.wasm")
    jwks = json.dumps({"keys": [{"kty": "oct", "alg": "HS256", "k": b64url(SECRET_BYTES)}]})
    return JWT_AUTHN.format(jwks=json.dumps(jwks))


class Envoy:
    def __init__(self, workdir: Path, name: str, config: str, admin: int):
        self.path = workdir / f"{name}.yaml"
        self.path.write_text(config)
        self.admin = admin
        self.log = (workdir / f"{name}.log").open("wb")
        self.process = subprocess.Popen(
            ["sh", "-c", '"$@" & wait $!', "sh", str(stack_controller.ENVOY), "-c", str(self.path),
             "--base-id", str(admin), "--concurrency", "1", "--log-level", "error"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        stack_controller.wait_until(
            lambda: stack_controller.http_status(f"http://127.0.0.1:{admin}/ready") == 200,
            f"Envoy {name}", workdir / f"{name}.log")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)


def to_micros(text: str) -> float:
    value, unit = re.match(r"([0-9.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1, "ms": 1000, "s": 1_000_000}[unit]


def wrk(url: str, cookie: str, seconds: int, connections: int) -> dict[str, float]:
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Cookie: access_token={cookie}", url],
        capture_output=True, text=True, check=True)
    out = result.stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{non_2xx.group(1)} non-2xx responses from {url}:\n{out}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),
        "p50": to_micros(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)),
        "p99": to_micros(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="proxy-bench-"))
    variants = ["no auth filter", "proxy_filter (wasm)", "jwt_authn (native)"]
    throughput = {v: [] for v in variants}
    latency = {v: [] for v in variants}
    cookie = token()
    upstream_port, upstream_admin = stack_controller.free_port(), stack_controller.free_port()
    upstream_config = envoy.direct_response_config(upstream_admin, upstream_port, "[]")
    upstream = Envoy(workdir, "upstream", upstream_config, upstream_admin)
    try:
        for round_index in range(args.rounds):
            order = variants if round_index % 2 == 0 else list(reversed(variants))
            for variant in order:
                port, admin = stack_controller.free_port(), stack_controller.free_port()
                config = envoy.front_config(admin, port, upstream_port, front_filters(variant))
                front = Envoy(workdir, f"front-{round_index}-{variants.index(variant)}", config, admin)
                try:
                    url = f"http://127.0.0.1:{port}/rest/task"
                    wrk(url, cookie, 2, args.connections)  # warm up
                    throughput[variant].append(wrk(url, cookie, args.seconds, args.connections))
                    latency[variant].append(wrk(url, cookie, args.seconds, 1))
                finally:
                    front.stop()
                rps = throughput[variant][-1]["rps"]
                print(f"  round {round_index + 1}: {variant:<22} {rps:>9.0f} req/s", flush=True)
    finally:
        upstream.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    def median(samples, key):
        return statistics.median(sample[key] for sample in samples)

    print(f"\nwrk -t1, {args.seconds} s per run, medians of {args.rounds} rounds; "
          f"throughput at {args.connections} connections, latency at 1 connection")
    print(f"  {'variant':<22} {'req/s':>9} {'p50 µs':>8} {'p99 µs':>8}")
    for variant in variants:
        print(f"  {variant:<22} {median(throughput[variant], 'rps'):>9.0f} "
              f"{median(latency[variant], 'p50'):>8.0f} {median(latency[variant], 'p99'):>8.0f}")
    ours, native, bare = (median(throughput[v], "rps") for v in variants[1:] + variants[:1])
    print("\nratios (from this run)")
    print(f"  proxy_filter / jwt_authn throughput     {ours / native:>6.2f}   target >= 0.95")
    print(f"  proxy_filter / no filter throughput     {ours / bare:>6.2f}")
    added = median(latency["proxy_filter (wasm)"], "p99") - median(latency["no auth filter"], "p99")
    added_native = median(latency["jwt_authn (native)"], "p99") - median(latency["no auth filter"], "p99")
    print(f"  added p99 latency, proxy_filter          {added:>6.0f} µs   target < 100 µs")
    print(f"  added p99 latency, jwt_authn             {added_native:>6.0f} µs")
    print("\n.wasm sizes (target < 200 KB)")
    for name in ("proxy_filter.wasm", "http_wasm_filter.wasm"):
        print(f"  {name:<24} {(WASM / name).stat().st_size / 1024:>7.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

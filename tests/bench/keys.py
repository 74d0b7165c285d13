#!/usr/bin/env python3
"""Key pairs in the proxy: proxy_filter in Envoy against Envoy's native
jwt_authn (local_jwks) with its token cache (jwt_cache_config), and without
it as a weaker extra row, HS256, ES256 and EdDSA side by side in one run,
each front alone in turn and in alternating order over ROUNDS rounds, all
proxying to a second Envoy that answers at once.

- same token: every request carries one access cookie (the usual case: a
  browser sends its cookie until it is refreshed);
- unique tokens: each request carries another ES256 token, more than the
  cache holds, with proxy_filter's token cache on (always missing) and off.

    python3 tests/bench/keys.py [--seconds 10] [--rounds 2]

On 2 cores, wrk, the proxy and the upstream share CPUs: read the ratios.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2] / "stack"), str(Path(__file__).resolve().parents[1])]

import json
import os
import shutil
import subprocess
import tempfile

import harness
from harness import ROOT, SECRET_B64, SECRET_BYTES, alternate, median, print_results, wrk
from proxy import JWT_AUTHN, JWT_CACHE, WASM, front_envoy, start_upstream

from processes import stop
from support import envoy
from support.tokens import b64url

ALGORITHMS = ["HS256", "ES256", "EdDSA"]
# Each wrk run of a unique-token variant starts where the runs before it on
# the same Envoy stopped (TOKEN_OFFSET), so that no token is sent twice to
# one Envoy and the caches never hit. The list holds this many tokens per
# second of each of its three runs; a run that would need more fails.
TOKENS_PER_SECOND = 10_000
SAME = [f"{who} {alg}" for alg in ALGORITHMS for who in ("proxy_filter", "jwt_authn", "jwt_authn-nocache")]
UNIQUE = ["proxy_filter ES256 unique, cache on", "proxy_filter ES256 unique, cache off", "jwt_authn ES256 unique"]
VARIANTS = SAME + UNIQUE
LUA = """
local tokens = {}
for line in io.lines("%s") do tokens[#tokens + 1] = line end
local i = tonumber(os.getenv("TOKEN_OFFSET") or "0")
request = function()
  i = i %% #tokens + 1
  return wrk.format(nil, nil, {["Cookie"] = "access_token=" .. tokens[i]})
end
"""


def mint(algorithm: str, count: int) -> tuple[dict, list[str]]:
    out = subprocess.run(["cargo", "run", "-q", "--release", "-p", "jwt_core", "--example", "mint", "--",
                          algorithm, str(count), "3600"], cwd=ROOT, check=True, capture_output=True, text=True)
    minted = json.loads(out.stdout)
    return minted["jwks"], minted["tokens"]


def filters(variant: str, keys: dict[str, dict]) -> str:
    who, algorithm = variant.split()[:2]
    if algorithm == "HS256":
        jwks = {"keys": [{"kty": "oct", "alg": "HS256", "k": b64url(SECRET_BYTES)}]}
        ours = {"secret": SECRET_B64, "secret_is_base64": True}
    else:
        jwks = keys[algorithm]
        ours = {"jwks": jwks, **({"token_cache_size": 0} if "cache off" in variant else {})}
    if who == "proxy_filter":
        return envoy.wasm_filter(ours, WASM / "proxy_filter.wasm")
    return JWT_AUTHN.format(jwks=json.dumps(json.dumps(jwks)), cache="" if who == "jwt_authn-nocache" else JWT_CACHE)


def main() -> int:
    args = harness.arguments(__doc__)

    workdir = Path(tempfile.mkdtemp(prefix="keys-bench-"))
    keys, tokens = {}, {"HS256": [harness.token()]}
    for algorithm in ("ES256", "EdDSA"):
        count = 3 * TOKENS_PER_SECOND * args.seconds if algorithm == "ES256" else 1
        keys[algorithm], tokens[algorithm] = mint(algorithm, count)
    unique_list = workdir / "tokens.txt"
    unique_list.write_text("\n".join(tokens["ES256"]) + "\n")
    script = workdir / "unique.lua"
    script.write_text(LUA % unique_list)

    throughput = {v: [] for v in VARIANTS}
    latency = {v: [] for v in VARIANTS}
    upstream, upstream_port = start_upstream(workdir)
    try:
        for round_index, variant in alternate(VARIANTS, args.rounds):
            name = f"front-{round_index}-{VARIANTS.index(variant)}"
            with front_envoy(workdir, name, upstream_port, filters(variant, keys)) as url:
                algorithm = variant.split()[1]
                cookie = {"Cookie": f"access_token={tokens[algorithm][0]}"}
                headers, lua = ({}, script) if variant in UNIQUE else (cookie, None)
                runs, sent = [], 0
                for connections in (args.connections, args.connections, 1):
                    os.environ["TOKEN_OFFSET"] = str(sent)
                    runs.append(wrk(url, headers, args.seconds, connections, lua))
                    # wrk counts the answers; up to one request per
                    # connection was sent and not answered in time.
                    sent += int(runs[-1]["requests"]) + connections
                if lua and sent > len(tokens["ES256"]):
                    raise SystemExit(f"{variant}: {sent} requests, {len(tokens['ES256'])} tokens: "
                                     "raise TOKENS_PER_SECOND in tests/bench/keys.py")
                _warm_up, measured, one_connection = runs
                throughput[variant].append(measured)
                latency[variant].append(one_connection)
            print(f"  round {round_index + 1}: {variant:<38} {throughput[variant][-1]['rps']:>9.0f} req/s",
                  flush=True)
    finally:
        stop(upstream)
        shutil.rmtree(workdir, ignore_errors=True)

    print_results(VARIANTS, throughput, latency, seconds=args.seconds, rounds=args.rounds,
                  connections=args.connections)
    rps = {v: median(throughput[v], "rps") for v in VARIANTS}
    p50 = {v: median(latency[v], "p50") for v in VARIANTS}
    print("\nratios (from this run)")
    for algorithm in ALGORITHMS:
        ratio = rps[f"proxy_filter {algorithm}"] / rps[f"jwt_authn {algorithm}"]
        print(f"  proxy_filter / jwt_authn (cached), {algorithm:<6} same token  {ratio:>6.2f}   target >= 1.0")
        ratio = rps[f"proxy_filter {algorithm}"] / rps[f"jwt_authn-nocache {algorithm}"]
        print(f"  proxy_filter / jwt_authn (no cache), {algorithm:<6} same token {ratio:>5.2f}   (weaker baseline)")
    ratio = rps["proxy_filter ES256 unique, cache on"] / rps["jwt_authn ES256 unique"]
    print(f"  proxy_filter / jwt_authn (cached), ES256 unique tokens  {ratio:>6.2f}   target >= 0.5")
    on, off = rps["proxy_filter ES256 unique, cache on"], rps["proxy_filter ES256 unique, cache off"]
    print(f"  cache on / off, ES256 unique tokens (all misses)     {on / off:>6.2f}   (the cost of a useless cache)")
    print(f"  proxy_filter ES256, same token / unique tokens       "
          f"{rps['proxy_filter ES256'] / off:>6.2f}   (what the cache saves)")
    print("\nES256 verification in the wasm filter, by latency at 1 connection "
          "(unique token, cache off, minus same token, cache on)")
    print(f"  ~{p50['proxy_filter ES256 unique, cache off'] - p50['proxy_filter ES256']:.0f} µs per verification; "
          f"unique-token verifications/s at {args.connections} connections: "
          f"{rps['proxy_filter ES256 unique, cache off']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The authenticated read path as shipped, against the setup it replaces, side
by side in one run, in alternating rounds. The shipped rows run the demo's
stack (PostgREST 12.0.2 with stack/postgrest.conf, signing with an ES256 key
pair) with the demo's token:

  - the legacy setup's path (the baseline): stock Caddy copying the access
    cookie into Authorization unchecked (caddy-jwt's work left out, so the
    legacy setup at its best) to a PostgREST that checks HS256 with its
    jwt-secret, no in-database configuration and no JWT cache, as the
    plpgsql + caddy-jwt setup ran it;
  - PostgREST direct, as shipped (its JWT cache on);
  - PostgREST direct without the JWT cache (labelled: what the demo ran
    before, verifying every ES256 signature);
  - the full paths as shipped: Envoy + filter + ended-sessions feed, and
    each stock front with pg_auth_gate (public keys only): Caddy 2.6 and 2.11,
    nginx, Traefik.

Prints req/s and latency per variant and each full path's ratio to the legacy
setup's path. Run on demand:

    python3 tests/bench/read_path.py [--seconds 5] [--rounds 3] [--connections 8]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2] / "stack"), str(Path(__file__).resolve().parents[1])]

import fronts  # noqa: E402
from harness import alternate, arguments, median, print_results, wrk  # noqa: E402
from hosts import start_variant  # noqa: E402

import stack as stack_controller  # noqa: E402
from processes import LOOPBACK, free_port, stop  # noqa: E402
from support.flow import login  # noqa: E402
from support.tokens import claims_of, mint  # noqa: E402

LEGACY_SETUP = "legacy setup: Caddy copying the cookie -> PostgREST HS256 (baseline)"
FULL_PATHS = ("Envoy + filter + feed, shipped", "Caddy 2.6 + gate, shipped", "Caddy 2.11 + gate, shipped",
              "nginx + gate, shipped", "Traefik + gate, shipped")
# The stock fronts, in FULL_PATHS' order after Envoy.
GATE_FRONTS = ("caddy", "caddy-latest", "nginx", "traefik")


def main(argv: list[str]) -> int:
    args = arguments(__doc__, argv, seconds=5, rounds=3, connections=8)

    with stack_controller.Stack.scratch("pg-auth-bench-read-", signing="keys") as bench:
        directory = bench.dir
        started: list = []
        try:
            bench.up()
            shipped = stack_controller.POSTGREST_CONF.read_text()
            without_cache = re.sub(r"(?m)^jwt-cache-max-lifetime = \d+$", "jwt-cache-max-lifetime = 0", shipped)
            (directory / "postgrest-uncached.conf").write_text(without_cache)
            uncached_port, old_port = free_port(), free_port()
            uncached_conf = directory / "postgrest-uncached.conf"
            bench.start_postgrest("postgrest_uncached", uncached_port, free_port(), conf=uncached_conf)
            # The legacy setup's PostgREST: its jwt-secret, not the database's JWKS.
            bench.start_postgrest("postgrest_old", old_port, free_port(), {"PGRST_DB_CONFIG": "false"},
                                  conf=uncached_conf)
            old_url, pids = start_variant("Caddy, copy only", directory, None, old_port, bench.secret)
            started += pids
            gate = fronts.start_gate(directory / "gate", None, fronts.FILTER_CONFIGS["keys"], bench.postgrest_url)
            started.append(gate.pid)
            gated = [fronts.start_front(front, directory / front, gate, bench.ports["postgrest"])
                     for front in GATE_FRONTS]
            started += [front.pid for front in gated]

            access = login(bench.proxy_url).cookie_value("access_token")
            old_token = mint(bench.secret, claims_of(access))
            cookie, bearer = {"Cookie": f"access_token={access}"}, {"Authorization": f"Bearer {access}"}
            variants = {
                LEGACY_SETUP: (f"{old_url}/rest/task", {"Cookie": f"access_token={old_token}"}),
                "PostgREST direct, shipped (JWT cache on)": (f"{bench.postgrest_url}/task", bearer),
                "PostgREST direct, no JWT cache (before)": (f"http://{LOOPBACK}:{uncached_port}/task", bearer),
                FULL_PATHS[0]: (f"{bench.proxy_url}/rest/task", cookie),
                **{name: (f"{front.url}/rest/task", cookie) for name, front in zip(FULL_PATHS[1:], gated, strict=True)},
            }
            names = list(variants)
            throughput: dict = {name: [] for name in names}
            latency: dict = {name: [] for name in names}
            for _, name in alternate(names, args.rounds):
                url, headers = variants[name]
                throughput[name].append(wrk(url, headers, args.seconds, args.connections))
                latency[name].append(wrk(url, headers, max(1, args.seconds // 2), 1))
            print_results(names, throughput, latency, seconds=args.seconds, rounds=args.rounds,
                          connections=args.connections)
            baseline = median(throughput[LEGACY_SETUP], "rps")
            print("\nratios of req/s to the legacy setup's path "
                  "(targets: Envoy >= 1.0, each stock front + gate >= 0.85):")
            for name in (*FULL_PATHS, names[1], names[2]):
                print(f"  {name}: {median(throughput[name], 'rps') / baseline:.2f}")
        finally:
            for pid in started:
                stop(pid)
            bench.stop_process("postgrest_uncached")
            bench.stop_process("postgrest_old")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

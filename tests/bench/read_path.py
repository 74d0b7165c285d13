#!/usr/bin/env python3
"""The authenticated read path as shipped: the demo's stack (PostgREST 12.0.2
with stack/postgrest.conf, signing with an ES256 key pair, Envoy with the
filter and the ended-sessions feed), side by side in one run, in alternating
rounds, with the same token:

  - PostgREST direct, as shipped (its JWT cache on);
  - PostgREST direct, the same configuration with jwt-cache-max-lifetime = 0
    (labelled: what the demo ran before, verifying every ES256 signature);
  - the full path through Envoy, as shipped.

Prints req/s and latency per variant and the ratios against the uncached
PostgREST. Run on demand:

    python3 tests/bench/read_path.py [--seconds 5] [--rounds 3] [--connections 8]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2] / "stack"), str(Path(__file__).resolve().parents[1])]

from harness import alternate, median, print_results, wrk  # noqa: E402

import stack as stack_controller  # noqa: E402
from processes import LOOPBACK, free_port  # noqa: E402
from support.flow import login  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)

    directory = Path(tempfile.mkdtemp(prefix="pg-auth-bench-read-"))
    bench = stack_controller.Stack.create(directory, stack_controller.new_secret(), free_port(), "keys")
    try:
        bench.up()
        uncached_conf = directory / "postgrest-uncached.conf"
        shipped = stack_controller.POSTGREST_CONF.read_text()
        uncached_conf.write_text(re.sub(r"(?m)^jwt-cache-max-lifetime = \d+$", "jwt-cache-max-lifetime = 0",
                                        shipped))
        uncached_port = free_port()
        bench.start_postgrest("postgrest_uncached", uncached_port, free_port(), conf=uncached_conf)
        access = login(bench.proxy_url).cookie_value("access_token")
        bearer = {"Authorization": f"Bearer {access}"}
        variants = {
            "PostgREST direct, shipped (JWT cache on)": (f"{bench.postgrest_url}/task", bearer),
            "PostgREST direct, no JWT cache (before)": (f"http://{LOOPBACK}:{uncached_port}/task", bearer),
            "Envoy + filter + feed, shipped": (f"{bench.proxy_url}/rest/task", {"Cookie": f"access_token={access}"}),
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
        baseline = median(throughput[names[1]], "rps")
        print("\nratios of req/s against PostgREST direct without the JWT cache (ES256, as the demo ran before):")
        for name in (names[0], names[2]):
            print(f"  {name}: {median(throughput[name], 'rps') / baseline:.2f}")
    finally:
        bench.stop_process("postgrest_uncached")
        bench.down()
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What the on-demand benchmarks share: wrk runs, rounds in alternating
order, medians, and a token signed with a fresh key."""

from __future__ import annotations

import argparse
import base64
import os
import re
import statistics
import subprocess
import time
from pathlib import Path

from support.tokens import mint

ROOT = Path(__file__).resolve().parents[2]

SECRET_BYTES = os.urandom(32)
SECRET_B64 = base64.b64encode(SECRET_BYTES).decode()


def arguments(doc: str, argv=None, *, seconds: int = 10, rounds: int = 2, connections: int = 16,
              extra=None) -> argparse.Namespace:
    """Every benchmark's command line: --seconds per run, --rounds in
    alternating order, --connections for wrk; `extra(parser)` adds its own."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--seconds", type=int, default=seconds, help="per run")
    parser.add_argument("--rounds", type=int, default=rounds, help="each variant once per round, order alternating")
    parser.add_argument("--connections", type=int, default=connections, help="wrk connections")
    if extra:
        extra(parser)
    return parser.parse_args(argv)


def token(lifetime: int = 3600, secret_b64: str = SECRET_B64) -> str:
    """An access token as the extension issues them, signed with the key."""
    claims = {"role": "basic_subscriber", "username": "demo", "sub": "demo",
              "iat": int(time.time()), "exp": int(time.time()) + lifetime}
    return mint(secret_b64, claims)


def to_micros(text: str) -> float:
    value, unit = re.match(r"([0-9.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1, "ms": 1000, "s": 1_000_000}[unit]


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int,
        script: Path | None = None) -> dict[str, float]:
    """Requests/s and latency percentiles of one wrk run (with a Lua `script`
    if given); every answer must be 2xx."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{non_2xx.group(1)} non-2xx responses from {url}:\n{out}")
    return {
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),
        "p50": to_micros(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)),
        "p99": to_micros(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)),
    }


def warm_up(url: str, headers: dict[str, str], seconds: int, connections: int) -> None:
    """A wrk run whose figures are dropped: connections, caches and JIT warm.
    Two seconds, or a run's length when that is shorter (brief runs)."""
    wrk(url, headers, min(2, seconds), connections)


def alternate(variants: list[str], rounds: int):
    """(round, variant) in the order the rounds run them: reversed every other round."""
    for index in range(rounds):
        for variant in variants if index % 2 == 0 else list(reversed(variants)):
            yield index, variant


def median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def print_results(variants: list[str], throughput: dict, latency: dict, *, seconds: int, rounds: int,
                  connections: int) -> None:
    """The medians table of a wrk comparison: req/s, p50 and p99 per variant."""
    width = max(len(v) for v in variants)
    print(f"\nwrk -t1, {seconds} s per run, medians of {rounds} rounds; "
          f"throughput at {connections} connections, latency at 1 connection")
    print(f"  {'variant':<{width}} {'req/s':>9} {'p50 µs':>8} {'p99 µs':>8}")
    for variant in variants:
        print(f"  {variant:<{width}} {median(throughput[variant], 'rps'):>9.0f} "
              f"{median(latency[variant], 'p50'):>8.0f} {median(latency[variant], 'p99'):>8.0f}")

#!/usr/bin/env python3
"""Accounts people open and recover, on the demo's stack as shipped (Envoy
with the filter and its login rate limits, PostgREST, the extension with
its throttle, sign-up open as the demo opens it, a local SMTP server and
pg_auth_mailer running), side by side in one run, in alternating rounds:

  - logins (the demo user), sign-ups (a new address each) and password
    reset requests (a different account each) per second through Envoy,
    CONNECTIONS at a time, each request from the next of 253 loopback
    addresses (127.0.0.2...), as from many users. Logins and sign-ups
    both hash a password once (bcrypt): their ratio should be about 1. A
    reset request hashes nothing but answers no sooner than
    auth.mail_link_floor(); Envoy's ceiling for the account routes (50 a
    second for all clients) caps it, and Envoy lets AUTH_CONCURRENCY (3) of
    these calls reach PostgREST at once, answering 503 beyond. Refusals are
    counted apart (the client then waits as Retry-After says, or 0.1 s after
    a 503); anything else fails the run;
  - pg_auth_mailer sending a backlog of MAILS messages into the SMTP
    server (aiosmtpd), messages per second with one mailer and with two.

Run on demand:

    python3 tests/bench/accounts.py [--seconds 5] [--rounds 3] [--connections 8] [--mails 300]
"""

from __future__ import annotations

import itertools
import json
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2] / "stack"), str(Path(__file__).resolve().parents[1])]

from harness import alternate, arguments  # noqa: E402

import stack as stack_controller  # noqa: E402
from support.accounts import STRONG, verified_accounts  # noqa: E402
from support.flow import AUTH  # noqa: E402
from support.http import request  # noqa: E402

LOGINS, SIGNUPS, RESETS = "logins", "sign-ups", "reset requests"
# Enough accounts for every reset request a run can send (refused ones
# too), each asked about once: Envoy lets through 100 at once, then 50 a second.
MAX_RESETS_PER_SECOND = 150
OVERFLOW_WAIT = 0.1
# Each request comes from the next of these, as from many users: the
# extension allows one client address 100 sign-ups and reset requests an
# hour (pg_auth.login_max_failures_per_address), which a run would spend.
CLIENT_ADDRESSES = itertools.cycle([f"127.0.0.{n}" for n in range(2, 255)])


def load(url: str, bodies, seconds: int, connections: int) -> dict[str, float]:
    """POSTs from `connections` clients for `seconds`: 2xx per second,
    latency percentiles, and the answers refused by Envoy's limits (429, or
    503 beyond AUTH_CONCURRENCY at once) or the extension's throttle (429)."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    limited, unexpected = [], []
    lock = threading.Lock()

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                body, source = json.dumps(next(bodies, None)), next(CLIENT_ADDRESSES)
                if body == "null":
                    unexpected.append("ran out of accounts to ask about")
                    return
            started = time.perf_counter()
            response = request("POST", url, AUTH, body, source=source)
            elapsed = time.perf_counter() - started
            with lock:
                if 200 <= response.status < 300:
                    latencies.append(elapsed * 1e6)
                elif response.status == 429 or overflow(response):
                    limited.append(response.status == 429 and b"local_rate_limited" not in response.body)
                else:
                    unexpected.append((response.status, response.body[:200]))
            if response.status == 429 or overflow(response):
                # As a client does: waits as told (a moment for a 503) before it asks again.
                wait = float(response.header("retry-after") or OVERFLOW_WAIT)
                time.sleep(min(wait, max(0, deadline - time.monotonic())))

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if unexpected:
        raise RuntimeError(f"{url}: {len(unexpected)} unexpected answers, e.g. {unexpected[:3]}")
    if not latencies:
        raise RuntimeError(f"{url}: no request succeeded")
    cuts = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / (time.monotonic() - started), "p50": cuts[49], "p99": cuts[98],
            "proxy refused": len(limited) - sum(limited), "extension 429": sum(limited)}


def overflow(response) -> bool:
    """Envoy's cap on auth RPCs at once (AUTH_CONCURRENCY): 503 at once."""
    return response.status == 503 and b"overflow" in response.body


def drain_seconds(bench, mails: int, mailers: int) -> float:
    """Seconds from starting `mailers` mailers to every one of `mails`
    pending messages sent."""
    for name in ("mailer", "mailer-2"):
        bench.stop_process(name)
    bench.psql(sql="delete from auth.outbox")
    bench.psql(sql=f"select auth.enqueue_mail('signup_existing', 'drain-' || n || '@example.org', "
                   f"jsonb_build_object('username', 'drain-' || n)) from generate_series(1, {mails}) n")
    started = time.monotonic()
    for name in ("mailer", "mailer-2")[:mailers]:
        bench.start_mailer(name)
    while True:
        pending = int(bench.psql("-A", "-t", sql="select count(*) from auth.outbox where sent_at is null").strip())
        if pending == 0:
            return time.monotonic() - started
        if time.monotonic() - started > 120:
            raise RuntimeError(f"{pending} of {mails} messages still pending after 120 s")
        time.sleep(0.02)


def main(argv: list[str]) -> int:
    args = arguments(__doc__, argv, seconds=5, rounds=3, connections=8,
                     extra=lambda parser: parser.add_argument("--mails", type=int, default=300))
    with stack_controller.Stack.scratch("pg-auth-bench-accounts-", signing="keys") as bench:
        try:
            bench.up()
            bench.start_mail()
            resets = iter(verified_accounts(bench, args.seconds * args.rounds * MAX_RESETS_PER_SECOND + 100, "reset"))
            tag = secrets.token_hex(4)
            bodies = {
                LOGINS: itertools.repeat({"user_": "demo", "pass": "demo"}),
                SIGNUPS: ({"email": f"signup-{tag}-{n}@example.org", "pass": STRONG} for n in itertools.count()),
                RESETS: ({"email": address} for address in resets),
            }
            paths = {LOGINS: "login", SIGNUPS: "signup", RESETS: "request_password_reset"}
            results: dict[str, list] = {name: [] for name in bodies}
            for _, name in alternate(list(bodies), args.rounds):
                results[name].append(load(f"{bench.proxy_url}/rpc/{paths[name]}", bodies[name], args.seconds,
                                          args.connections))
            print(f"\nthrough Envoy as shipped, {args.connections} clients, {args.seconds} s per run, "
                  f"medians of {args.rounds} rounds")
            print(f"  {'calls':<15} {'per s':>7} {'p50 ms':>7} {'p99 ms':>7} "
                  f"{'proxy refused':>14} {'extension 429':>14}")
            for name, runs in results.items():
                med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                print(f"  {name:<15} {med['rps']:>7.1f} {med['p50'] / 1000:>7.1f} {med['p99'] / 1000:>7.1f} "
                      f"{med['proxy refused']:>14.0f} {med['extension 429']:>14.0f}")
            logins = statistics.median(run["rps"] for run in results[LOGINS])
            print("\nratios to logins per second:")
            for name in (SIGNUPS, RESETS):
                print(f"  {name} / logins: {statistics.median(run['rps'] for run in results[name]) / logins:.2f}")

            drains: dict[int, list[float]] = {1: [], 2: []}
            for _, mailers in alternate([1, 2], args.rounds):
                drains[mailers].append(args.mails / drain_seconds(bench, args.mails, mailers))
            print(f"\npg_auth_mailer into aiosmtpd, a backlog of {args.mails}, medians of {args.rounds} rounds:")
            for mailers, rates in drains.items():
                print(f"  {mailers} mailer{'s' if mailers > 1 else ''}: {statistics.median(rates):.0f} messages/s")
        finally:
            bench.stop_process("mailer-2")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Soak: simulated users against the real local stack (PostgreSQL,
PostgREST, Envoy with the filter) while the harness restarts PostgREST, then
Envoy, then PostgreSQL (fast shutdown), each once, between steady phases.
Each user loops: login, reads with think times, a refresh now and then, and
sometimes a logout (after which it checks that its old access token is
refused once the revocation delay has passed) or a deliberate replay of a
rotated refresh token after the grace window (which must fail). Then a
bad-input run: mutated cookies, tokens, JSON bodies and headers at a bounded
rate through the proxy and the gate. Everything on 127.0.0.1, bounded in
users, time and rate; it stops by itself.

    python3 tests/soak/soak.py [--users 200] [--phase-seconds 30] [--bad-requests 5000]

Prints per phase: requests by outcome, p50/p99 latency, req/s; the time
until the stack serves again after each restart; and the invariants, each
of which must be 0: sessions lost, refresh tokens that worked twice after
the grace window, ended sessions' tokens that reached data after the
revocation delay, 5xx answers of our code to bad input, crashed processes.
Exit status 1 when an invariant is not 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2] / "stack"), str(Path(__file__).resolve().parents[1])]

import argparse
import json
import random
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field

import fronts

import stack as stack_controller
from processes import pid_alive
from support.flow import AUTH, REVOCATION_HARD_BOUND_SECONDS
from support.http import request

GRACE_SECONDS = 10  # pg_auth.refresh_reuse_grace, the default
THINK_SECONDS = (0.2, 1.0)


@dataclass
class Phase:
    name: str
    outcomes: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    def record(self, outcome: str, seconds: float) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self.latencies.append(seconds)


class Harness:
    """What every user thread shares: the current phase and the counters."""

    def __init__(self, api: str):
        self.api = api
        self.lock = threading.Lock()
        self.phases: list[Phase] = [Phase("steady")]
        self.stop = threading.Event()
        self.violations: dict[str, list[str]] = {"sessions lost": [], "refresh token worked twice": [],
                                                  "ended session reached data": []}

    def phase(self, name: str) -> None:
        with self.lock:
            self.phases[-1].ended = time.monotonic()
            self.phases.append(Phase(name))

    def call(self, method: str, path: str, headers: dict, body: str | None = None):
        started = time.monotonic()
        try:
            response = request(method, f"{self.api}{path}", headers, body, timeout=10)
            outcome = f"{response.status // 100}xx" if response.status not in (401, 429) else str(response.status)
        except OSError:
            response, outcome = None, "connection error"
        with self.lock:
            self.phases[-1].record(outcome, time.monotonic() - started)
        return response

    def violation(self, kind: str, what: str) -> None:
        with self.lock:
            self.violations[kind].append(what)


def user(harness: Harness, number: int, seed: int) -> None:
    rng = random.Random(seed)
    body = json.dumps({"user_": f"soak{number}", "pass": f"password {number}"})
    access = refresh_token = None
    while not harness.stop.is_set():
        if access is None:
            response = harness.call("POST", "/rpc/login", AUTH, body)
            if response is None or response.status != 204:
                time.sleep(rng.uniform(*THINK_SECONDS))
                continue
            access, refresh_token = response.cookie_value("access_token"), response.cookie_value("refresh_token")
        time.sleep(rng.uniform(*THINK_SECONDS))
        roll = rng.random()
        if roll < 0.80:
            read = harness.call("GET", "/rest/task", {"Cookie": f"access_token={access}"})
            if read is not None and read.status == 401 and read.json().get("details") == "session_ended":
                harness.violation("sessions lost", f"soak{number}: read refused as session_ended")
                access = None
        elif roll < 0.95:
            response = refresh_with_retries(harness, refresh_token)
            if response is None:
                continue  # still down after the grace window's worth of tries
            if response.status != 204:
                harness.violation("sessions lost", f"soak{number}: refresh {response.status} {response.body[:120]!r}")
                access = None
                continue
            old, refresh_token = refresh_token, response.cookie_value("refresh_token")
            access = response.cookie_value("access_token")
            if old != refresh_token and rng.random() < 0.1:
                replay_after_grace(harness, number, old)
                access = None  # the replay ended the session, as it must: log in again
        elif roll < 0.98:
            logout_and_check(harness, number, access)
            access = None
        # else: idle


def refresh_with_retries(harness: Harness, token: str):
    """A refresh; after a 5xx or a dropped connection (a restart: its answer
    may be lost after the rotation committed) the same token again, within
    the grace window, as a browser retrying would. None if never answered."""
    deadline = time.monotonic() + GRACE_SECONDS - 2
    while True:
        response = harness.call("POST", "/rpc/refresh_token",
                                {"Content-Profile": "auth", "Cookie": f"refresh_token={token}"})
        if response is not None and response.status < 500 and response.status != 429:
            return response
        if time.monotonic() > deadline:
            return None
        time.sleep(0.5)


def replay_after_grace(harness: Harness, number: int, rotated: str) -> None:
    """A stolen, rotated refresh token presented after the grace window must
    fail (and ends the session: the user logs in again)."""
    time.sleep(GRACE_SECONDS + 1)
    response = harness.call("POST", "/rpc/refresh_token",
                            {"Content-Profile": "auth", "Cookie": f"refresh_token={rotated}"})
    if response is not None and response.status == 204:
        harness.violation("refresh token worked twice", f"soak{number}")


def logout_and_check(harness: Harness, number: int, access: str) -> None:
    response = harness.call("POST", "/rpc/logout", {**AUTH, "Cookie": f"access_token={access}"}, "{}")
    if response is None or response.status != 204:
        return
    logged_out_in = harness.phases[-1].name
    # The soak restarts servers: the bound that holds through restarts.
    time.sleep(REVOCATION_HARD_BOUND_SECONDS)
    read = harness.call("GET", "/rest/task", {"Cookie": f"access_token={access}"})
    if read is not None and read.status == 200:
        harness.violation("ended session reached data",
                          f"soak{number} (logged out during {logged_out_in!r}, read during "
                          f"{harness.phases[-1].name!r})")


def serving_again(harness: Harness, access: str, limit: float = 60) -> float:
    """Seconds until a read through the proxy succeeds again."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            read = request("GET", f"{harness.api}/rest/task", {"Cookie": f"access_token={access}"}, timeout=2)
            if read.status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    return float("inf")


BAD_COOKIES = ["access_token=", "access_token=a.b.c", "access_token=" + "A" * 5000, "access_token=é\udcff",
               "access_token=x; access_token=y", "refresh_token=" + "%" * 300, "=;=;=", "access_token=eyJ.eyJ.sig"]
BAD_BODIES = ['{"user_": "demo",', '{"user_": ["a"], "pass": {}}', "null", '{"user_": "' + "x" * 10000 + '"}',
              "\x00\x01", '{"scope": "nowhere"}', "[]"]
BAD_HEADERS = [("Authorization", "Bearer ..."), ("Authorization", "Basic Zm9vOmJhcg=="), ("Origin", "null"),
               ("Sec-Fetch-Site", "cross-site"), ("Content-Type", "application/x-www-form-urlencoded"),
               ("X-Forwarded-For", "not an address, 1.2.3.4"), ("Prefer", "tx=rollback"), ("Accept-Profile", "auth")]
BAD_PATHS = ["/rest/task", "/rpc/login", "/rpc/logout", "/rpc/refresh_token", "/rpc/me", "/rpc/sessions",
             "/rpc/end_session", "/rest/%2e%2e/rpc/login", "/rest/task?select=*,x(*)", "/.well-known/jwks.json",
             "/rpc/ended_sessions"]


def mutate(rng: random.Random, token: str) -> str:
    chars = list(token)
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(chars))
        chars[position] = rng.choice("AZaz09-_.=%")
    return "".join(chars)


def bad_input(url: str, count: int, rate: float, token: str, seed: int) -> dict[str, int]:
    """`count` malformed requests at most `rate` a second; answers by status class."""
    rng = random.Random(seed)
    outcomes: dict[str, int] = {}
    interval = 1 / rate
    for _ in range(count):
        started = time.monotonic()
        headers = dict(rng.sample(BAD_HEADERS, rng.randint(0, 3)))
        cookie = rng.choice([*BAD_COOKIES, f"access_token={mutate(rng, token)}"])
        headers["Cookie"] = cookie.encode("utf-8", "surrogateescape").decode("latin-1")
        method = rng.choice(["GET", "POST", "POST", "DELETE", "PATCH"])
        body = rng.choice(BAD_BODIES) if method != "GET" else None
        try:
            response = request(method, f"{url}{rng.choice(BAD_PATHS)}", headers, body, timeout=10)
            outcome = str(response.status)
            if response.status >= 500:
                details = response.body[:200].decode("utf-8", "replace")
                outcome = f"{response.status} {details}"
        except OSError as error:
            outcome = f"connection error {type(error).__name__}"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    return outcomes


def run(users: int, phase_seconds: float, bad_requests: int, bad_rate: float, seed: int = 1) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="pg-auth-soak-"))
    workdir.chmod(0o755)
    stack = stack_controller.Stack.create(workdir / "stack", stack_controller.new_secret(),
                                          stack_controller.free_port())
    stack.up()
    gate = None
    try:
        stack.psql(sql="insert into auth.user select 'soak' || n, 'password ' || n, 'basic_subscriber' "
                       f"from generate_series(0, {users - 1}) n")
        stack.psql(sql="alter system set pg_auth.login_max_failures_per_address = 0")
        stack.psql(sql="select pg_reload_conf()")
        harness = Harness(stack.proxy_url)
        probe = request("POST", f"{stack.proxy_url}/rpc/login", AUTH,
                        json.dumps({"user_": "soak0", "pass": "password 0"})).cookie_value("access_token")
        threads = [threading.Thread(target=user, args=(harness, n, seed * 1000 + n), daemon=True)
                   for n in range(users)]
        for thread in threads:
            thread.start()
            time.sleep(0.01)
        recovery = {}
        time.sleep(phase_seconds)
        for name, restart in (("PostgREST restart", lambda: (stack.stop_process("postgrest"), stack.start_postgrest())),
                              ("Envoy restart", lambda: (stack.stop_process("envoy"), stack.start_envoy())),
                              ("PostgreSQL restart", stack.restart_postgres)):
            harness.phase(name)
            started = time.monotonic()
            restart()
            recovery[name] = time.monotonic() - started + serving_again(harness, probe)
            time.sleep(phase_seconds / 2)
            harness.phase(f"after {name}")
            time.sleep(phase_seconds / 2)
        harness.stop.set()
        harness.phases[-1].ended = time.monotonic()
        for thread in threads:
            thread.join(timeout=GRACE_SECONDS + 15)
        gate = fronts.start_gate(workdir / "gate", stack.secret, postgrest_url=stack.postgrest_url)
        nginx = fronts.start_front("nginx", workdir / "nginx", gate, stack.ports["postgrest"])
        try:
            bad = {"Envoy": bad_input(stack.proxy_url, bad_requests, bad_rate, probe, seed),
                   "nginx + gate": bad_input(nginx.url, bad_requests, bad_rate, probe, seed + 1)}
            watched = (("Envoy", stack.pids.get("envoy")), ("PostgREST", stack.pids.get("postgrest")),
                       ("gate", gate.pid), ("nginx", nginx.pid))
            crashed = [name for name, pid in watched if not pid_alive(pid)]
        finally:
            nginx.stop()
        return {"phases": harness.phases, "recovery": recovery, "violations": harness.violations, "bad": bad,
                "crashed": crashed}
    finally:
        if gate is not None:
            gate.stop()
        stack.down()
        shutil.rmtree(workdir, ignore_errors=True)


def our_5xx(bad: dict[str, dict[str, int]]) -> dict[str, int]:
    """5xx answers to bad input: none may come from the filter, the gate or
    the extension (PostgREST's own 5xx for a database restart are not here:
    the bad-input run happens after the restarts)."""
    return {f"{front}: {outcome}": n for front, outcomes in bad.items() for outcome, n in outcomes.items()
            if outcome[:1] == "5" or outcome.startswith("connection error")}


def report(result: dict) -> int:
    print(f"\n{'phase':<26} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  outcomes")
    for phase in result["phases"]:
        seconds = (phase.ended or time.monotonic()) - phase.started
        count = sum(phase.outcomes.values())
        latencies = sorted(phase.latencies) or [0.0]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(phase.outcomes.items()))
        print(f"{phase.name:<26} {count / max(seconds, 0.001):>7.0f} {statistics.median(latencies) * 1000:>7.1f} "
              f"{p99 * 1000:>7.1f}  {outcomes}")
    print("\nserving again after")
    for name, seconds in result["recovery"].items():
        print(f"  {name:<24} {seconds:>6.2f} s")
    print("\nbad input (answers by status)")
    for front, outcomes in result["bad"].items():
        print(f"  {front:<14} " + ", ".join(f"{k.split(' ')[0]} {v}" for k, v in sorted(outcomes.items())))
    invariants = {name: len(found) for name, found in result["violations"].items()}
    invariants["5xx or dropped connections from our code on bad input"] = sum(our_5xx(result["bad"]).values())
    invariants["crashed processes"] = len(result["crashed"])
    print("\ninvariants (each must be 0)")
    for name, count in invariants.items():
        print(f"  {name:<55} {count}")
    for name, found in result["violations"].items():
        for what in found[:5]:
            print(f"    {name}: {what}")
    for what in list(our_5xx(result["bad"]))[:5] + result["crashed"]:
        print(f"    {what}")
    return 0 if not any(invariants.values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--phase-seconds", type=float, default=30)
    parser.add_argument("--bad-requests", type=int, default=5000, help="per front")
    parser.add_argument("--bad-rate", type=float, default=200, help="requests per second, at most")
    args = parser.parse_args()
    return report(run(args.users, args.phase_seconds, args.bad_requests, args.bad_rate))


if __name__ == "__main__":
    sys.exit(main())

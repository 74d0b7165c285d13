#!/usr/bin/env python3
"""Failover and chaos on the cluster (stack/cluster.py): simulated users log
in, read, refresh and log out through the load balancer while, one at a
time, Envoy stops and comes back, nginx stops and comes back, a PostgREST
restarts, the standby's PostgREST is asked for a login, a signing key
is rotated and the old one revoked, a session is ended through one proxy
and watched at the other, and the primary is killed and the standby
promoted. Prints, and asserts the zeros:

    sessions lost: N (and separately those rotated within the replication
        lag window before the primary died)
    refresh tokens used twice: N
    ended sessions reaching data after the bound: N
    failover: N s    proxy loss: N failed requests
    key rotation across proxies: N s    revocation across proxies: N s

    python3 tests/scale/failover.py [--users 6] [--steady 5]

Each user connects from its own address (127.0.0.10 and up); the balancer
names it to the proxies (TRUSTED_PROXY), so their per-client limits hold
apart: a client forging tokens is refused while the users go on.

tests/run runs it briefly (tests/e2e/test_failover.py); every server listens
on 127.0.0.1 and is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "stack"), str(ROOT / "tests")]
from cluster import Cluster  # noqa: E402

from processes import stop  # noqa: E402
from support.flow import AUTH, REVOCATION_HARD_BOUND_SECONDS  # noqa: E402
from support.http import request  # noqa: E402

PASSWORD = "correct horse battery"
# A refresh committed on the primary in its last moments may not have
# reached the standby: tokens rotated this long before its death are
# counted apart (the standby replays within milliseconds here).
LAG_WINDOW_SECONDS = 1.0


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    failed: list[tuple[float, str]] = field(default_factory=list)  # (when, what)
    lost: list[tuple[float, float]] = field(default_factory=list)  # (when, rotated at)
    ended: list[tuple[float, str]] = field(default_factory=list)  # (logout time, access token)
    violations: list[str] = field(default_factory=list)

    def failure(self, what: str) -> None:
        with self.lock:
            self.failed.append((time.monotonic(), what))


def call(tally: Tally, method: str, url: str, headers: dict, body: str | None = None, *, source: str | None = None):
    with tally.lock:
        tally.requests += 1
    try:
        response = request(method, url, headers, body, timeout=5, source=source)
    except OSError as error:
        tally.failure(f"{method} {url.rsplit('/', 1)[-1]}: {error.__class__.__name__}")
        return None
    if response.status >= 500 or response.status == 429:
        tally.failure(f"{method} {url.rsplit('/', 1)[-1]}: {response.status}")
        return None
    return response


class User(threading.Thread):
    """Logs in, reads, refreshes, sometimes logs out and in again, from its
    own address."""

    def __init__(self, name: str, api: str, tally: Tally, stopping: threading.Event, seed: int):
        super().__init__(daemon=True)
        self.name_, self.api, self.tally, self.stopping = name, api, tally, stopping
        self.source = f"127.0.0.{10 + seed}"
        self.random = random.Random(seed)
        self.access = self.refresh_token = None
        self.rotated_at = 0.0

    def login(self) -> bool:
        response = call(self.tally, "POST", f"{self.api}/rpc/login", AUTH,
                        json.dumps({"user_": self.name_, "pass": PASSWORD}), source=self.source)
        if response is None or response.status != 204:
            return False
        self.access = response.cookie_value("access_token")
        self.refresh_token = response.cookie_value("refresh_token")
        self.rotated_at = time.monotonic()
        return True

    def refresh(self) -> None:
        sent_at = time.monotonic()
        response = call(self.tally, "POST", f"{self.api}/rpc/refresh_token",
                        {"Content-Profile": "auth", "Cookie": f"refresh_token={self.refresh_token}"},
                        source=self.source)
        if response is None:
            return
        if response.status == 204:
            self.access = response.cookie_value("access_token")
            token = response.cookie_value("refresh_token")
            if token != self.refresh_token:
                self.refresh_token, self.rotated_at = token, sent_at
            return
        # A valid refresh token refused, with no logout: the session is lost.
        with self.tally.lock:
            self.tally.lost.append((sent_at, self.rotated_at))
        self.access = None

    def run(self) -> None:
        while not self.stopping.is_set():
            if self.access is None and not self.login():
                time.sleep(0.2)
                continue
            read = call(self.tally, "GET", f"{self.api}/rest/task", {"Cookie": f"access_token={self.access}"},
                        source=self.source)
            if read is not None and read.status == 401 or self.random.random() < 0.15:
                self.refresh()
            elif self.random.random() < 0.03:
                cookie = {"Cookie": f"access_token={self.access}"}
                ended = call(self.tally, "POST", f"{self.api}/rpc/logout", {**AUTH, **cookie}, "{}",
                             source=self.source)
                if ended is not None and ended.status == 204:
                    with self.tally.lock:
                        self.tally.ended.append((time.monotonic(), self.access))
                    self.access = None
            time.sleep(0.05)


class EndedSessionWatch(threading.Thread):
    """Each ended session's access token, tried again past the bound: no read
    may pass."""

    def __init__(self, api: str, tally: Tally, stopping: threading.Event):
        super().__init__(daemon=True)
        self.api, self.tally, self.stopping = api, tally, stopping
        self.checked = 0

    def run(self) -> None:
        while not self.stopping.is_set() or self.checked < len(self.tally.ended):
            with self.tally.lock:
                due = [e for e in self.tally.ended[self.checked:]
                       if time.monotonic() > e[0] + REVOCATION_HARD_BOUND_SECONDS]
            for _, access in due:
                read = call(self.tally, "GET", f"{self.api}/rest/task", {"Cookie": f"access_token={access}"})
                if read is not None and read.status == 200:
                    with self.tally.lock:
                        self.tally.violations.append(access[-12:])
                self.checked += 1
            time.sleep(0.2)


def until(check, seconds: float, step: float = 0.05) -> float | None:
    """Seconds until `check()` holds, or None after `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(step)
    return None


def failures_between(tally: Tally, start: float, end: float) -> int:
    with tally.lock:
        return sum(1 for when, _ in tally.failed if start <= when <= end)


def login_at(url: str, user: str = "demo", password: str = "demo"):
    try:
        return request("POST", f"{url}/rpc/login", AUTH, json.dumps({"user_": user, "pass": password}), timeout=3)
    except OSError:
        return None


def read_status(url: str, access: str) -> int:
    try:
        return request("GET", f"{url}/rest/task", {"Cookie": f"access_token={access}"}, timeout=3).status
    except OSError:
        return 0


def forging_client(api: str, source: str = "127.0.0.250", attempts: int = 400) -> str:
    """Forged tokens from one address through the balancer until its valid
    token is refused at every proxy and worker (each counts on its own):
    what happened, for the figures."""
    login = request("POST", f"{api}/rpc/login", AUTH, '{"user_": "demo", "pass": "demo"}', source=source)
    valid = login.cookie_value("access_token")
    forged = {"Cookie": f"access_token={valid.rsplit('.', 1)[0]}.AAAA"}
    for sent in range(1, attempts + 1):
        request("GET", f"{api}/rest/task", forged, source=source)
        if sent % 20 == 0:
            answers = [request("GET", f"{api}/rest/task", {"Cookie": f"access_token={valid}"}, source=source).status
                       for _ in range(6)]
            if set(answers) == {429}:
                return f"refused after {sent} forged tokens"
    return f"not refused after {attempts} forged tokens"


def cluster_command(command: str, directory: Path) -> str:
    """`python3 stack/cluster.py COMMAND DIR`, as docs/scaling.md shows it."""
    log = directory / f"cluster-{command}.log"
    with log.open("w") as out:
        # A file, not a pipe: the servers it starts must not hold our pipe.
        result = subprocess.run([sys.executable, str(ROOT / "stack" / "cluster.py"), command, str(directory)],
                                stdout=out, stderr=subprocess.STDOUT, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"stack/cluster.py {command} failed: {log.read_text()}")
    return log.read_text()


def run(users: int, steady: float, keep: bool) -> int:
    # Under /tmp itself: the postgres OS user must reach it.
    directory = Path(tempfile.mkdtemp(prefix="pg-auth-cluster-"))
    tally, stopping = Tally(), threading.Event()
    figures: dict[str, str] = {}
    try:
        print(cluster_command("up", directory).strip())
        # The same cluster, from its saved state: its processes, to stop and start.
        cluster = Cluster(directory)
        envoy, nginx = f"http://127.0.0.1:{cluster.ports['envoy']}", f"http://127.0.0.1:{cluster.ports['nginx']}"
        names = [f"failover_user_{i}" for i in range(users)]
        cluster.primary.psql(sql="insert into auth.user (username, password, role) values " + ", ".join(
            f"('{name}', '{PASSWORD}', 'basic_subscriber')" for name in names))
        threads = [User(name, cluster.url, tally, stopping, i) for i, name in enumerate(names)]
        watch = EndedSessionWatch(cluster.url, tally, stopping)
        for thread in [*threads, watch]:
            thread.start()
        time.sleep(steady)

        # One proxy at a time: the load balancer sends everything to the other.
        for name, restart in (("envoy", cluster.start_envoy), ("nginx", cluster.start_nginx)):
            start = time.monotonic()
            stop(cluster.primary.pids.pop("envoy", None) if name == "envoy" else cluster.pids.pop("nginx", None))
            time.sleep(steady)
            restart()
            time.sleep(1)
            failed = failures_between(tally, start, time.monotonic())
            figures[f"proxy loss ({name} stopped)"] = f"{failed} failed requests"

        # PostgREST a restarts: Envoy answers 503 meanwhile; no session is lost.
        start = time.monotonic()
        cluster.primary.stop_process("postgrest")
        time.sleep(1)
        cluster.start_postgrest_a()
        time.sleep(1)
        figures["PostgREST a restarted"] = f"{failures_between(tally, start, time.monotonic())} failed requests"

        # The PostgREST on the standby refuses the auth RPCs before they run.
        standby_rest = f"http://127.0.0.1:{cluster.ports['postgrest_r']}"
        refused = login_at(standby_rest)
        refused_clearly = (refused is not None and refused.status == 400
                           and "read-write" in refused.json().get("message", ""))
        figures["a login at the standby's PostgREST"] = (
            f"{refused.status} {refused.json().get('message')}" if refused is not None else "no answer")

        # A client forging tokens through the balancer is refused (429) at
        # both proxies; the users, each at its own address, are not.
        start = time.monotonic()
        forger = forging_client(cluster.url)
        figures["a client forging tokens through the balancer"] = (
            f"{forger} ({failures_between(tally, start, time.monotonic())} failed requests of the others meanwhile)")
        forger_refused = forger.startswith("refused") and failures_between(tally, start, time.monotonic()) == 0

        # An ended session, ended through Envoy, at nginx.
        response = login_at(envoy)
        access = response.cookie_value("access_token")
        request("POST", f"{envoy}/rpc/logout", {**AUTH, "Cookie": f"access_token={access}"}, "{}")
        took = until(lambda: read_status(nginx, access) == 401, REVOCATION_HARD_BOUND_SECONDS + 3)
        figures["revocation across proxies"] = f"{took:.1f} s" if took is not None else "never"
        revoked_in_time = took is not None

        # A new key, made current at once, and the old one revoked: its
        # tokens stop at both proxies.
        old = login_at(cluster.url).cookie_value("access_token")
        before = (read_status(envoy, old), read_status(nginx, old))
        old_kid = cluster.primary.psql(sql="select kid from auth.signing_key where state = 'current'").strip()
        cluster.primary.psql(sql="select auth.create_signing_key('ES256')")
        cluster.primary.psql(sql="select auth.rotate_signing_keys(force => true)")
        cluster.primary.psql(sql=f"select auth.revoke_signing_key('{old_kid}')")
        took = until(lambda: read_status(envoy, old) == 401 and read_status(nginx, old) == 401, 30)
        figures["key rotation across proxies"] = (f"{took:.1f} s until the revoked key's tokens stop at both"
                                                  if took is not None else "never")
        rotated_in_time = took is not None and before == (200, 200)
        if before != (200, 200):
            figures["key rotation across proxies"] += f" (but its token read {before} before the revocation)"
        time.sleep(steady)

        # The primary dies; the standby is promoted; PostgREST a and b find it.
        lag = cluster.replication_lag_bytes()
        killed = time.monotonic()
        cluster.kill_primary()
        cluster.promote_standby()
        failed_over = until(lambda: (r := login_at(cluster.url)) is not None and r.status == 204, 120, 0.1) is not None
        took = time.monotonic() - killed
        figures["failover"] = (f"{took:.1f} s from the primary's death to the first login on the new primary "
                               f"(replication lag before: {lag} bytes)" if failed_over else "never")
        time.sleep(steady)
        stopping.set()
        for thread in threads:
            thread.join(10)
        watch.join(REVOCATION_HARD_BOUND_SECONDS + 10)

        in_window = [lost for lost in tally.lost if killed - LAG_WINDOW_SECONDS <= lost[1] <= killed]
        lost = len(tally.lost) - len(in_window)
        reused = int(cluster.standby.psql(sql="select count(*) from auth.audit_event where event = 'refresh_reused'"))
        # Each user's logins came from its own address, through both proxies.
        addresses = int(cluster.standby.psql(sql="select count(distinct address) from auth.audit_event "
                                                 "where event = 'login' and username like 'failover_user_%'"))
        print(f"users: {users}; requests: {tally.requests}; sessions ended by logout and watched: {len(tally.ended)}")
        print(f"sessions lost: {lost}")
        print(f"sessions lost, rotated in the last {LAG_WINDOW_SECONDS:.0f} s before the primary died: "
              f"{len(in_window)}")
        print(f"refresh tokens used twice: {reused}")
        print(f"ended sessions reaching data after the bound: {len(tally.violations)} "
              f"(bound {REVOCATION_HARD_BOUND_SECONDS:.0f} s)")
        print(f"client addresses in the users' login audit: {addresses} (one per user: {users})")
        for name, value in figures.items():
            print(f"{name}: {value}")
        print(f"failed requests in all: {len(tally.failed)} "
              f"({', '.join(sorted({what for _, what in tally.failed})[:6])})")
        ok = (lost == 0 and reused == 0 and not tally.violations and tally.requests > 100 and len(tally.ended) > 0
              and failed_over and rotated_in_time and revoked_in_time and refused_clearly and forger_refused
              and addresses == users)
        print("OK" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        stopping.set()
        cluster_command("down", directory)
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=6)
    parser.add_argument("--steady", type=float, default=5.0, help="seconds of plain load around each fault")
    parser.add_argument("--keep", action="store_true", help="keep the cluster's folder (logs) afterwards")
    args = parser.parse_args()
    if not 1 <= args.users <= 200:
        parser.error("--users: from 1 to 200 (each has its own address, 127.0.0.10 and up)")
    return run(args.users, args.steady, args.keep)


if __name__ == "__main__":
    sys.exit(main())

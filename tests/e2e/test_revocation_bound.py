"""The revocation bound holds when the proxy cannot fetch the ended
sessions: PostgREST not answering its fetches (as in a PostgreSQL restart)
while the session ends. The gate behind nginx fetches the feed through a
relay to the real PostgREST that the test can take down. A session ended
while the relay is down must not reach data after the hard bound: the proxy
answers 503 revocations_stale, and 401 session_ended once the feed is back.
Before the bound existed, a failed fetch kept what was known and the ended
session read data until its token expired."""

from __future__ import annotations

import http.server
import shutil
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import fronts

from processes import LOOPBACK, stop
from support.flow import AUTH, REVOCATION_HARD_BOUND_SECONDS, login, read_tasks
from support.http import request


class FeedRelay(http.server.ThreadingHTTPServer):
    """Relays GETs to PostgREST, or answers 503 while `down`."""

    def __init__(self, postgrest_url: str):
        self.postgrest_url = postgrest_url
        self.down = False
        super().__init__((LOOPBACK, 0), RelayHandler)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}"


class RelayHandler(http.server.BaseHTTPRequestHandler):
    server: FeedRelay

    def do_GET(self):  # noqa: N802 (http.server's name)
        status, body = 503, b"down"
        if not self.server.down:
            upstream = urllib.request.Request(self.server.postgrest_url + self.path,
                                              headers={"Accept-Profile": "auth"})
            with urllib.request.urlopen(upstream, timeout=5) as answer:
                status, body = answer.status, answer.read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def read_until(api: str, access: str, wanted, seconds: float):
    """Reads until `wanted(response)`, at most `seconds`; the last answer."""
    deadline = time.monotonic() + seconds
    while True:
        response = read_tasks(api, access)
        if wanted(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_a_session_ended_while_the_feed_is_down_never_reads_past_the_bound(stack):
    relay = FeedRelay(stack.postgrest_url)
    threading.Thread(target=relay.serve_forever, daemon=True).start()
    directory = Path(tempfile.mkdtemp(prefix="pg-auth-revocation-bound-"))
    pids = []
    try:
        gate = fronts.start_gate(directory / "gate", stack.secret, fronts.FILTER_CONFIGS["secret"],
                                 stack.postgrest_url, {"revocation_uri": f"{relay.url}/rpc/ended_sessions",
                                                       "revocation_uri_env": None})
        pids.append(gate.pid)
        front = fronts.start_front("nginx", directory / "nginx", gate, stack.ports["postgrest"])
        pids.append(front.pid)
        access = login(front.url).cookie_value("access_token")
        assert read_until(front.url, access, lambda r: r.status == 200, 5).status == 200

        relay.down = True
        ended = request("POST", f"{front.url}/rpc/logout", {**AUTH, "Cookie": f"access_token={access}"}, "{}")
        assert ended.status == 204, ended.body
        logged_out = time.monotonic()
        refused = read_until(front.url, access, lambda r: r.status != 200, REVOCATION_HARD_BOUND_SECONDS)
        assert refused.status == 503, (time.monotonic() - logged_out, refused.status, refused.body)
        assert refused.json()["details"] == "revocations_stale" and refused.header("retry-after") == "1"
        # Once past the bound, never data while the feed stays down.
        time.sleep(1)
        assert read_tasks(front.url, access).status == 503

        relay.down = False
        back = read_until(front.url, access, lambda r: r.status == 401, 5)
        assert back.status == 401 and back.json()["details"] == "session_ended", back.body
    finally:
        for pid in pids:
            stop(pid)
        relay.shutdown()
        shutil.rmtree(directory, ignore_errors=True)

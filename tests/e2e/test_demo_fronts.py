"""`stack/demo --front NAME` (stack.py up --front): the demo's stack with each
stock proxy and pg_auth_gate on the proxy port instead of Envoy, signing with
key pairs as the demo does; the curl flow, the public keys and the page work
the same, and `stack.py down` stops every process it started."""

import shutil
import tempfile
import time
from pathlib import Path

import fronts
import pytest

import stack as stack_controller
from processes import free_port, listening_addresses, pid_alive
from support.flow import login, logout, read_refused, read_tasks, refresh
from support.http import request
from support.tokens import header_of


@pytest.mark.parametrize("front", fronts.FRONTS)
def test_the_demo_stack_runs_on_every_front(front):
    directory = Path(tempfile.mkdtemp(prefix=f"pg-auth-demo-{front}-"))
    demo = stack_controller.Stack.create(directory, stack_controller.new_secret(), free_port(), "keys", front)
    demo.filter_overrides = {"jwks_refresh_seconds": 2}
    try:
        demo.up()
        assert demo.running() == {"postgres": True, "postgrest": True, "gate": True, front: True}
        api = demo.proxy_url
        # The first key reaches the gate at its first fetch, at start.
        logged_in = login(api)
        assert logged_in.status == 204, logged_in.body
        access = logged_in.cookie_value("access_token")
        assert header_of(access)["alg"] == "ES256"
        assert read_tasks(api, access).status == 200
        assert request("GET", f"{api}/rest/task").status == 401
        keys = request("GET", f"{api}/.well-known/jwks.json")
        assert keys.status == 200 and header_of(access)["kid"] in keys.body.decode()
        refreshed = refresh(api, logged_in.cookie_value("refresh_token"))
        assert refreshed.status == 204
        assert logout(api, f"access_token={access}").status == 204
        assert read_refused(api, access).json()["details"] == "session_ended"
        if front != "traefik":  # Traefik serves no files
            page = request("GET", f"{api}/")
            assert page.status == 200 and b"<script>" in page.body
        pids = [demo.pids["gate"], demo.pids[front], demo.pids["postgrest"], demo.postgres_pid()]
        for pid in pids:
            assert listening_addresses(pid) == {"127.0.0.1"}, (pid, "listens beyond loopback")
    finally:
        demo.down()
    try:
        # A process that has exited may wait a moment for its parent to reap it.
        deadline = time.monotonic() + 5
        while [pid for pid in pids if pid_alive(pid)] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in pids if pid_alive(pid)], ("stack.py down left a process running", pids)
    finally:
        shutil.rmtree(directory, ignore_errors=True)

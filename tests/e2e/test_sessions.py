"""Refresh-token rotation, reuse detection, concurrency and restarts."""

import threading
import time

from support.http import request
from test_flow import login


def refresh(stack, token):
    return request("POST", f"{stack.proxy_url}/rpc/refresh_token",
                   {"Content-Profile": "auth", "Cookie": f"refresh_token={token}"})


def test_reuse_after_the_grace_window_revokes_the_session(stack):
    first = login(stack).cookie_value("refresh_token")
    second = refresh(stack, first).cookie_value("refresh_token")
    time.sleep(2.5)  # the test stack's grace window is 2 s
    reused = refresh(stack, first)
    assert reused.status == 401
    assert all("Max-Age=0" in cookie for cookie in reused.header_values("set-cookie"))
    # The legitimate holder of the successor is logged out too.
    assert refresh(stack, second).status == 401


def test_concurrent_refreshes_from_two_tabs_both_succeed(stack):
    token = login(stack).cookie_value("refresh_token")
    results = [None, None]
    start = threading.Barrier(2)

    def tab(index):
        start.wait()
        results[index] = refresh(stack, token)

    tabs = [threading.Thread(target=tab, args=(i,)) for i in range(2)]
    for thread in tabs:
        thread.start()
    for thread in tabs:
        thread.join(timeout=20)
    assert [r.status for r in results] == [204, 204]
    successors = [r.cookie_value("refresh_token") for r in results]
    assert len(set(successors)) == 2
    # Both tabs can go on refreshing with what they got.
    assert [refresh(stack, s).status for s in successors] == [204, 204]


def test_postgres_restart_loses_no_session(stack):
    logged_in = login(stack)
    access = logged_in.cookie_value("access_token")
    token = logged_in.cookie_value("refresh_token")
    stack.restart_postgres()
    # PostgREST reconnects by itself; give it a bounded time.
    deadline = time.monotonic() + 30
    while True:
        private = request("GET", f"{stack.proxy_url}/rest/task", {"Cookie": f"access_token={access}"})
        if private.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert private.status == 200
    assert refresh(stack, token).status == 204

"""Refresh-token rotation, the grace window, reuse detection, the ended
session's cookies, concurrency and restarts."""

import threading
import time

from support.flow import login, logout, read_refused, read_tasks, refresh
from support.http import request
from support.tokens import claims_of


def parallel(count, action):
    """Runs `action(index)` in `count` threads released at once; their results."""
    results = [None] * count
    start = threading.Barrier(count)

    def run(index):
        start.wait()
        results[index] = action(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def refresh_rows(stack, sid):
    return int(stack.psql(sql=f"select count(*) from auth.refresh_token where session_id = '{sid}'"))


def test_reuse_after_the_grace_window_ends_the_session(stack):
    logged_in = login(stack.proxy_url)
    first = logged_in.cookie_value("refresh_token")
    second = refresh(stack.proxy_url, first).cookie_value("refresh_token")
    time.sleep(2.5)  # the test stack's grace window is 2 s
    reused = refresh(stack.proxy_url, first)
    assert reused.status == 401
    assert reused.cookie_value("access_token") == reused.cookie_value("refresh_token") == ""
    assert "Max-Age=0" in reused.cookie_attributes("access_token")
    assert "Max-Age=0" in reused.cookie_attributes("refresh_token")
    # The ending commits, and the client still gets the slug to act on.
    body = reused.json()
    assert (body["code"], body["details"]) == ("PT401", "refresh_reused")
    assert body["message"]
    # The legitimate holder of the successor is logged out too.
    assert refresh(stack.proxy_url, second).status == 401


def test_tabs_refreshing_at_once_all_land_on_one_chain(stack):
    """A rotated token replayed within the grace window used to mint an
    independent, unrotated token per replay (5 sequential and 20 parallel
    gave 25 chains valid for 30 days). Now every replay gets the one
    successor, and the session holds two tokens."""
    logged_in = login(stack.proxy_url)
    token = logged_in.cookie_value("refresh_token")
    sid = claims_of(logged_in.cookie_value("access_token"))["sid"]
    # Straight at PostgREST: the proxy queues auth RPCs three at a time.
    results = parallel(20, lambda _: request("POST", f"{stack.postgrest_url}/rpc/refresh_token",
                                             {"Content-Profile": "auth", "Cookie": f"refresh_token={token}"}))
    assert [r.status for r in results] == [204] * 20
    successors = {r.cookie_value("refresh_token") for r in results}
    assert len(successors) == 1 and token not in successors
    for _ in range(5):
        assert refresh(stack.proxy_url, token).cookie_value("refresh_token") in successors
    assert refresh_rows(stack, sid) == 2
    # The chain goes on from the one successor.
    assert refresh(stack.proxy_url, successors.pop()).status == 204


def test_an_ended_sessions_cookie_does_not_lock_the_user_out(stack):
    """After reuse detection ends a session, the browser still holds a
    signature-valid access cookie, which the filter forwards to the auth RPCs:
    login and logout used to answer 401 there, leaving the user stuck."""
    logged_in = login(stack.proxy_url)
    access = logged_in.cookie_value("access_token")
    sid = claims_of(access)["sid"]
    stack.psql(sql=f"update auth.session set revoked_at = now() where id = '{sid}'")
    assert read_refused(stack.proxy_url, access).status == 401
    again = login(stack.proxy_url, headers={"Cookie": f"access_token={access}"})
    assert again.status == 204
    assert set(again.cookies()) == {"access_token", "refresh_token"}
    out = logout(stack.proxy_url, f"access_token={access}")
    assert out.status == 204
    assert out.cookie_value("access_token") == ""


def test_postgres_restart_loses_no_session(stack):
    logged_in = login(stack.proxy_url)
    access = logged_in.cookie_value("access_token")
    token = logged_in.cookie_value("refresh_token")
    stack.restart_postgres()
    # PostgREST reconnects by itself; give it a bounded time.
    deadline = time.monotonic() + 30
    while True:
        private = read_tasks(stack.proxy_url, access)
        if private.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert private.status == 200
    assert refresh(stack.proxy_url, token).status == 204

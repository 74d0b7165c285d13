"""Session control and brute-force defence through the proxy: logout scopes
end the other clients' sessions at once (their next read and refresh fail),
users list and end their sessions, and 50 wrong passwords from one address
are throttled (429 with Retry-After) by the database, for that address and
for the account from any address, until the wait is over."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import fronts
import pytest

from support.flow import AUTH, REVOCATION_BOUND_SECONDS, login, read_refused, read_tasks, refresh
from support.http import request

USER = "throttled_user"


def sessions_of(api: str, access: str) -> list[dict]:
    response = request("GET", f"{api}/rpc/sessions", {"Accept-Profile": "auth", "Cookie": f"access_token={access}"})
    assert response.status == 200, response.body
    return response.json()


def signed_in(api: str) -> tuple[str, str]:
    response = login(api)
    assert response.status == 204, response.body
    return response.cookie_value("access_token"), response.cookie_value("refresh_token")


def logout(api: str, access: str, scope: str | None) -> None:
    body = json.dumps({"scope": scope} if scope else {})
    response = request("POST", f"{api}/rpc/logout", {**AUTH, "Cookie": f"access_token={access}"}, body)
    assert response.status == 204, response.body


@pytest.mark.parametrize("scope", ["others", "global"])
def test_logout_scopes_end_the_other_clients_at_once(stack, scope):
    api = stack.proxy_url
    me, phone, laptop = (signed_in(api) for _ in range(3))
    assert {s["current"] for s in sessions_of(api, me[0])} >= {True, False}
    logout(api, me[0], scope)
    for access, refresh_token in (phone, laptop):
        assert refresh(api, refresh_token).status == 401, "refreshes fail at once"
        read = read_refused(api, access)
        assert read.status == 401 and read.json()["details"] == "session_ended"
    mine = read_refused(api, me[0]) if scope == "global" else read_tasks(api, me[0])
    assert mine.status == (200 if scope == "others" else 401)


def test_users_list_and_end_their_sessions(stack):
    api = stack.proxy_url
    first, second = signed_in(api), signed_in(api)
    listed = sessions_of(api, first[0])
    assert all({"id", "login_address", "login_user_agent", "current"} <= set(s) for s in listed)
    other = next(s["id"] for s in listed if not s["current"] and s["id"] in
                 [x["id"] for x in sessions_of(api, second[0]) if x["current"]])
    ended = request("POST", f"{api}/rpc/end_session", {**AUTH, "Cookie": f"access_token={first[0]}"},
                    json.dumps({"id": other}))
    assert ended.status == 204, ended.body
    assert read_refused(api, second[0]).status == 401
    again = request("POST", f"{api}/rpc/end_session", {**AUTH, "Cookie": f"access_token={first[0]}"},
                    json.dumps({"id": other}))
    assert again.status == 404 and again.json()["details"] == "session_not_found"


def attempt(api: str, password: str, source: str):
    """A login from `source`; the proxy's own rate limit (429 without the
    upstream's request id) is waited out, the database's answer returned."""
    body = json.dumps({"user_": USER, "pass": password})
    for _ in range(50):
        response = request("POST", f"{api}/rpc/login", AUTH, body, source=source)
        if response.reached_upstream:
            return response
        assert response.status == 429
        time.sleep(float(response.header("retry-after") or 1))
    raise AssertionError("the proxy's rate limit never let a login through")


@pytest.fixture
def throttle(stack):
    settings = {"login_max_failures": 10, "login_max_failures_per_address": 30,
                "login_throttle_delay": 1, "login_throttle_max_delay": 6}
    stack.psql(sql=f"insert into auth.user values ('{USER}', 'right password', 'basic_subscriber') "
                   "on conflict do nothing")
    for name, value in settings.items():
        stack.psql(sql=f"alter system set pg_auth.{name} = {value}")
    stack.psql(sql="select pg_reload_conf()")
    time.sleep(0.5)
    yield
    # Back to the test stack's settings (conftest.py: the throttle off).
    for name in ("login_throttle_delay", "login_throttle_max_delay"):
        stack.psql(sql=f"alter system reset pg_auth.{name}")
    for name in ("login_max_failures", "login_max_failures_per_address"):
        stack.psql(sql=f"alter system set pg_auth.{name} = 0")
    stack.psql(sql="select pg_reload_conf()")
    stack.psql(sql="delete from auth.login_throttle")


@pytest.fixture
def nginx(stack, gate):
    """nginx with the gate: it sends PostgREST the peer's own address, so
    clients on 127.0.0.1 and 127.0.0.2 are two addresses."""
    workdir = Path(tempfile.mkdtemp(prefix="pg-auth-throttle-nginx-"))
    server = fronts.start_front("nginx", workdir, gate, stack.ports["postgrest"])
    yield server.url
    server.stop()
    fronts.remove(workdir)


def test_fifty_wrong_passwords_throttle_the_guesser_and_not_the_owner(stack, throttle, nginx):
    """A guesser at one address is throttled; the owner, at another, signs in
    at once, and stays able to while the guesser goes on (redteam R3-05: the
    username's own counter used to refuse every address)."""
    api = nginx
    answers = [attempt(api, "wrong", "127.0.0.1") for _ in range(50)]
    statuses = [a.status for a in answers]
    assert set(statuses) <= {401, 429}
    assert statuses[:10] == [401] * 10, "the first ten are checked"
    throttled = [a for a in answers if a.status == 429]
    assert len(throttled) >= 30, statuses
    assert all(a.json()["details"] == "throttled" and int(a.header("retry-after")) >= 1 for a in throttled)
    owner = attempt(api, "right password", "127.0.0.2")
    assert owner.status == 204, (owner.status, owner.body, statuses)
    for _ in range(3):
        assert attempt(api, "wrong", "127.0.0.1").status in (401, 429), "the guesser goes on"
        assert attempt(api, "right password", "127.0.0.2").status == 204, "the owner is not held"
    # One audit row per wait, not per throttled attempt (R3-06).
    throttled_rows = int(stack.psql(sql=f"select count(*) from auth.audit_event where username = '{USER}' "
                                        "and event = 'login_throttled'").strip())
    assert 1 <= throttled_rows < len(throttled), (throttled_rows, len(throttled))
    events = stack.psql(sql=f"select event, count(*) from auth.audit_event where username = '{USER}' "
                            "group by event order by event")
    assert "login_throttled" in events and "login_failed" in events and "login|4" in events
    addresses = stack.psql(sql=f"select distinct host(address) from auth.audit_event where username = '{USER}' "
                               "order by 1")
    assert addresses.split() == ["127.0.0.1", "127.0.0.2"], addresses


def test_every_proxy_refuses_ended_sessions_itself(stack, front):
    """The proxy itself refuses an ended session's token (PostgREST runs no
    check_session by default), within the bound."""
    access, _ = signed_in(front.url)
    logout(front.url, access, None)
    started = time.monotonic()
    while True:
        response = read_tasks(front.url, access)
        if response.status == 401 and not response.reached_upstream:
            break
        assert time.monotonic() - started < REVOCATION_BOUND_SECONDS, "the proxy still passes it"
        time.sleep(0.05)
    assert response.json()["details"] == "session_ended"
    print(f"{front.name}: logout refused by the proxy after {time.monotonic() - started:.2f} s")


@pytest.mark.parametrize("path", ["/rpc/ended_sessions", "/rest/rpc/ended_sessions"])
def test_the_ended_sessions_feed_is_not_served_to_clients(stack, front, path):
    response = request("GET", f"{front.url}{path}", {"Accept-Profile": "auth"})
    assert response.status == 404 and not response.reached_upstream
    assert response.json()["details"] == "not_found"

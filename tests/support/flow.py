"""The RPC calls of the curl flow, against `api`: the base URL of a proxy
(or of PostgREST itself)."""

from __future__ import annotations

import json
import time

from support.http import Response, request

AUTH = {"Content-Profile": "auth", "Content-Type": "application/json"}


def login(api: str, user: str = "demo", password: str = "demo", headers: dict | None = None,
          patient: bool = True, *, source: str | None = None) -> Response:
    """Logs in; `patient` waits out the proxies' login rate limit (429 with
    Retry-After), a few times at most, as a well-behaved client does;
    `source`: the client's address (127.0.0.2...: another client)."""
    body = json.dumps({"user_": user, "pass": password})
    for _ in range(5):
        response = request("POST", f"{api}/rpc/login", {**AUTH, **(headers or {})}, body, source=source)
        if response.status != 429 or not patient:
            return response
        time.sleep(float(response.header("retry-after") or 1))
    return response


def refresh(api: str, token: str, headers: dict | None = None) -> Response:
    return request("POST", f"{api}/rpc/refresh_token",
                   {"Content-Profile": "auth", "Cookie": f"refresh_token={token}", **(headers or {})})


def logout(api: str, cookie: str) -> Response:
    return request("POST", f"{api}/rpc/logout", {**AUTH, "Cookie": cookie})


def read_tasks(api: str, access: str) -> Response:
    return request("GET", f"{api}/rest/task", {"Cookie": f"access_token={access}"})


# The proxies fetch the ended sessions every second on a one-second tick: an
# ended session's tokens are refused within about 2 s plus a fetch.
REVOCATION_BOUND_SECONDS = 3.0
# Whatever happens (a proxy restart, PostgREST or PostgreSQL down): a proxy
# passes a session's token only on a list of ended sessions at most
# revocation_max_age_seconds (5) old, counted in whole seconds (under 6 s),
# fetched after a query that took a moment.
REVOCATION_HARD_BOUND_SECONDS = 7.0


def read_refused(api: str, access: str) -> Response:
    """Reads with `access` until refused (an ended session), at most
    REVOCATION_BOUND_SECONDS; the refusal."""
    deadline = time.monotonic() + REVOCATION_BOUND_SECONDS
    while True:
        response = read_tasks(api, access)
        if response.status != 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)

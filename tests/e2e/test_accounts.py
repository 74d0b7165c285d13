"""Accounts people open and recover, through every proxy to the real
PostgREST and PostgreSQL: the account RPCs are public routes (no access
cookie needed, no Bearer passed on), within login's per-client rate limit;
sign-up -> verification link -> login by address; reset -> new password ->
every old session refused within the revocation bound. The links are read
from auth.outbox (the tests' stack runs no mailer; test_mailer.py runs one)."""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.accounts import OTHER_STRONG, SENT, STRONG, mailed_token, signup_open
from support.flow import AUTH, login, read_refused, read_tasks
from support.http import request


@pytest.fixture
def open_signup(stack):
    with signup_open(stack):
        yield


def call(api: str, rpc: str, body: dict, cookie: str | None = None):
    headers = {**AUTH, **({"Cookie": cookie} if cookie else {})}
    return request("POST", f"{api}/rpc/{rpc}", headers, json.dumps(body))


def test_the_account_rpcs_are_public_and_answer_alike(stack, front):
    # Reached without a cookie: the extension answers, not the proxy.
    closed = call(front.url, "signup", {"email": "nobody@example.org", "pass": STRONG})
    assert closed.status == 403 and closed.json()["details"] == "signup_disabled", (front.name, closed.body)
    unknown = call(front.url, "request_password_reset", {"email": "nobody@example.org"})
    assert unknown.status == 200 and unknown.json()["message"] == SENT, (front.name, unknown.body)
    bad_link = call(front.url, "verify_email", {"token": "x" * 43})
    assert bad_link.status == 400 and bad_link.json()["details"] == "invalid_link", (front.name, bad_link.body)
    injected = call(front.url, "request_password_reset", {"email": "a@example.org\r\nBcc: eve@example.org"})
    assert injected.status == 422 and injected.json()["details"] == "invalid_email", (front.name, injected.body)


def test_sign_up_verify_and_log_in_by_address(stack, front, open_signup):
    address = f"new-{front.name}-{secrets.token_hex(4)}@example.org"
    weak = call(front.url, "signup", {"email": address, "pass": "password123"})
    assert weak.status == 422 and weak.json()["details"] == "weak_password", weak.body
    assert weak.json()["hint"].startswith("Too easy to guess"), weak.body
    created = call(front.url, "signup", {"email": address.upper(), "pass": STRONG})
    assert created.status == 200 and created.json()["message"] == SENT, created.body
    again = call(front.url, "signup", {"email": address, "pass": OTHER_STRONG})
    assert (again.status, again.body) == (created.status, created.body)
    unverified = login(front.url, address, STRONG)
    assert unverified.status == 403 and unverified.json()["details"] == "email_not_verified", unverified.body
    verified = call(front.url, "verify_email", {"token": mailed_token(stack, "verify_email", address)})
    assert verified.status == 204, verified.body
    signed_in = login(front.url, address, STRONG)
    assert signed_in.status == 204, signed_in.body
    assert read_tasks(front.url, signed_in.cookie_value("access_token")).status == 200


def test_a_reset_ends_every_old_session_and_signs_in(stack, front, open_signup):
    address = f"reset-{front.name}-{secrets.token_hex(4)}@example.org"
    assert call(front.url, "signup", {"email": address, "pass": STRONG}).status == 200
    assert call(front.url, "verify_email", {"token": mailed_token(stack, "verify_email", address)}).status == 204
    old = login(front.url, address, STRONG).cookie_value("access_token")
    assert call(front.url, "request_password_reset", {"email": address}).status == 200
    token = mailed_token(stack, "reset_password", address)
    reset = call(front.url, "reset_password", {"token": token, "new_pass": OTHER_STRONG})
    assert reset.status == 204, reset.body
    assert read_tasks(front.url, reset.cookie_value("access_token")).status == 200
    refused = read_refused(front.url, old)
    assert refused.status == 401 and refused.json()["details"] == "session_ended", refused.body
    used = call(front.url, "reset_password", {"token": token, "new_pass": STRONG})
    assert used.status == 400 and used.json()["details"] == "invalid_link", used.body
    assert login(front.url, address, OTHER_STRONG).status == 204


def test_a_burst_of_reset_requests_gets_429(stack, front):
    """Each one may send a mail: the same per-client limit as logins."""
    if front.name.startswith("caddy"):
        pytest.skip("stock Caddy has no rate limit; its concurrency cap answers 503")
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(
            lambda _: call(front.url, "request_password_reset", {"email": "nobody@example.org"}), range(60)))
    limited = [r for r in responses if r.status == 429]
    assert limited, sorted({r.status for r in responses})
    # Traefik's per-client concurrency cap (inFlightReq) answers 429 without
    # Retry-After; its rate limit, like every other front's, with it.
    rated = [r for r in limited if b"max connections reached" not in r.body]
    assert rated and all(r.header("retry-after") for r in rated), front.name

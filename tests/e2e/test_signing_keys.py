"""Key pairs end to end (pg_auth.signing_mode = keys): tokens signed with the
database's ES256 key pass every proxy and PostgREST; the public keys are
served at /.well-known/jwks.json; a rotation under load fails no request;
a revoked key's tokens are refused by PostgREST at once and by every proxy
within the JWKS refresh interval (2 s here), with two PostgREST instances
and two proxies in front of one database."""

from __future__ import annotations

import base64
import json
import tempfile
import threading
import time
from pathlib import Path

import fronts
import pytest

from processes import LOOPBACK, free_port
from support.filter import FILTER_OVERRIDES
from support.flow import login, read_tasks, refresh
from support.http import request
from support.tokens import b64url, claims_of, mint, now

REFRESH_SECONDS = FILTER_OVERRIDES["jwks_refresh_seconds"]
# What a proxy may take to learn of a key change: its refresh interval, the
# one-second tick that starts a fetch, and the fetch itself.
PROXY_BOUND_SECONDS = REFRESH_SECONDS + 2
ROTATION_DELAY = 3


def header_of(token: str) -> dict:
    segment = token.split(".", maxsplit=1)[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def current_kid(stack) -> str:
    return stack.psql(sql="select kid from auth.signing_key where state = 'current'").strip()


def signed_in(api: str) -> tuple[str, str]:
    response = login(api)
    assert response.status == 204, response.body
    return response.cookie_value("access_token"), response.cookie_value("refresh_token")


def wait_for(check, what: str, seconds: float) -> float:
    """Polls `check` until true; the time it took."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"{what} not within {seconds} s"
        time.sleep(0.1)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def keys_mode(stack, gate):
    """The stack signs with key pairs for this module, then with the secret again."""
    stack.psql(sql=f"alter system set pg_auth.key_rotation_delay = {ROTATION_DELAY}")
    stack.psql(sql="select pg_reload_conf()")
    stack.use_signing("keys")
    try:
        # The proxies learn the first key at their next fetch.
        for api in (stack.proxy_url,):
            wait_for(lambda api=api: read_tasks(api, signed_in(api)[0]).status == 200,
                     "the proxies' first fetch", PROXY_BOUND_SECONDS + 3)
        yield stack
    finally:
        stack.use_signing("secret")
        stack.psql(sql="alter system reset pg_auth.key_rotation_delay")
        stack.psql(sql="select pg_reload_conf()")


def test_every_front_passes_tokens_of_the_key_pair(keys_mode, front):
    access, _ = signed_in(front.url)
    header = header_of(access)
    assert header["alg"] == "ES256"
    assert header["kid"] == current_kid(keys_mode)

    def passes():
        response = read_tasks(front.url, access)
        return response.status == 200 and response.reached_upstream

    wait_for(passes, f"{front.name} passing an ES256 token", PROXY_BOUND_SECONDS + 3)
    jwks = request("GET", f"{front.url}/.well-known/jwks.json")
    assert jwks.status == 200
    assert "max-age" in (jwks.header("cache-control") or "")
    keys = jwks.json()["keys"]
    assert header["kid"] in [key["kid"] for key in keys]
    assert all("d" not in key for key in keys), "private material in the JWKS"


def test_the_shared_secret_no_longer_signs_for_postgrest(keys_mode):
    """In keys mode PostgREST holds only public keys: an HS256 token made with
    the (still configured) shared secret is refused there."""
    forged = mint(keys_mode.secret, {"role": "basic_subscriber", "sub": "demo", "exp": now() + 60})
    direct = request("GET", f"{keys_mode.postgrest_url}/task", {"Authorization": f"Bearer {forged}"})
    assert direct.status == 401


def test_a_token_naming_no_published_key_is_refused(keys_mode):
    access, _ = signed_in(keys_mode.proxy_url)
    header, payload, signature = access.split(".")
    other = b64url(json.dumps({**header_of(access), "kid": "not-a-published-key"}).encode())
    response = read_tasks(keys_mode.proxy_url, f"{other}.{payload}.{signature}")
    assert response.status == 401
    assert response.json()["details"] == "unknown_key"


def test_rotation_under_load_then_revocation_reaches_every_verifier(keys_mode, gate):
    """Clients read without pause through Envoy and through nginx with the
    gate, refreshing now and then, while a key is created, made current and
    the old one revoked. A second PostgREST serves the same database."""
    stack = keys_mode
    workdir = Path(tempfile.mkdtemp(prefix="pg-auth-rotation-"))
    nginx = fronts.start_front("nginx", workdir / "nginx", gate, stack.ports["postgrest"])
    second_port, second_admin = free_port(), free_port()
    stack.start_postgrest("postgrest_second", second_port, second_admin)
    second_postgrest = f"http://{LOOPBACK}:{second_port}"
    proxies = {"envoy": stack.proxy_url, "nginx": nginx.url}
    try:
        old_kid = current_kid(stack)
        sessions = {name: list(signed_in(api)) for name, api in proxies.items()}
        old_tokens = {name: session[0] for name, session in sessions.items()}
        failures: list[str] = []
        counts = {name: 0 for name in proxies}
        stop = threading.Event()

        def client(name: str, api: str) -> None:
            last_refresh = time.monotonic()
            while not stop.is_set():
                response = read_tasks(api, sessions[name][0])
                counts[name] += 1
                if response.status != 200:
                    failures.append(f"{name}: {response.status} {response.body[:200]!r}")
                if time.monotonic() - last_refresh > 1:
                    refreshed = refresh(api, sessions[name][1])
                    if refreshed.status != 204:
                        failures.append(f"{name} refresh: {refreshed.status} {refreshed.body[:200]!r}")
                    else:
                        sessions[name] = [refreshed.cookie_value("access_token"),
                                          refreshed.cookie_value("refresh_token")]
                    last_refresh = time.monotonic()

        threads = [threading.Thread(target=client, args=item) for item in proxies.items()]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1)
            new_kid = stack.psql(sql="select auth.create_signing_key('EdDSA')").strip()
            time.sleep(ROTATION_DELAY + 0.5)
            assert stack.psql(sql="select auth.rotate_signing_keys()").strip() == new_kid
            time.sleep(3)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert not failures, failures[:5]
        assert all(count > 20 for count in counts.values()), counts
        for name, api in proxies.items():
            assert header_of(sessions[name][0])["kid"] == new_kid, "refreshed tokens carry the new kid"
            assert claims_of(old_tokens[name])["exp"] > now()
            assert read_tasks(api, old_tokens[name]).status == 200, "old tokens stay valid until exp"

        # Revoke the previous key: its tokens are refused everywhere.
        stack.psql(sql=f"select auth.revoke_signing_key('{old_kid}')")
        revoked_at = time.monotonic()
        old = old_tokens["envoy"]
        for postgrest in (stack.postgrest_url, second_postgrest):
            wait_for(lambda url=postgrest: request("GET", f"{url}/task", {"Authorization": f"Bearer {old}"}).status
                     == 401, f"PostgREST {postgrest} refusing a revoked key", 2)
        for name, api in proxies.items():
            # PostgREST behind refuses at once; the proxy itself within the bound.
            wait_for(lambda api=api: not read_tasks(api, old).reached_upstream,
                     f"{name} refusing a revoked key", PROXY_BOUND_SECONDS)
            denied = read_tasks(api, old)
            assert denied.status == 401
            assert denied.json()["details"] == "unknown_key"
            assert read_tasks(api, sessions[name][0]).status == 200
        elapsed = time.monotonic() - revoked_at
        assert elapsed < PROXY_BOUND_SECONDS + 1, f"revocation took {elapsed:.1f} s to reach all four"
    finally:
        stack.stop_process("postgrest_second")
        nginx.stop()
        fronts.remove(workdir)


def test_rotation_waits_for_the_verifiers_unless_forced(keys_mode):
    stack = keys_mode
    kid = stack.psql(sql="select auth.create_signing_key('ES256')").strip()
    with pytest.raises(Exception, match="may not have fetched it yet"):
        stack.psql(sql="select auth.rotate_signing_keys()")
    assert stack.psql(sql="select auth.rotate_signing_keys(force => true)").strip() == kid
    # A token of a key the proxy has not fetched yet: the unknown kid makes
    # it fetch early, and the token passes within the bound.
    access, _ = signed_in(stack.proxy_url)
    assert header_of(access)["kid"] == kid
    wait_for(lambda: read_tasks(stack.proxy_url, access).status == 200, "an early fetch", PROXY_BOUND_SECONDS + 5)

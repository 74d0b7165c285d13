"""Key pairs end to end (pg_auth.signing_mode = keys): tokens signed with the
database's ES256 key pass every proxy and PostgREST; the public keys are
served at /.well-known/jwks.json; a rotation under load fails no request;
a revoked key's tokens are refused by PostgREST at once and by every proxy
within the JWKS refresh interval (2 s here), with two PostgREST instances
and two proxies in front of one database."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

import fronts
import pytest

import stack as stack_controller
from processes import LOOPBACK, free_port
from support.filter import FILTER_OVERRIDES
from support.flow import login, read_tasks, refresh
from support.front import ALL_FRONTS, running_front
from support.http import request
from support.tokens import b64url, claims_of, header_of, mint, now

REFRESH_SECONDS = FILTER_OVERRIDES["jwks_refresh_seconds"]
# What a proxy may take to learn of a key change: its refresh interval, the
# one-second tick that starts a fetch, and the fetch itself.
PROXY_BOUND_SECONDS = REFRESH_SECONDS + 2
ROTATION_DELAY = 3


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
        # The proxies accept the secret's tokens again from their next fetch.
        time.sleep(PROXY_BOUND_SECONDS)


def test_every_front_passes_tokens_of_the_key_pair(keys_mode, gate):
    # Each front is started here rather than taken from the session fixture
    # `front`: pytest groups tests by that fixture's parameter, which set
    # keys_mode up and tore it down again for each front, 8 s each time.
    for name in ALL_FRONTS:
        with running_front(name, keys_mode, lambda: gate) as front:
            passes_tokens_of_the_key_pair(keys_mode, front)


def passes_tokens_of_the_key_pair(keys_mode, front):
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

        # Revoke the previous key: its tokens are refused everywhere. The
        # second PostgREST never saw the old token: it refuses at once. The
        # first has it in its JWT cache, which a reload does not empty: it
        # refuses within jwt-cache-max-lifetime (see the test below).
        stack.psql(sql=f"select auth.revoke_signing_key('{old_kid}')")
        revoked_at = time.monotonic()
        old = old_tokens["envoy"]
        # (Asked once: a request before its reload would cache the token.)
        time.sleep(1)
        assert request("GET", f"{second_postgrest}/task", {"Authorization": f"Bearer {old}"}).status == 401
        for name, api in proxies.items():
            wait_for(lambda api=api: not read_tasks(api, old).reached_upstream,
                     f"{name} refusing a revoked key", PROXY_BOUND_SECONDS)
        # Each Envoy worker has its own VM that fetches on its own schedule:
        # the first refusal says one worker knows. By the bound, all do.
        time.sleep(max(0.0, revoked_at + PROXY_BOUND_SECONDS - time.monotonic()))
        for name, api in proxies.items():
            for _ in range(10):
                denied = read_tasks(api, old)
                assert (denied.status, denied.json()["details"]) == (401, "unknown_key"), name
            assert read_tasks(api, sessions[name][0]).status == 200
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


def test_postgrest_keeps_a_revoked_keys_cached_tokens_until_their_exp(keys_mode):
    """stack/postgrest.conf turns PostgREST's JWT cache on (an ES256 check per
    request cost two thirds of the read throughput). PostgREST 12.0.2 caches
    a token with exp until that exp (jwt-cache-max-lifetime bounds only
    tokens without one) and keeps its cache across the config reload a
    revocation sends: a revoked key's token it has seen passes PostgREST
    itself until it expires (at most pg_auth.access_token_ttl; the proxies
    refuse it within seconds), one it has not seen is refused at once."""
    stack = keys_mode
    old_kid = current_kid(stack)
    seen, _ = signed_in(stack.proxy_url)
    unseen, _ = signed_in(stack.proxy_url)
    assert header_of(seen)["kid"] == header_of(unseen)["kid"] == old_kid

    def status(token):
        return request("GET", f"{stack.postgrest_url}/task", {"Authorization": f"Bearer {token}"}).status

    assert status(seen) == 200
    stack.psql(sql="select auth.create_signing_key('ES256')")
    stack.psql(sql="select auth.rotate_signing_keys(force => true)")
    stack.psql(sql=f"select auth.revoke_signing_key('{old_kid}')")
    time.sleep(1)  # PostgREST's reload
    assert status(unseen) == 401, "a token PostgREST has not seen: refused at once"
    assert status(seen) == 200, "one in PostgREST's JWT cache: until its exp"
    assert claims_of(seen)["exp"] - now() <= int(stack.psql(sql="show pg_auth.access_token_ttl").strip())


def test_the_shipped_postgrest_caches_tokens():
    """On, and for no longer than an access token lives (the value bounds
    only tokens without exp, which the extension never issues)."""
    lifetime = int(stack_controller.postgrest_setting("jwt-cache-max-lifetime") or 0)
    assert 0 < lifetime <= 600

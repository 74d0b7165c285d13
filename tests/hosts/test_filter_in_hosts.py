"""proxy_filter in Envoy (proxy-wasm, the shipped configuration) and Traefik
(http-wasm): the same behaviour through both ABIs."""

import subprocess
import time

import pytest

import stack as stack_controller
from conftest import CRASH_TEST_WASM, FILTER_CONFIG, start_envoy, start_traefik, wait_ready
from processes import pid_alive
from support.cases import PATH_TRICKS
from support.http import raw_request, request
from support.tokens import TEST_SECRET, mint, now


def upstream_headers(response) -> dict[str, list[str]]:
    assert response.header("x-echo") == "1", f"did not reach the upstream: {response.status} {response.body!r}"
    seen: dict[str, list[str]] = {}
    for name, value in response.json()["headers"]:
        seen.setdefault(name, []).append(value)
    return seen


def token(**claims):
    return mint(TEST_SECRET, {"role": "basic_subscriber", "sub": "demo", "exp": now() + 60, **claims})


def test_public_route_passes_untouched(host):
    seen = upstream_headers(request("POST", f"{host.url}/rpc/login"))
    assert "authorization" not in seen


def test_public_route_forwards_a_valid_cookie(host):
    valid = token()
    seen = upstream_headers(request("GET", f"{host.url}/rest/", {"Cookie": f"access_token={valid}"}))
    assert seen["authorization"] == [f"Bearer {valid}"]


def test_the_auth_rpcs_get_no_bearer(host):
    """They read the cookies themselves; PostgREST would check a Bearer first
    (and refuse it during a switch of signing keys, even on a refresh)."""
    valid = token()
    seen = upstream_headers(request("POST", f"{host.url}/rpc/logout", {"Cookie": f"access_token={valid}",
                                                                        "Authorization": "Bearer forged"}))
    assert "authorization" not in seen


def test_public_route_drops_an_invalid_cookie_and_a_client_authorization(host):
    expired = token(exp=now() - 1)
    seen = upstream_headers(request("POST", f"{host.url}/rpc/refresh_token", {
        "Cookie": f"access_token={expired}", "Authorization": f"Bearer {token(exp=now() - 20)}"}))
    assert "authorization" not in seen


def test_private_route_without_cookie_is_401(host):
    response = request("GET", f"{host.url}/rest/task")
    assert response.status == 401
    assert response.header("x-echo") is None
    assert response.header("www-authenticate") == "Bearer"
    assert response.header("content-type").startswith("application/json")
    assert response.json() == {"code": "PGRST302", "message": "Authentication required: no access_token cookie",
                               "details": "missing", "hint": "Log in with POST /rpc/login"}


def test_private_route_with_expired_cookie_is_401_invalid_token(host):
    response = request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={token(exp=now() - 1)}"})
    assert response.status == 401
    assert response.header("www-authenticate") == 'Bearer error="invalid_token", error_description="JWT expired"'
    assert response.json()["message"] == "JWT expired"


def test_a_token_issued_a_moment_ahead_of_the_proxy_clock_passes(host):
    """The database stamps iat at its transaction start; a clock 2 s ahead
    used to make fresh tokens look issued in the future."""
    ahead = token(iat=now() + 2)
    assert request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={ahead}"}).status == 200


def test_valid_cookie_arrives_as_bearer(host):
    valid = token()
    seen = upstream_headers(request("GET", f"{host.url}/rest/task", {"Cookie": f"theme=dark; access_token={valid}"}))
    assert seen["authorization"] == [f"Bearer {valid}"]
    assert seen["x-user"] == ["demo"]


def test_client_authorization_and_claim_headers_are_replaced(host):
    valid = token()
    seen = upstream_headers(request("GET", f"{host.url}/rest/task", {
        "Cookie": f"access_token={valid}", "Authorization": "Bearer forged", "X-User": "admin"}))
    assert seen["authorization"] == [f"Bearer {valid}"]
    assert seen["x-user"] == ["demo"]


@pytest.mark.parametrize("path", ["/rest/secret", "/rest/%73ecret", "/rest//secret"])
def test_an_aal2_route_refuses_other_tokens(host, path):
    for claims in ({}, {"aal": "aal1"}, {"aal": ["aal2"]}):
        refused = request("GET", f"{host.url}{path}", {"Cookie": f"access_token={token(**claims)}"})
        assert refused.status == 403, (claims, refused.body)
        assert refused.header("x-echo") is None
        assert refused.json()["details"] == "insufficient_aal"
    allowed = request("GET", f"{host.url}/rest/secret", {"Cookie": f"access_token={token(aal='aal2')}"})
    assert upstream_headers(allowed)["authorization"]


def test_cross_site_post_is_403(host):
    response = request("POST", f"{host.url}/rpc/login", {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
    assert response.status == 403
    assert response.header("x-echo") is None
    assert response.json()["details"] == "csrf"


def test_two_credential_cookies_are_400_on_every_route(host):
    valid = token()
    for path, cookie in [("/rest/task", f"access_token={valid}; access_token={valid}"),
                         ("/rpc/refresh_token", "refresh_token=a; refresh_token=b")]:
        response = request("POST", f"{host.url}{path}", {"Cookie": cookie})
        assert response.status == 400, path
        assert response.json()["details"] == "ambiguous_cookie"
    split = raw_request(host.url, "GET", "/rest/task",
                        [("Cookie", f"access_token={valid}"), ("Cookie", f"access_token={valid}")])
    assert split.status == 400
    assert split.header("x-echo") is None


@pytest.mark.parametrize("target", PATH_TRICKS)
def test_no_path_trick_reaches_a_private_resource_without_a_cookie(host, target):
    response = raw_request(host.url, "GET", target, [])
    if response.header("x-echo") == "1":
        # Reached the upstream: only as a public route, never as /task.
        assert response.json()["path"].split("?")[0] == "/rpc/login", response.json()
    else:
        assert response.status in (400, 401, 404), (target, response.status)


def test_non_utf8_header_does_not_break_the_filter(host):
    response = raw_request(host.url, "GET", "/rest/task", [("X-Latin1", "caf\xe9")])
    assert response.status == 401
    # The host keeps serving afterwards.
    assert request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={token()}"}).status == 200


def test_h2c_requests_get_the_same_decisions(envoy_with):
    host = envoy_with(FILTER_CONFIG)
    valid = token()
    for cookie, expected in [(None, "401"), (f"access_token={valid}", "200")]:
        command = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "--http2-prior-knowledge",
                   f"{host.url}/rest/task"]
        if cookie:
            command[1:1] = ["-H", f"Cookie: {cookie}"]
        assert subprocess.run(command, capture_output=True, text=True).stdout == f"2 {expected}"


def stats_of(host, name: str) -> int:
    text = request("GET", f"{host.admin_url}/stats?filter=^{name}$").body.decode()
    return int(text.split(": ")[1])


def stats(host) -> dict[str, int]:
    """The filter's counters, once its VMs have added what they counted
    (each tick, every second)."""
    time.sleep(1.2)
    text = request("GET", f"{host.admin_url}/stats?filter=wasmcustom").body.decode()
    return {name: int(value) for name, value in (line.split(": ") for line in text.splitlines())}


def test_envoy_defines_every_counter_at_start_and_counts_each_outcome(envoy_with):
    host = envoy_with({**FILTER_CONFIG, "stat_prefix": "api_auth"})
    before = stats(host)
    for name in ("decision.allowed", "decision.public", "decision.public_with_token", "decision.denied.missing",
                 "decision.denied.expired", "decision.denied.bad_signature", "decision.refused.csrf",
                 "decision.refused.ambiguous_cookie", "decision.failure"):
        assert before[f"wasmcustom.api_auth.{name}"] == 0, name
    valid, expired = token(), token(exp=now() - 1)
    request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={valid}"})
    request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={expired}"})
    request("GET", f"{host.url}/rest/task")
    request("GET", f"{host.url}/rest/task")
    after = stats(host)
    changed = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    # Each tick also brings the key metrics up to date (two tokens checked).
    assert changed == {"wasmcustom.api_auth.decision.allowed": 1, "wasmcustom.api_auth.decision.denied.expired": 1,
                       "wasmcustom.api_auth.decision.denied.missing": 2, "wasmcustom.api_auth.token_cache.miss": 2}
    prometheus = request("GET", f"{host.admin_url}/stats/prometheus").body.decode()
    # stats_tags in the shipped configuration turn the names into labels.
    assert 'api_auth_decision{pg_auth_outcome="denied",pg_auth_reason="missing"} 2' in prometheus
    assert 'api_auth_decision{pg_auth_outcome="allowed"} 1' in prometheus
    assert valid not in prometheus


def test_envoy_enforces_issuer_and_audience(envoy_with):
    host = envoy_with({**FILTER_CONFIG, "issuer": "pg_auth", "audience": "api"})
    good = token(iss="pg_auth", aud="api")
    assert request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={good}"}).status == 200
    for bad, reason in [(token(iss="pg_auth", aud="web"), "wrong_audience"), (token(aud="api"), "wrong_issuer")]:
        response = request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={bad}"})
        assert response.status == 401
        assert response.json()["details"] == reason


def test_a_crashed_vm_refuses_requests_then_recovers(envoy_with):
    """A panic aborts the VM. Without a failure policy Envoy answered 503 on
    that worker until restart; with FAIL_RELOAD it starts a new VM, and in
    between nothing passes unchecked. One worker, so that the crashed VM is
    the one every request meets."""
    host = envoy_with(FILTER_CONFIG, CRASH_TEST_WASM, workers=1)
    valid = token()
    assert request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={valid}"}).status == 200
    crashed = request("GET", f"{host.url}/__crash", {"Cookie": f"access_token={valid}"})
    assert crashed.header("x-echo") is None and crashed.status >= 500
    deadline = time.monotonic() + 15
    statuses = []
    while time.monotonic() < deadline:
        response = request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={valid}"})
        unchecked = request("GET", f"{host.url}/rest/task")
        assert unchecked.header("x-echo") is None, "a request passed unchecked while the VM was down"
        statuses.append(response.status)
        if response.status == 200:
            break
        time.sleep(0.1)
    assert statuses[-1] == 200, statuses
    assert stats_of(host, "wasm.pg_auth_filter.vm_reload_success") >= 1


def test_the_glue_fails_closed_when_a_host_call_fails(envoy_with):
    """The crash-test build treats /__host_failure as a failed host call."""
    host = envoy_with(FILTER_CONFIG, CRASH_TEST_WASM)
    response = request("GET", f"{host.url}/__host_failure", {"Cookie": f"access_token={token()}"})
    assert response.status == 500
    assert response.header("x-echo") is None
    assert response.json()["details"] == "filter_failure"
    assert stats(host)["wasmcustom.pg_auth.decision.failure"] == 1


def test_envoy_refuses_a_bad_configuration(echo_port):
    host = start_envoy(echo_port, {"secret": "short"})
    try:
        deadline = time.monotonic() + 30
        while pid_alive(host.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        log = host.log.read_text(errors="replace")
        assert not pid_alive(host.pid)
        assert "invalid proxy_filter configuration" in log and "at least 32" in log
    finally:
        host.stop()


def test_traefik_refuses_a_bad_configuration(echo_port):
    host = start_traefik(echo_port, {"secret": "short"})
    try:
        deadline = time.monotonic() + 30
        log = ""
        while time.monotonic() < deadline:
            log = host.log.read_text(errors="replace")
            if "invalid proxy_filter configuration" in log:
                break
            time.sleep(0.2)
        assert "at least 32" in log
        # No route runs the plugin: nothing is passed unchecked.
        try:
            response = request("GET", f"{host.url}/rest/task", {"Cookie": "access_token=x"})
            assert response.header("x-echo") is None
        except OSError:
            pass
    finally:
        host.stop()


def test_render_refuses_a_public_admin_address():
    import os

    env = {**os.environ, "LISTEN_ADDRESS": "0.0.0.0", "PROXY_PORT": "1", "ADMIN_ADDRESS": "0.0.0.0",
           "ADMIN_PORT": "2", "POSTGREST_HOST": "x", "POSTGREST_PORT": "3", "FILTER_WASM": "/x"}
    result = subprocess.run(["sh", str(stack_controller.ENVOY_RENDER), str(stack_controller.ENVOY_TEMPLATE)],
                            env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "ADMIN_ADDRESS must be a loopback address" in result.stderr


@pytest.mark.parametrize("trusted_proxy", ["1.2.3.4/33", "300.1.1.1", "10.0.0.0/0", "10.0.0.1/", "a b", "::1/129"])
def test_render_refuses_a_trusted_proxy_that_is_not_an_address(trusted_proxy):
    rendered = stack_controller.render_envoy(proxy_port=1, admin_port=2, postgrest_port=3,
                                             TRUSTED_PROXY=trusted_proxy)
    assert rendered.returncode != 0
    assert "TRUSTED_PROXY must be an IPv4 or IPv6 address or CIDR" in rendered.stderr


def forwarded_for(host, source: str, forwarded: str | None = None) -> str:
    """The X-Forwarded-For the upstream received for a request from `source`."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    echoed = request("GET", f"{host.url}/rpc/login", headers, source=source).json()["headers"]
    return ", ".join(value for name, value in echoed if name == "x-forwarded-for")


def test_envoy_behind_a_load_balancer_counts_each_client_apart(envoy_with):
    """With TRUSTED_PROXY, the balancer's X-Forwarded-For names the client,
    and only the balancer's: per-client counts (forged tokens here) keep
    clients apart behind it, and a client that reaches Envoy directly is
    itself, whatever it claims. PostgREST gets the client address alone."""
    host = envoy_with({**FILTER_CONFIG, "bad_token_limit_per_minute": 5}, workers=1, TRUSTED_PROXY="127.0.0.3")
    balancer = "127.0.0.3"
    assert forwarded_for(host, balancer, "198.51.100.1, 203.0.113.5") == "203.0.113.5"
    assert forwarded_for(host, balancer) == balancer
    assert forwarded_for(host, "127.0.0.2", "203.0.113.5") == "127.0.0.2"
    forged = {"Cookie": f"access_token={token().rsplit('.', 1)[0]}.AAAA"}
    valid = {"Cookie": f"access_token={token()}"}
    for _ in range(5):
        refused = request("GET", f"{host.url}/rest/task", {**forged, "X-Forwarded-For": "203.0.113.5"},
                          source=balancer)
        assert refused.status == 401 and refused.json()["details"] == "bad_signature"
    held = request("GET", f"{host.url}/rest/task", {**valid, "X-Forwarded-For": "203.0.113.5"}, source=balancer)
    assert held.status == 429 and held.json()["details"] == "throttled"
    other = request("GET", f"{host.url}/rest/task", {**valid, "X-Forwarded-For": "203.0.113.6"}, source=balancer)
    assert other.header("x-echo") == "1", "another client behind the balancer passes"
    # Directly, claiming to be the throttled client: it is itself, and passes.
    assert request("GET", f"{host.url}/rest/task", {**valid, "X-Forwarded-For": "203.0.113.5"},
                   source="127.0.0.4").header("x-echo") == "1"
    # Directly, forging with a new claimed address each time: counted as itself.
    for n in range(5):
        request("GET", f"{host.url}/rest/task", {**forged, "X-Forwarded-For": f"198.51.100.{n}"}, source="127.0.0.2")
    assert request("GET", f"{host.url}/rest/task", {**valid, "X-Forwarded-For": "198.51.100.9"},
                   source="127.0.0.2").status == 429


def test_traefik_refuses_a_client_that_keeps_sending_forged_tokens(echo_port):
    """The Traefik plugin counts per client address too (http-wasm's source
    address, asked only for a forged token or while a client is held), in
    each of the few plugin instances Traefik keeps (as Envoy per worker)."""
    host = start_traefik(echo_port, {**FILTER_CONFIG, "bad_token_limit_per_minute": 5})
    try:
        wait_ready(host)
        forged = token().rsplit(".", 1)[0] + ".AAAA"
        details = [request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={forged}"},
                           source="127.0.0.2").json()["details"] for _ in range(5)]
        assert details == ["bad_signature"] * 5
        valid = {"Cookie": f"access_token={token()}"}
        # Traefik may hand a request to an instance that has not counted this
        # client yet (its pool makes new ones): forged tokens until three in
        # a row are refused, then a valid one, at most three times over.
        for _ in range(3):
            for _ in range(40):
                details.append(request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={forged}"},
                                       source="127.0.0.2").json()["details"])
                if details[-3:] == ["throttled"] * 3:
                    break
            assert details[-3:] == ["throttled"] * 3, details
            held = request("GET", f"{host.url}/rest/task", valid, source="127.0.0.2")
            if held.status != 200:
                break
        assert held.status == 429 and held.json()["details"] == "throttled", held.body
        assert 0 < int(held.header("retry-after")) <= 60
        assert request("GET", f"{host.url}/rest/task", valid).header("x-echo") == "1", "another client passes"
    finally:
        host.stop()


def test_envoy_refuses_a_client_that_keeps_sending_forged_tokens(envoy_with):
    """Each forged token costs a signature check (an ES256 one about a
    millisecond in the filter): past bad_token_limit_per_minute a client's
    tokens are refused (429) without one, other clients' are not. Counted
    per worker thread (each has its own VM): one worker here."""
    host = envoy_with({**FILTER_CONFIG, "bad_token_limit_per_minute": 5}, workers=1)
    forged = token().rsplit(".", 1)[0] + ".AAAA"
    for _ in range(5):
        refused = request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={forged}"}, source="127.0.0.2")
        assert refused.status == 401 and refused.json()["details"] == "bad_signature"
    valid = {"Cookie": f"access_token={token()}"}
    held = request("GET", f"{host.url}/rest/task", valid, source="127.0.0.2")
    assert held.status == 429 and held.json()["details"] == "throttled"
    assert 0 < int(held.header("retry-after")) <= 60
    assert request("GET", f"{host.url}/rest/task", valid).header("x-echo") == "1", "another client passes"

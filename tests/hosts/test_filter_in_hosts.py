"""proxy_filter in Envoy (proxy-wasm) and Traefik (http-wasm): the same
behaviour through both ABIs."""

import time

import pytest

from conftest import SECRET, start_envoy, start_traefik
from support.http import mint, now, request


def upstream_headers(response) -> dict[str, list[str]]:
    assert response.header("x-echo") == "1", f"did not reach the upstream: {response.status} {response.body!r}"
    seen: dict[str, list[str]] = {}
    for name, value in response.json()["headers"]:
        seen.setdefault(name, []).append(value)
    return seen


def token(**claims):
    return mint(SECRET, {"role": "basic_subscriber", "sub": "demo", "exp": now() + 60, **claims})


def test_public_route_passes_untouched(host):
    seen = upstream_headers(request("POST", f"{host.url}/rpc/login"))
    assert "authorization" not in seen


def test_public_route_forwards_a_valid_cookie(host):
    valid = token()
    seen = upstream_headers(request("POST", f"{host.url}/rpc/logout", {"Cookie": f"access_token={valid}"}))
    assert seen["authorization"] == [f"Bearer {valid}"]


def test_public_route_drops_an_invalid_cookie(host):
    expired = token(exp=now() - 1)
    seen = upstream_headers(request("POST", f"{host.url}/rpc/refresh_token", {"Cookie": f"access_token={expired}"}))
    assert "authorization" not in seen


def test_private_route_without_cookie_is_401(host):
    response = request("GET", f"{host.url}/rest/task")
    assert response.status == 401
    assert response.header("x-echo") is None
    assert response.header("www-authenticate") == "Bearer"
    assert response.header("content-type").startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details", "hint"}
    assert body["code"] == "PGRST302"


def test_private_route_with_expired_cookie_is_401_invalid_token(host):
    response = request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={token(exp=now() - 1)}"})
    assert response.status == 401
    assert response.header("www-authenticate") == 'Bearer error="invalid_token", error_description="JWT expired"'
    assert response.json()["message"] == "JWT expired"


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


def test_cross_site_post_is_403(host):
    response = request("POST", f"{host.url}/rpc/login", {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
    assert response.status == 403
    assert response.header("x-echo") is None


def test_non_utf8_header_does_not_break_the_filter(host):
    response = request("GET", f"{host.url}/rest/task", {"X-Latin1": "caf\xe9".encode("latin-1").decode("latin-1")})
    assert response.status == 401
    # The host keeps serving afterwards.
    valid = token()
    assert request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={valid}"}).status == 200


def test_envoy_counts_outcomes_without_tokens(host):
    if host.admin_url is None:
        pytest.skip("http-wasm hosts have no metrics interface")
    valid, expired = token(), token(exp=now() - 1)
    request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={valid}"})
    request("GET", f"{host.url}/rest/task", {"Cookie": f"access_token={expired}"})
    request("GET", f"{host.url}/rest/task")
    stats = request("GET", f"{host.admin_url}/stats?filter=pg_auth_filter").body.decode()
    counters = dict(line.split(": ") for line in stats.splitlines() if line.startswith("wasmcustom."))
    for name in ("allowed", "denied.expired", "denied.missing", "public", "csrf_blocked"):
        assert int(counters.get(f"wasmcustom.pg_auth_filter.{name}", 0)) >= 1, (name, counters)
    assert valid.split(".")[2] not in stats


def test_envoy_refuses_a_bad_configuration(echo_port):
    host, _admin = start_envoy(echo_port, {"secret": "short"})
    try:
        host.process.wait(timeout=30)
        log = (host.workdir / "host.log").read_text(errors="replace")
        assert host.process.returncode != 0
        assert "invalid proxy_filter configuration" in log and "at least 32" in log
    finally:
        host.stop()


def test_traefik_refuses_a_bad_configuration(echo_port):
    host, _ping = start_traefik(echo_port, {"secret": "short"})
    try:
        deadline = time.monotonic() + 30
        log = ""
        while time.monotonic() < deadline:
            log = (host.workdir / "host.log").read_text(errors="replace")
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

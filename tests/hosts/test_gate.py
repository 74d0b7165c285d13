"""pg_auth_gate on its own: configuration, health, metrics, protocol errors
and shutdown. Its decisions in front of PostgREST, through Caddy, nginx and
Traefik, are in tests/e2e (the `front` fixture)."""

import json
import os
import re
import signal
import socket
import time

import fronts
import pytest

from processes import LOOPBACK, free_port, http_status, pid_alive, spawn, stop, wait_until
from support.http import request
from support.tokens import TEST_SECRET, mint, now


@pytest.fixture
def gate(tmp_path):
    # Nothing serves the JWKS here: the gate keeps deciding with its secret.
    server = fronts.start_gate(tmp_path, TEST_SECRET, postgrest_url=f"http://{LOOPBACK}:{free_port()}")
    yield server
    server.stop()


def ask(gate, headers):
    return ask_url(gate.url, headers)


def ask_url(url, headers):
    return request("GET", f"{url}/auth", headers)


def test_decisions_and_metrics(gate):
    valid = mint(TEST_SECRET, {"role": "basic_subscriber", "sub": "demo", "exp": now() + 60})
    forwarded = {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/rest/task", "X-Forwarded-Host": "api"}
    allowed = ask(gate, {**forwarded, "Cookie": f"access_token={valid}", "Authorization": "Bearer forged"})
    assert allowed.status == 200
    assert allowed.header("authorization") == f"Bearer {valid}"
    missing = ask(gate, forwarded)
    assert missing.status == 401
    assert missing.header("www-authenticate") == "Bearer"
    assert missing.json()["details"] == "missing"
    public = ask(gate, {**forwarded, "X-Forwarded-Method": "POST", "X-Forwarded-Uri": "/rpc/login",
                        "Authorization": "Bearer forged"})
    assert public.status == 200 and public.header("authorization") is None
    metrics = request("GET", f"{gate.url}/metrics").body.decode()
    assert 'pg_auth_decision{pg_auth_outcome="allowed"} 1\n' in metrics
    assert 'pg_auth_decision{pg_auth_outcome="denied",pg_auth_reason="missing"} 1\n' in metrics
    assert 'pg_auth_decision{pg_auth_outcome="public"} 1\n' in metrics
    assert 'pg_auth_decision{pg_auth_outcome="denied",pg_auth_reason="expired"} 0\n' in metrics
    assert valid not in metrics


def test_aal2_routes_of_the_shipped_configuration(gate):
    """stack/filter-secret.json protects the demo's /rest/secret."""
    forwarded = {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/rest/secret", "X-Forwarded-Host": "api"}
    for aal, status in (("aal1", 403), ("aal2", 200)):
        token = mint(TEST_SECRET, {"role": "basic_subscriber", "sub": "demo", "exp": now() + 60, "aal": aal})
        answer = ask(gate, {**forwarded, "Cookie": f"access_token={token}"})
        assert answer.status == status, answer.body
    nginx_style = ask(gate, {"X-Original-Method": "GET", "X-Original-URI": "/rest/secret",
                             "Cookie": f"access_token={mint(TEST_SECRET, {'sub': 'demo', 'exp': now() + 60})}"})
    assert nginx_style.status == 403
    assert json.loads(nginx_style.header("x-pg-auth-body"))["details"] == "insufficient_aal"


def test_nginx_style_carries_the_denial_in_headers(gate):
    """nginx's auth_request turns any status but 401 and 403 into 500: the
    gate answers 401 and carries the real status and body in headers."""
    response = ask(gate, {"X-Original-Method": "POST", "X-Original-URI": "/rpc/refresh_token",
                          "Cookie": "refresh_token=a; refresh_token=b"})
    assert response.status == 401
    assert response.header("x-pg-auth-status") == "400"
    assert json.loads(response.header("x-pg-auth-body"))["details"] == "ambiguous_cookie"


def test_a_subrequest_without_the_original_request_is_refused(gate):
    response = ask(gate, {"Cookie": "access_token=x"})
    assert response.status == 500
    assert "X-Forwarded-Method" in response.json()["message"]
    assert request("GET", f"{gate.url}/healthz").body == b"ok\n"
    assert request("GET", f"{gate.url}/other").status == 404


def test_garbage_on_the_wire_does_not_stop_it(gate):
    port = int(gate.url.rsplit(":", 1)[1])
    for junk in (b"\x00\xff" * 100, b"GET /auth HTTP/1.1\r\nX-Forwarded-Method: \xff\r\n\r\n",
                 b"GET /auth HTTP/1.1\r\n" + b"X: " + b"a" * 100_000 + b"\r\n\r\n"):
        with socket.create_connection((LOOPBACK, port), timeout=5) as connection:
            connection.sendall(junk)
            try:
                connection.recv(1024)
            except OSError:
                pass
    assert pid_alive(gate.pid)
    assert request("GET", f"{gate.url}/healthz").status == 200


def test_sigterm_stops_it_cleanly(gate):
    os.killpg(gate.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while "pg_auth_gate: stopped" not in gate.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "pg_auth_gate: stopped" in gate.log.read_text()
    with pytest.raises(OSError):
        request("GET", f"{gate.url}/healthz", timeout=2)


@pytest.mark.parametrize(("config", "message"), [
    ({"secret": "short"}, "at least 32"),
    ({"secret_env": "NO_SUCH_VARIABLE"}, "NO_SUCH_VARIABLE is not set"),
    ({"secret_file": "/no/such/file"}, "secret_file \"/no/such/file\""),
    ({"secret_env": "JWT_SECRET", "public_routes": [{"prefix": "/public"}]}, "must end with /"),
    ({"jwks_uri_env": "NO_SUCH_VARIABLE"}, "NO_SUCH_VARIABLE (jwks_uri_env) is not set"),
    ({"jwks_uri": "https://keys.example/jwks.json"}, "the gate fetches over plain HTTP"),
    ({"jwks_file": "/no/such/jwks.json"}, "jwks_file \"/no/such/jwks.json\""),
])
def test_a_bad_configuration_refuses_to_start(tmp_path, config, message):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    log = tmp_path / "gate.log"
    pid = spawn([str(fronts.GATE), "--config", str(path), "--listen", f"{LOOPBACK}:{free_port()}"], log,
                {"JWT_SECRET": TEST_SECRET})
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid)
    assert message in log.read_text()


def test_the_secret_can_come_from_a_file(tmp_path):
    key = tmp_path / "jwt_secret"
    key.write_text(TEST_SECRET + "\n")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"secret_file": str(key), "secret_is_base64": True}))
    server = fronts.start_gate(tmp_path, "unused", config)
    try:
        valid = mint(TEST_SECRET, {"sub": "demo", "exp": now() + 60})
        response = ask(server, {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/rest/task",
                                "Cookie": f"access_token={valid}"})
        assert response.status == 200
    finally:
        server.stop()


def test_a_subrequest_with_both_styles_is_refused(gate):
    """A front sets one style and passes the client's headers on: the other
    style was written by the client (redteam R3-01)."""
    response = ask(gate, {"X-Original-Method": "GET", "X-Original-URI": "/rest/task",
                          "X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/"})
    assert response.status == 500
    assert "both" in response.json()["message"]
    assert response.json()["details"] == "filter_failure"


def readme_gate_commands() -> list[str]:
    proxies = (fronts.ROOT / "docs" / "proxies.md").read_text()
    section = proxies[proxies.index("## The gate (`pg_auth_gate`)"):]
    section = section[:section.index("\n## ")]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return [block for block in blocks if "target/release/pg_auth_gate --config" in block]


@pytest.mark.parametrize("mode", ["keys", "secret"])
def test_the_readme_gate_commands_start_it(stack, tmp_path, mode):
    """docs/proxies.md "The gate": each command as written, with the test stack's
    PostgREST in place of 127.0.0.1:3000 and the secret file in place of
    /etc/postgresql/pg_auth/jwt_secret (the adoption review: the command
    exited for lack of JWKS_URI and REVOCATION_URI)."""
    commands = readme_gate_commands()
    assert len(commands) == 2, commands
    command = commands[0] if mode == "keys" else commands[1]
    assert f"stack/filter{'' if mode == 'keys' else '-secret'}.json" in command
    secret_file = tmp_path / "jwt_secret"
    secret_file.write_text(stack.secret + "\n")
    port = free_port()
    command = (command.replace("http://127.0.0.1:3000", stack.postgrest_url)
               .replace("127.0.0.1:9000", f"{LOOPBACK}:{port}")
               .replace("/etc/postgresql/pg_auth/jwt_secret", str(secret_file)))
    log = tmp_path / "gate.log"
    pid = spawn(["bash", "-c", command.strip()], log, {}, cwd=fronts.ROOT)
    try:
        url = f"http://{LOOPBACK}:{port}"
        wait_until(lambda: http_status(f"{url}/healthz") == 200, "the documented gate", log, pid=pid)
        forwarded = {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/rest/task"}
        assert ask_url(url, forwarded).json()["details"] == "missing"
        token = mint(stack.secret, {"role": "basic_subscriber", "sub": "demo", "exp": now() + 60})
        decided = ask_url(url, {**forwarded, "Cookie": f"access_token={token}"})
        if mode == "secret":
            assert decided.status == 200
        else:
            assert decided.status == 401, "with key pairs the gate holds no secret"
    finally:
        stop(pid)


def test_the_gate_refuses_a_client_that_keeps_sending_forged_tokens(tmp_path):
    """The client is the front's last X-Forwarded-For entry (every shipped
    front sets it): past bad_token_limit_per_minute its tokens are refused
    without a check; another client's pass."""
    server = fronts.start_gate(tmp_path, TEST_SECRET, postgrest_url=f"http://{LOOPBACK}:{free_port()}",
                               config_changes={"bad_token_limit_per_minute": 5})
    try:
        forwarded = {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/rest/task"}
        valid = mint(TEST_SECRET, {"role": "basic_subscriber", "sub": "demo", "exp": now() + 60})
        forged = valid.rsplit(".", 1)[0] + ".AAAA"
        attacker = {**forwarded, "X-Forwarded-For": "10.0.0.1, 198.51.100.7"}
        for _ in range(5):
            assert ask(server, {**attacker, "Cookie": f"access_token={forged}"}).json()["details"] == "bad_signature"
        held = ask(server, {**attacker, "Cookie": f"access_token={valid}"})
        assert held.status == 429 and held.json()["details"] == "throttled"
        other = ask(server, {**forwarded, "X-Forwarded-For": "198.51.100.8", "Cookie": f"access_token={valid}"})
        assert other.status == 200
    finally:
        server.stop()


def fetches(gate, outcome: str) -> int:
    metrics = request("GET", f"{gate.url}/metrics").body.decode()
    found = re.search(rf"^pg_auth_jwks_fetch_{outcome} (\d+)$", metrics, re.MULTILINE)
    assert found, metrics
    return int(found.group(1))


def test_a_feed_that_never_answers_is_given_up_after_the_fetch_timeout(tmp_path):
    """A JWKS endpoint that accepts the connection and says nothing: the gate
    counts the fetch failed after proxy_filter's FETCH_TIMEOUT_SECONDS (5,
    as in Envoy), and keeps deciding meanwhile."""
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen(16)  # the kernel accepts; nobody reads or answers
        started = time.monotonic()
        server = fronts.start_gate(tmp_path, TEST_SECRET, postgrest_url=f"http://{LOOPBACK}:{silent.getsockname()[1]}")
        try:
            valid = mint(TEST_SECRET, {"role": "basic_subscriber", "sub": "demo", "exp": now() + 60})
            decided = ask(server, {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/rest/task",
                                   "Cookie": f"access_token={valid}"})
            assert decided.status == 200
            assert fetches(server, "failed") == 0
            wait_until(lambda: fetches(server, "failed") >= 1, "a failed fetch", seconds=9)
            waited = time.monotonic() - started
            assert 4 <= waited < 8, waited
            assert fetches(server, "ok") == 0
        finally:
            server.stop()

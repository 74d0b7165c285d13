"""Envoy and nginx + gate behind a load balancer (TRUSTED_PROXY, the
balancer's address): its X-Forwarded-For names the client for the proxies'
per-client limits and for the extension's audit trail and login throttle;
a client that reaches a proxy directly is its own address, whatever it
claims. Without it every client behind a balancer shares one address."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import fronts
import pytest

import stack as stack_controller
from processes import LOOPBACK, free_port, http_status, spawn, stop, wait_until
from support.flow import AUTH
from support.http import request

BALANCER = "127.0.0.3"
# Few, so that the test sends few; per Envoy worker (one here).
FORGED_TOKEN_LIMIT = 5


def start_envoy(stack, workdir: Path) -> tuple[str, int]:
    port, admin = free_port(), free_port()
    config = {**json.loads(fronts.FILTER_CONFIGS[stack.signing].read_text()),
              "bad_token_limit_per_minute": FORGED_TOKEN_LIMIT}
    rendered = stack_controller.render_envoy(proxy_port=port, admin_port=admin,
                                             postgrest_port=stack.ports["postgrest"], filter_config=config,
                                             TRUSTED_PROXY=BALANCER)
    assert rendered.returncode == 0, rendered.stderr
    (workdir / "envoy.yaml").write_text(rendered.stdout)
    log = workdir / "envoy.log"
    pid = spawn([str(stack_controller.ENVOY), "-c", str(workdir / "envoy.yaml"), "--base-id", str(admin),
                 "--concurrency", "1", "--log-level", "warn"], log, stack.envoy_env)
    wait_until(lambda: http_status(f"http://{LOOPBACK}:{admin}/ready") == 200, "Envoy", log, pid=pid)
    return f"http://{LOOPBACK}:{port}", pid


@pytest.fixture(scope="module", params=["envoy", "nginx"])
def proxy(stack, request):
    workdir = Path(tempfile.mkdtemp(prefix=f"pg-auth-balanced-{request.param}-"))
    if request.param == "envoy":
        url, pid = start_envoy(stack, workdir)
        yield url
        stop(pid)
    else:
        gate = fronts.start_gate(workdir / "gate", stack.secret if stack.signing == "secret" else None,
                                 fronts.FILTER_CONFIGS[stack.signing], stack.postgrest_url,
                                 {"bad_token_limit_per_minute": FORGED_TOKEN_LIMIT})
        server = fronts.start_front("nginx", workdir / "nginx", gate, stack.ports["postgrest"],
                                    trusted_proxy=BALANCER)
        yield server.url
        server.stop()
        gate.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def audited_address(stack, user: str) -> str:
    return stack.psql(sql=f"select host(address) from auth.audit_event where username = '{user}' "
                          "and event = 'login' order by at desc limit 1").strip()


@pytest.mark.parametrize("source, forwarded, client", [
    (BALANCER, "203.0.113.5", "203.0.113.5"),
    (BALANCER, "198.51.100.1, 203.0.113.6", "203.0.113.6"),
    ("127.0.0.4", "203.0.113.5", "127.0.0.4"),
])
def test_the_audit_trail_records_the_client_behind_the_balancer(stack, proxy, source, forwarded, client):
    user = f"balanced_{source.replace('.', '_')}"
    stack.psql(sql=f"insert into auth.user values ('{user}', 'a password', 'basic_subscriber') "
                   "on conflict do nothing")
    logged_in = request("POST", f"{proxy}/rpc/login", {**AUTH, "X-Forwarded-For": forwarded},
                        json.dumps({"user_": user, "pass": "a password"}), source=source)
    assert logged_in.status == 204, logged_in.body
    assert audited_address(stack, user) == client


def test_forged_tokens_count_against_the_client_not_the_balancer(stack, proxy):
    login = request("POST", f"{proxy}/rpc/login", AUTH, '{"user_": "demo", "pass": "demo"}')
    valid = {"Cookie": f"access_token={login.cookie_value('access_token')}"}
    forged = {"Cookie": f"access_token={login.cookie_value('access_token').rsplit('.', 1)[0]}.AAAA"}
    attacker, neighbour = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "203.0.113.8"}
    for _ in range(FORGED_TOKEN_LIMIT):
        refused = request("GET", f"{proxy}/rest/task", {**forged, **attacker}, source=BALANCER)
        assert refused.status == 401, refused.body
    held = request("GET", f"{proxy}/rest/task", {**valid, **attacker}, source=BALANCER)
    assert held.status == 429 and held.json()["details"] == "throttled"
    assert request("GET", f"{proxy}/rest/task", {**valid, **neighbour}, source=BALANCER).status == 200
    # Directly, claiming the throttled address: it is itself, and reads.
    assert request("GET", f"{proxy}/rest/task", {**valid, **attacker}, source="127.0.0.5").status == 200

"""The third outside attack's findings at the fronts (shared/reviews/redteam-3.md),
run against every proxy: Envoy with the filter, and Caddy 2.6, Caddy 2.11, nginx
and Traefik with the gate. Clients other than the test's own connect from
127.0.0.2 and 127.0.0.3, which every proxy sees as other addresses."""

import re
import socket
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import csp
import fronts
import pytest

import stack as stack_controller
from support.filter import filter_config
from support.flow import AUTH, login
from support.http import request

ATTACKER = "127.0.0.2"
VICTIM = "127.0.0.3"

# A client's own description of another request, in each style a front or
# the gate might read, and hop-by-hop tricks that would drop the front's own.
SPOOFS = [
    {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/"},
    {"X-Original-Method": "GET", "X-Original-URI": "/"},
    {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/", "X-Original-Method": "GET", "X-Original-URI": "/"},
    {"X-Forwarded-Uri": "/", "Connection": "X-Forwarded-Uri"},
    {"X-Original-URI": "/", "Connection": "X-Original-URI, X-Original-Method"},
]


@pytest.mark.parametrize("spoof", SPOOFS, ids=lambda s: "+".join(sorted(s)))
def test_a_client_cannot_choose_the_request_the_gate_decides_on(stack, front, spoof):
    """R3-01: behind nginx a client's X-Forwarded-* won over nginx's X-Original-*."""
    private = request("GET", f"{front.url}/rest/task", spoof)
    assert private.status in (401, 500), private.body
    assert not private.reached_upstream, f"{front.name} passed a private route without a cookie"
    feed = request("GET", f"{front.url}/rpc/ended_sessions", {"Accept-Profile": "auth", **spoof})
    assert feed.status in (404, 500) and not feed.reached_upstream, f"{front.name} served the feed"
    assert b"sessions" not in feed.body


@pytest.mark.parametrize("path", ["/rest/rpc/login", "/rest/rpc/refresh_token", "/rest/rpc/logout",
                                  "/rpc/%6Cogin"])
def test_auth_rpcs_are_served_only_where_they_are_capped(stack, front, path):
    """R3-12: /rest/rpc/login reached bcrypt outside the login rate limit and cap."""
    cookie = f"access_token={login(front.url).cookie_value('access_token')}"
    response = request("POST", f"{front.url}{path}", {**AUTH, "Cookie": cookie},
                       '{"user_": "demo", "pass": "demo"}')
    if front.name in ("envoy", "traefik") and "%" in path:
        # Envoy (normalize_path) and Traefik decode it before routing and
        # deciding: it is /rpc/login, on the capped, rate-limited route.
        assert response.status == 204, response.body
        return
    assert response.status == 404, (front.name, response.status, response.body)
    assert not response.reached_upstream
    assert response.json()["details"] == "not_found"


def test_the_sites_own_origin_is_same_origin_with_its_port(stack, front):
    """R3-09: nginx sent the gate a host without its port."""
    cookie = f"access_token={login(front.url).cookie_value('access_token')}"
    own = request("POST", f"{front.url}/rpc/logout", {**AUTH, "Cookie": cookie, "Origin": front.url}, "{}")
    assert own.status == 204, (front.name, own.body)
    cookie = f"access_token={login(front.url).cookie_value('access_token')}"
    port_80 = f"http://{urlsplit(front.url).hostname}"
    other = request("POST", f"{front.url}/rpc/logout", {**AUTH, "Cookie": cookie, "Origin": port_80}, "{}")
    assert other.status == 403 and other.json()["details"] == "csrf", (front.name, other.body)


def demo_page_policy() -> str:
    """The Content-Security-Policy the demo page needs (stack/web/csp.py)."""
    return csp.policy()


def test_the_demo_page_cannot_be_framed(stack, front):
    """R3-11. Traefik's configuration serves no page."""
    if front.name == "traefik":
        pytest.skip("the Traefik configuration does not serve the demo page")
    page = request("GET", f"{front.url}/")
    assert page.status == 200 and b"<script>" in page.body
    assert page.header("x-frame-options") == "DENY", front.name
    assert page.header("content-security-policy") == demo_page_policy(), front.name


def flood(url: str, seconds: float, connections: int = 2) -> list[int]:
    """Malformed logins (no database work) from ATTACKER, as fast as it goes."""
    statuses: list[int] = []
    deadline = time.monotonic() + seconds

    def send():
        while time.monotonic() < deadline:
            statuses.append(request("POST", f"{url}/rpc/login", AUTH, "x", source=ATTACKER).status)

    threads = [threading.Thread(target=send) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_one_client_flooding_logins_leaves_the_others_alone(stack, front):
    """R3-03: Envoy's login bucket was one for all clients."""
    results: dict[str, list[int]] = {}
    attack = threading.Thread(target=lambda: results.setdefault("attacker", flood(front.url, 2.5)))
    attack.start()
    time.sleep(1.0)  # the attacker's share is spent by now
    victim = [login(front.url, patient=False, source=VICTIM).status for _ in range(4)]
    attack.join()
    attacker = results["attacker"]
    assert len(attacker) >= 100, f"only {len(attacker)} flood requests"
    if not front.name.startswith("caddy"):  # stock Caddy has no rate limit
        assert attacker.count(429) > len(attacker) // 2, (front.name, sorted(set(attacker)))
    assert victim == [204] * 4, (front.name, victim)


def slow_upload(url: str) -> socket.socket:
    """A login whose body never finishes arriving: 1 byte of 1000."""
    parts = urlsplit(url)
    connection = socket.create_connection((parts.hostname, parts.port), timeout=10,
                                          source_address=(ATTACKER, 0))
    connection.sendall(f"POST /rpc/login HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                       "Content-Profile: auth\r\nContent-Length: 1000\r\n\r\n{".encode())
    return connection


def test_slow_uploads_do_not_hold_the_auth_rpcs(stack, front):
    """R3-04 and R3-07: three slow uploads locked every other client out of
    login behind Caddy and Traefik; nginx counted nothing at all."""
    held = [slow_upload(front.url) for _ in range(4)]
    try:
        time.sleep(0.5)
        statuses = [login(front.url, patient=False, source=VICTIM).status for _ in range(3)]
        assert statuses == [204] * 3, (front.name, statuses)
    finally:
        for connection in held:
            connection.close()


@pytest.fixture(scope="module")
def claims_gate(stack):
    """A gate that forwards the sub claim in X-User (forward_claims)."""
    workdir = Path(tempfile.mkdtemp(prefix="pg-auth-claims-gate-"))
    gate = fronts.start_gate(workdir, stack.secret, filter_config(workdir, forward_claims={"sub": "x-user"}),
                             postgrest_url=stack.postgrest_url)
    yield gate
    gate.stop()
    fronts.remove(workdir)


@pytest.fixture(scope="module")
def seen_headers(stack):
    """GET /rpc/seen_headers: the request headers PostgREST got."""
    stack.psql(sql="create or replace function public.seen_headers() returns json language sql stable as "
                   "$$ select current_setting('request.headers', true)::json $$; "
                   "grant execute on function public.seen_headers() to basic_subscriber")
    stack.psql(sql="notify pgrst, 'reload schema'")
    time.sleep(0.5)
    yield "/rpc/seen_headers"
    stack.psql(sql="drop function public.seen_headers()")


@pytest.mark.parametrize("kind", fronts.FRONTS)
def test_a_clients_claim_header_never_reaches_the_upstream(stack, claims_gate, seen_headers, kind, monkeypatch):
    """R3-02: the gate cannot remove a client's X-User. Caddy and nginx pass
    it to the gate, which refuses the request (400 forged_header); Traefik
    does not pass it, and removes it itself when it is named in
    authResponseHeaders, as docs/proxies.md says to do for forward_claims."""
    workdir = Path(tempfile.mkdtemp(prefix=f"pg-auth-claims-{kind}-"))
    if kind == "traefik":
        template = workdir / "dynamic.yml.template"
        shipped = fronts.TRAEFIK_TEMPLATE.read_text()
        assert "authResponseHeaders: [Authorization]" in shipped
        template.write_text(shipped.replace("authResponseHeaders: [Authorization]",
                                            "authResponseHeaders: [Authorization, X-User]"))
        monkeypatch.setattr(fronts, "TRAEFIK_TEMPLATE", template)
    front = fronts.start_front(kind, workdir / kind, claims_gate, stack.ports["postgrest"])
    try:
        cookie = f"access_token={login(front.url).cookie_value('access_token')}"
        forged = request("GET", f"{front.url}{seen_headers}", {"Cookie": cookie, "X-User": "admin"})
        if kind == "traefik":
            assert forged.status == 200, forged.body
            assert forged.json().get("x-user") == "demo", forged.json()
        else:
            assert forged.status == 400 and not forged.reached_upstream, (kind, forged.status, forged.body)
            assert forged.json()["details"] == "forged_header"
        clean = request("GET", f"{front.url}{seen_headers}", {"Cookie": cookie})
        assert clean.status == 200 and clean.json().get("x-user") in ("demo", None), clean.body
    finally:
        front.stop()
        fronts.remove(workdir)


def test_every_front_caps_the_same_auth_rpcs_as_jwt_core():
    """The rate-limited, body-capped routes of each shipped front name the
    auth RPCs of jwt_core's AUTH_RPC_PATHS (logout and refresh have their
    own routes): a new sign-in RPC left out of one front would escape its
    per-client limit there."""
    source = (stack_controller.ROOT / "jwt_core" / "src" / "cookie.rs").read_text()
    listed = source[source.index("pub const AUTH_RPC_PATHS"):]
    listed = listed[:listed.index("];")]
    # The literal names: not logout, nor the refresh path (a constant there).
    wanted = set(re.findall(r'"/rpc/(\w+)"', listed)) - {"logout"}
    assert len(wanted) >= 9, wanted
    configs = {name: (stack_controller.ROOT / "stack" / name).read_text()
               for name in ("caddy/Caddyfile", "nginx/nginx.conf.template", "envoy/envoy.yaml",
                            "traefik/dynamic.yml.template")}
    found = {
        "caddy/Caddyfile": re.search(r"@auth_rpc path (.*)", configs["caddy/Caddyfile"]).group(1),
        "nginx/nginx.conf.template": re.search(r"location ~ \^/rpc/\(([^)]*)\)\$",
                                               configs["nginx/nginx.conf.template"]).group(1),
        "envoy/envoy.yaml": re.search(r'regex: "\^/rpc/\(([^)]*)\)\$"', configs["envoy/envoy.yaml"]).group(1),
        "traefik/dynamic.yml.template": re.search(r"login:\n\s+rule: (.*)",
                                                  configs["traefik/dynamic.yml.template"]).group(1),
    }
    for name, text in found.items():
        names = set(re.findall(r"(?:/rpc/)?\b([a-z_]+)\b", text)) - {"rpc", "Path"}
        assert wanted <= names, (name, wanted - names)

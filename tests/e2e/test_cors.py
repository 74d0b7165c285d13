"""A single-page app on another origin (the demo allows the usual front-end
dev server's, http://localhost:5173) through every proxy: its preflights
pass, its credentialed requests get the exact origin back with credentials
allowed, the proxy's own denials carry CORS headers, and no other origin
gets any."""

import re

import stack as stack_controller
from support.flow import login
from support.http import request

APP = "http://localhost:5173"
OTHER = "https://evil.example"


def cors(response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers if name.lower().startswith("access-control-")}


def preflight(front, origin):
    return request("OPTIONS", f"{front.url}/rest/task", {
        "Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "accept-profile"})


def test_a_preflight_from_the_app_passes(stack, front):
    response = preflight(front, APP)
    assert response.status in (200, 204)
    headers = cors(response)
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-allow-credentials"] == "true"
    assert "GET" in headers["access-control-allow-methods"]


def test_a_preflight_from_another_origin_gets_no_cors_answer(stack, front):
    response = preflight(front, OTHER)
    assert response.status == 403
    assert not cors(response)


def test_credentialed_requests_from_the_app(stack, front):
    access = login(front.url).cookie_value("access_token")
    read = request("GET", f"{front.url}/rest/task", {"Origin": APP, "Cookie": f"access_token={access}"})
    assert read.status == 200
    assert cors(read)["access-control-allow-origin"] == APP
    assert cors(read)["access-control-allow-credentials"] == "true"
    assert "Origin" in ",".join(read.header_values("vary"))
    # The proxy's own 401: readable by the app, with the reason.
    refused = request("GET", f"{front.url}/rest/task", {"Origin": APP})
    assert refused.status == 401
    assert cors(refused) == {"access-control-allow-origin": APP, "access-control-allow-credentials": "true"}
    assert refused.json()["details"] == "missing"
    # Another origin's request gets nothing to read it with.
    other = request("GET", f"{front.url}/rest/task", {"Origin": OTHER, "Cookie": f"access_token={access}"})
    assert "access-control-allow-origin" not in cors(other)


def test_the_filter_and_postgrest_allow_the_same_origins():
    import json
    filter_origins = json.loads((stack_controller.ROOT / "stack" / "filter.json").read_text())["allowed_origins"]
    conf = stack_controller.POSTGREST_CONF.read_text()
    postgrest_origins = re.search(r'^server-cors-allowed-origins = "(.*)"$', conf, re.MULTILINE).group(1)
    assert filter_origins == postgrest_origins.split(",") == [APP]

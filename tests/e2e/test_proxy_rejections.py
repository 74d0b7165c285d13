"""Tokens the proxy refuses before PostgREST sees them, minted with the real
key so that each fails for the stated reason."""

import hashlib

from support.http import claims_of, mint, now, request
from test_flow import login


def valid_claims(stack):
    return claims_of(login(stack).cookie_value("access_token"))


def test_expired_access_cookie_is_refused_by_the_proxy(stack):
    claims = valid_claims(stack)
    expired = mint(stack.secret, {**claims, "exp": now() - 1})
    response = request("GET", f"{stack.proxy_url}/rest/task", {"Cookie": f"access_token={expired}"})
    assert response.status == 401
    assert not response.reached_upstream
    assert response.json()["message"] == "JWT expired"
    assert response.header("www-authenticate") == 'Bearer error="invalid_token", error_description="JWT expired"'


def test_forged_cookie_is_refused_by_the_proxy(stack):
    claims = {**valid_claims(stack), "role": "postgres"}
    other_key = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMDE="
    forged = mint(other_key, claims)
    response = request("GET", f"{stack.proxy_url}/rest/task", {"Cookie": f"access_token={forged}"})
    assert response.status == 401
    assert not response.reached_upstream
    assert response.json()["details"] == "bad_signature"


def test_algorithm_swap_is_refused(stack):
    claims = valid_claims(stack)
    hs512 = mint(stack.secret, claims, {"alg": "HS512", "typ": "JWT"}, hashlib.sha512)
    response = request("GET", f"{stack.proxy_url}/rest/task", {"Cookie": f"access_token={hs512}"})
    assert response.status == 401
    assert response.json()["details"] == "unsupported_algorithm"


def test_client_authorization_header_cannot_bypass_the_cookie(stack):
    token = login(stack).cookie_value("access_token")
    response = request("GET", f"{stack.proxy_url}/rest/task", {"Authorization": f"Bearer {token}"})
    assert response.status == 401
    assert not response.reached_upstream


def test_two_access_cookies_are_refused(stack):
    token = login(stack).cookie_value("access_token")
    response = request("GET", f"{stack.proxy_url}/rest/task",
                       {"Cookie": f"access_token={token}; access_token={token}"})
    assert response.status == 401
    assert response.json()["details"] == "ambiguous"


def test_refresh_with_an_expired_access_cookie_reaches_postgrest(stack):
    logged_in = login(stack)
    expired = mint(stack.secret, {**claims_of(logged_in.cookie_value("access_token")), "exp": now() - 1})
    refresh = logged_in.cookie_value("refresh_token")
    response = request("POST", f"{stack.proxy_url}/rpc/refresh_token", {
        "Content-Profile": "auth", "Cookie": f"access_token={expired}; refresh_token={refresh}"})
    assert response.status == 204
    assert "access_token" in response.cookies()


def test_cross_site_login_is_refused(stack):
    response = request("POST", f"{stack.proxy_url}/rpc/login", {
        "Content-Profile": "auth", "Content-Type": "application/x-www-form-urlencoded",
        "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "user_=demo&pass=demo")
    assert response.status == 403
    assert not response.reached_upstream
    assert not response.cookies()


def test_same_origin_browser_login_passes(stack):
    response = request("POST", f"{stack.proxy_url}/rpc/login", {
        "Content-Profile": "auth", "Content-Type": "application/json",
        "Origin": stack.proxy_url, "Sec-Fetch-Site": "same-origin"}, '{"user_": "demo", "pass": "demo"}')
    assert response.status == 204

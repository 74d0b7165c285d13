"""What the proxy refuses before PostgREST sees it, with tokens minted with the
real key so that each fails for the stated reason."""

import hashlib

import pytest

from support.cases import PATH_TRICKS
from support.flow import AUTH, login, read_tasks, refresh
from support.http import raw_request, request
from support.tokens import claims_of, mint, now


def valid_claims(front):
    return claims_of(login(front.url).cookie_value("access_token"))


def test_expired_access_cookie_is_refused_by_the_proxy(stack, front):
    expired = mint(stack.secret, {**valid_claims(front), "exp": now() - 1})
    response = read_tasks(front.url, expired)
    assert response.status == 401
    assert not response.reached_upstream
    assert response.json()["message"] == "JWT expired"
    assert response.header("www-authenticate") == 'Bearer error="invalid_token", error_description="JWT expired"'


def test_forged_cookie_is_refused_by_the_proxy(stack, front):
    other_key = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMDE="
    forged = mint(other_key, {**valid_claims(front), "role": "postgres"})
    response = read_tasks(front.url, forged)
    assert response.status == 401
    assert not response.reached_upstream
    assert response.json()["details"] == "bad_signature"


def test_algorithm_swap_is_refused(stack, front):
    hs512 = mint(stack.secret, valid_claims(front), {"alg": "HS512", "typ": "JWT"}, hashlib.sha512)
    response = read_tasks(front.url, hs512)
    assert response.status == 401
    assert response.json()["details"] == "unsupported_algorithm"


def test_client_authorization_header_cannot_bypass_the_cookie(stack, front):
    token = login(front.url).cookie_value("access_token")
    response = request("GET", f"{front.url}/rest/task", {"Authorization": f"Bearer {token}"})
    assert response.status == 401
    assert not response.reached_upstream


def test_a_client_authorization_header_never_reaches_postgrest(stack, front):
    """On public routes it used to pass untouched, and PostgREST accepted one
    expired 20 s ago (its 30 s skew) or one without exp. Minted here for a
    role that does not exist: had it reached PostgREST, login would fail."""
    claims = {"role": "no_such_role", "sub": "demo"}
    for token in (mint(stack.secret, {**claims, "exp": now() - 20}), mint(stack.secret, claims)):
        response = login(front.url, headers={"Authorization": f"Bearer {token}"})
        assert response.status == 204, response.body
    direct = request("POST", f"{stack.postgrest_url}/rpc/login",
                     {**AUTH, "Authorization": f"Bearer {mint(stack.secret, claims)}"},
                     '{"user_": "demo", "pass": "demo"}')
    assert direct.status != 204, "the case is real: PostgREST itself would have used it"


def test_two_access_cookies_are_refused(stack, front):
    token = login(front.url).cookie_value("access_token")
    response = request("GET", f"{front.url}/rest/task", {"Cookie": f"access_token={token}; access_token={token}"})
    assert response.status == 400
    assert response.json()["details"] == "ambiguous_cookie"


def test_a_second_refresh_cookie_is_refused_by_the_proxy(stack, front):
    """`refresh_token=<alice>; refresh_token=<bob>` used to sign in as bob
    (PostgREST keeps the last): a cookie tossed from a sibling subdomain could
    log a victim into the attacker's account. PostgREST 12 passes only the
    last cookie on, so the extension cannot tell: the proxy refuses."""
    alice = login(front.url).cookie_value("refresh_token")
    bob = login(front.url).cookie_value("refresh_token")
    cookie = f"refresh_token={alice}; refresh_token={bob}"
    through_proxy = request("POST", f"{front.url}/rpc/refresh_token",
                            {"Content-Profile": "auth", "Cookie": cookie})
    assert through_proxy.status == 400
    assert through_proxy.json()["details"] == "ambiguous_cookie"
    assert not through_proxy.reached_upstream
    assert not through_proxy.cookies()


def test_refresh_with_an_expired_access_cookie_reaches_postgrest(stack, front):
    logged_in = login(front.url)
    expired = mint(stack.secret, {**claims_of(logged_in.cookie_value("access_token")), "exp": now() - 1})
    token = logged_in.cookie_value("refresh_token")
    response = refresh(front.url, token, {"Cookie": f"access_token={expired}; refresh_token={token}"})
    assert response.status == 204
    assert "access_token" in response.cookies()


def test_cross_site_login_is_refused(stack, front):
    # From an address of its own: nginx counts its login rate limit before
    # the gate decides, and the other tests' logins from 127.0.0.1 can have
    # spent it (a 429 instead of the 403 under test).
    response = request("POST", f"{front.url}/rpc/login", {
        "Content-Profile": "auth", "Content-Type": "application/x-www-form-urlencoded",
        "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "user_=demo&pass=demo",
        source="127.0.0.21")
    assert response.status == 403
    assert not response.reached_upstream
    assert not response.cookies()
    assert response.json()["details"] == "csrf"


def test_same_origin_browser_login_passes(stack, front):
    response = login(front.url, headers={"Origin": front.url, "Sec-Fetch-Site": "same-origin"})
    assert response.status == 204


def test_the_auth_schemas_openapi_is_not_served(stack, front):
    """It advertised GET /rpc/login?user_=…&pass=…: passwords in URLs."""
    hidden = request("GET", f"{front.url}/rest/", {"Accept-Profile": "auth"})
    assert hidden.status == 404
    assert b"/rpc/login" not in hidden.body
    # The public schema's OpenAPI is served as before.
    assert request("GET", f"{front.url}/rest/").status == 200


@pytest.mark.parametrize("target", PATH_TRICKS)
def test_no_path_trick_reads_a_private_table_without_a_cookie(stack, front, target):
    response = raw_request(front.url, "GET", target, [])
    assert b"Read the README" not in response.body, (front.name, target, response.status)
    assert response.status != 200 or not response.reached_upstream, (front.name, target, response.status)

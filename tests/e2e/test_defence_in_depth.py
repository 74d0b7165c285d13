"""PostgREST and the extension refuse bad tokens themselves: sent straight to
PostgREST (no proxy), forged, expired, algorithm-swapped and wrongly
audienced Bearer tokens, minted with the real key, never reach data or an RPC
as another role."""

import hashlib

import pytest

from processes import free_port
from support.flow import AUTH, login
from support.http import request
from support.tokens import claims_of, mint, now

OTHER_KEY = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMDE="


def bad_tokens(stack):
    claims = claims_of(login(stack.proxy_url).cookie_value("access_token"))
    return {
        "forged": mint(OTHER_KEY, {**claims, "role": "postgres"}),
        "expired": mint(stack.secret, {**claims, "exp": now() - 3600}),
        "alg_swapped": mint(stack.secret, claims, {"alg": "HS512", "typ": "JWT"}, hashlib.sha512),
        "alg_none": f"{mint(stack.secret, claims, {'alg': 'none', 'typ': 'JWT'}).rsplit('.', 1)[0]}.",
    }


@pytest.mark.parametrize("kind", ["forged", "expired", "alg_swapped", "alg_none"])
@pytest.mark.parametrize("target", ["/task", "/rpc/login", "/rpc/logout", "/rpc/refresh_token"])
def test_postgrest_refuses_bad_bearer_tokens(stack, kind, target):
    token = bad_tokens(stack)[kind]
    method = "GET" if target == "/task" else "POST"
    body = '{"user_": "demo", "pass": "demo"}' if target == "/rpc/login" else None
    response = request(method, f"{stack.postgrest_url}{target}", {**AUTH, "Authorization": f"Bearer {token}"}, body)
    assert response.status == 401, (kind, target, response.body)
    assert not response.cookies()


def test_postgrest_with_jwt_aud_refuses_a_token_for_another_audience(stack):
    """With pg_auth.jwt_aud set, PostgREST's jwt-aud (same value) refuses
    tokens made for another audience, as the proxy does with "audience"."""
    port, admin = free_port(), free_port()
    stack.start_postgrest("postgrest_aud", port, admin, {"PGRST_JWT_AUD": "api"})
    try:
        claims = {**claims_of(login(stack.proxy_url).cookie_value("access_token")), "aud": "api"}
        url = f"http://127.0.0.1:{port}/task"
        assert request("GET", url, {"Authorization": f"Bearer {mint(stack.secret, claims)}"}).status == 200
        web = mint(stack.secret, {**claims, "aud": "web"})
        assert request("GET", url, {"Authorization": f"Bearer {web}"}).status == 401
    finally:
        stack.stop_process("postgrest_aud")

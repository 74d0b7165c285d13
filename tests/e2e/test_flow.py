"""The seed's curl flow, through the real chain: cookie -> Envoy + proxy_filter
-> PostgREST -> pg_auth_ext."""

from support.http import claims_of, request

AUTH = {"Content-Profile": "auth", "Content-Type": "application/json"}


def login(stack, user="demo", password="demo"):
    return request("POST", f"{stack.proxy_url}/rpc/login", AUTH, f'{{"user_": "{user}", "pass": "{password}"}}')


def test_seed_curl_flow(stack):
    logged_in = login(stack)
    assert logged_in.status == 204
    cookies = logged_in.cookies()
    assert set(cookies) == {"access_token", "refresh_token"}
    assert "Path=/;" in cookies["access_token"] and "HttpOnly" in cookies["access_token"]
    assert "Path=/rpc/refresh_token;" in cookies["refresh_token"]
    access = logged_in.cookie_value("access_token")
    refresh = logged_in.cookie_value("refresh_token")
    assert claims_of(access)["role"] == "basic_subscriber"

    private = request("GET", f"{stack.proxy_url}/rest/task", {"Cookie": f"access_token={access}"})
    assert private.status == 200
    assert [task["title"] for task in private.json()][0] == "Read the README"

    anonymous = request("GET", f"{stack.proxy_url}/rest/task")
    assert anonymous.status == 401
    assert not anonymous.reached_upstream

    refreshed = request("POST", f"{stack.proxy_url}/rpc/refresh_token",
                        {"Content-Profile": "auth", "Cookie": f"refresh_token={refresh}"})
    assert refreshed.status == 204
    new_access = refreshed.cookie_value("access_token")
    new_refresh = refreshed.cookie_value("refresh_token")
    assert new_refresh != refresh
    assert claims_of(new_access)["sid"] == claims_of(access)["sid"]

    logged_out = request("POST", f"{stack.proxy_url}/rpc/logout", {**AUTH, "Cookie": f"access_token={new_access}"})
    assert logged_out.status == 204
    cleared = logged_out.cookies()
    assert cleared["access_token"].startswith("access_token=; Path=/; Max-Age=0")
    assert cleared["refresh_token"].startswith("refresh_token=; Path=/rpc/refresh_token; Max-Age=0")

    refused = request("POST", f"{stack.proxy_url}/rpc/refresh_token",
                      {"Content-Profile": "auth", "Cookie": f"refresh_token={new_refresh}"})
    assert refused.status == 401
    assert refused.json()["message"] == "Invalid or expired refresh token"

    # The access token dies with the session (db-pre-request), not at its exp.
    after = request("GET", f"{stack.proxy_url}/rest/task", {"Cookie": f"access_token={new_access}"})
    assert after.status == 401
    assert after.json()["message"] == "Session has ended"


def test_wrong_password_and_unknown_user_answer_alike(stack):
    wrong = login(stack, password="nope")
    unknown = login(stack, user="nobody")
    assert wrong.status == unknown.status == 401
    assert wrong.json() == unknown.json() == {
        "code": "PT401", "details": None, "hint": None, "message": "Invalid user or password"}
    assert not wrong.cookies()


def test_logout_with_an_expired_access_cookie_still_ends_the_session(stack):
    # A browser keeps the access cookie for the session's life; the JWT in it
    # expires after 10 minutes. Simulate that with the real key.
    from support.http import mint, now

    logged_in = login(stack)
    claims = claims_of(logged_in.cookie_value("access_token"))
    expired = mint(stack.secret, {**claims, "iat": now() - 700, "exp": now() - 100})
    logged_out = request("POST", f"{stack.proxy_url}/rpc/logout", {**AUTH, "Cookie": f"access_token={expired}"})
    assert logged_out.status == 204
    refresh = logged_in.cookie_value("refresh_token")
    refused = request("POST", f"{stack.proxy_url}/rpc/refresh_token",
                      {"Content-Profile": "auth", "Cookie": f"refresh_token={refresh}"})
    assert refused.status == 401

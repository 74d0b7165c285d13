"""The curl flow of the plpgsql + caddy-jwt setup, through the real chain:
cookie -> Envoy + proxy_filter -> PostgREST -> pg_auth_ext."""

from support.flow import login, logout, read_refused, read_tasks, refresh
from support.http import request
from support.tokens import claims_of, mint, now

SESSION_SECONDS = 30 * 24 * 3600


def test_curl_flow(stack, front):
    logged_in = login(front.url)
    assert logged_in.status == 204
    assert set(logged_in.cookies()) == {"access_token", "refresh_token"}
    assert logged_in.cookie_attributes("access_token") == [
        "Path=/", f"Max-Age={SESSION_SECONDS}", "HttpOnly", "Secure", "SameSite=Lax"]
    assert logged_in.cookie_attributes("refresh_token") == [
        "Path=/rpc/refresh_token", f"Max-Age={SESSION_SECONDS}", "HttpOnly", "Secure", "SameSite=Lax"]
    access = logged_in.cookie_value("access_token")
    token = logged_in.cookie_value("refresh_token")
    assert claims_of(access)["role"] == "basic_subscriber"

    private = read_tasks(front.url, access)
    assert private.status == 200
    assert [task["title"] for task in private.json()][0] == "Read the README"

    anonymous = request("GET", f"{front.url}/rest/task")
    assert anonymous.status == 401
    assert not anonymous.reached_upstream

    refreshed = refresh(front.url, token)
    assert refreshed.status == 204
    new_access = refreshed.cookie_value("access_token")
    new_token = refreshed.cookie_value("refresh_token")
    assert new_token != token
    assert claims_of(new_access)["sid"] == claims_of(access)["sid"]
    assert refreshed.cookie_attributes("refresh_token")[0] == "Path=/rpc/refresh_token"

    logged_out = logout(front.url, f"access_token={new_access}")
    assert logged_out.status == 204
    removed = ["Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "HttpOnly", "Secure", "SameSite=Lax"]
    assert logged_out.cookie_value("access_token") == ""
    assert logged_out.cookie_value("refresh_token") == ""
    assert logged_out.cookie_attributes("access_token") == ["Path=/", *removed]
    assert logged_out.cookie_attributes("refresh_token") == ["Path=/rpc/refresh_token", *removed]

    refused = refresh(front.url, new_token)
    assert refused.status == 401
    assert refused.json()["message"] == "Invalid or expired refresh token"
    assert refused.json()["details"] == "invalid_refresh_token"

    # The access token dies with the session (the proxy's ended-sessions
    # feed), not at its exp.
    after = read_refused(front.url, new_access)
    assert after.status == 401
    assert after.json()["details"] == "session_ended"


def test_wrong_password_and_unknown_user_answer_alike(stack, front):
    wrong = login(front.url, password="nope")
    unknown = login(front.url, user="nobody")
    assert wrong.status == unknown.status == 401
    assert wrong.json() == unknown.json() == {
        "code": "PT401", "details": "invalid_credentials", "hint": None, "message": "Invalid user or password"}
    assert not wrong.cookies()


def test_logout_with_an_expired_access_cookie_still_ends_the_session(stack, front):
    # A browser keeps the access cookie for the session's life; the JWT in it
    # expires after 10 minutes. Simulate that with the real key.
    logged_in = login(front.url)
    claims = claims_of(logged_in.cookie_value("access_token"))
    expired = mint(stack.secret, {**claims, "iat": now() - 700, "exp": now() - 100})
    assert logout(front.url, f"access_token={expired}").status == 204
    assert refresh(front.url, logged_in.cookie_value("refresh_token")).status == 401


def test_a_password_change_signs_the_user_out_everywhere(stack, front):
    user = f"changer_{front.name.replace('-', '_')}"
    stack.psql(sql=f"insert into auth.user values ('{user}', 'old password', 'basic_subscriber')")
    logged_in = login(front.url, user, "old password")
    access = logged_in.cookie_value("access_token")
    assert read_tasks(front.url, access).status == 200
    stack.psql(sql=f"update auth.user set password = 'new password' where username = '{user}'")
    assert read_refused(front.url, access).json()["details"] == "session_ended"
    assert refresh(front.url, logged_in.cookie_value("refresh_token")).status == 401
    assert login(front.url, user, "new password").status == 204


def test_the_demo_page_is_served_at_the_root(stack, front):
    """stack/web/index.html, public, by every proxy that serves files
    (Traefik does not: its users serve the page elsewhere)."""
    if front.name == "traefik":
        response = request("GET", f"{front.url}/")
        assert response.status == 404 and not response.reached_upstream
        return
    page = request("GET", f"{front.url}/")
    assert page.status == 200, page.body
    assert page.header("content-type").startswith("text/html")
    assert b"<title>pg_auth demo</title>" in page.body
    assert request("POST", f"{front.url}/", {"Content-Type": "text/plain"}, "x").status in (401, 403, 404, 405)

"""Bad input on the RPCs gets a clear 4xx and changes nothing."""

from support.http import request

AUTH = {"Content-Profile": "auth", "Content-Type": "application/json"}


def test_bad_json(stack):
    response = request("POST", f"{stack.proxy_url}/rpc/login", AUTH, '{"user_": "demo",')
    assert response.status == 400
    assert response.json()["code"] == "PGRST102"


def test_wrong_content_type(stack):
    response = request("POST", f"{stack.proxy_url}/rpc/login",
                       {"Content-Profile": "auth", "Content-Type": "text/plain"}, "user_=demo")
    assert response.status == 404
    assert "Could not find the function auth.login" in response.json()["message"]


def test_missing_argument(stack):
    response = request("POST", f"{stack.proxy_url}/rpc/login", AUTH, '{"user_": "demo"}')
    assert response.status == 404
    assert response.json()["hint"] == "Perhaps you meant to call the function auth.login(pass, user_)"


def test_oversized_body(stack):
    response = request("POST", f"{stack.proxy_url}/rpc/login", AUTH, b'{"user_":"' + b"a" * 2_000_000 + b'"}')
    assert response.status == 413


def test_overlong_password_is_a_login_failure_not_a_crash(stack):
    response = request("POST", f"{stack.proxy_url}/rpc/login", AUTH, f'{{"user_": "demo", "pass": "{"x" * 100}"}}')
    assert response.status == 401
    assert response.json()["message"] == "Invalid user or password"


def test_login_by_get_is_refused(stack):
    response = request("GET", f"{stack.proxy_url}/rpc/login?user_=demo&pass=demo", {"Accept-Profile": "auth"})
    assert response.status == 405

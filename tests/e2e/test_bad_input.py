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


def test_account_rpcs_refuse_bad_input_clearly_and_change_nothing(stack):
    """Oversized, malformed and missing input to the account RPCs: a 4xx
    with a slug or PostgREST's code, never a 500, and no account or mail."""
    from support.accounts import STRONG, signup_open

    def call(rpc, body):
        return request("POST", f"{stack.postgrest_url}/rpc/{rpc}", AUTH, body)

    def counts():
        return stack.psql("-A", "-t", sql="select (select count(*) from auth.user), "
                                          "(select count(*) from auth.outbox), (select count(*) from auth.link_token)")

    with signup_open(stack):
        before = counts()
        cases = [
            ("signup", f'{{"email": "{"a" * 5000}@example.org", "pass": "{STRONG}"}}', 422, "invalid_email"),
            ("signup", f'{{"email": "dan@{"b" * 300}.org", "pass": "{STRONG}"}}', 422, "invalid_email"),
            ("signup", '{"email": "dan@example.org", "pass": "' + "long password words " * 10 + '"}', 422,
             "weak_password"),
            ("signup", '{"email": null, "pass": null}', 422, "invalid_email"),
            ("signup", '{"email": "dan@example.org", "pass": null}', 422, "weak_password"),
            ("signup", '{"email": "dan\\u0000@example.org", "pass": "x"}', 400, None),
            ("verify_email", '{"token": "' + "x" * 100_000 + '"}', 400, "invalid_link"),
            ("verify_email", '{"token": null}', 400, "invalid_link"),
            ("reset_password", '{"token": "abc", "new_pass": null}', 400, "invalid_link"),
            ("request_password_reset", '{"email": ["a@example.org"]}', 422, "invalid_email"),
            ("confirm_email_change", '{"token": 12}', 400, "invalid_link"),
        ]
        for rpc, body, status, slug in cases:
            response = call(rpc, body)
            assert response.status == status, (rpc, body[:80], response.status, response.body[:300])
            if slug:
                assert response.json()["details"] == slug, (rpc, body[:80], response.body[:300])
        missing = call("signup", '{"email": "dan@example.org"}')
        assert missing.status == 404 and missing.json()["code"] == "PGRST202", missing.body
        assert counts() == before

"""Second factors end to end, with codes from pyotp (an implementation
independent of the extension's totp-rs): enrolment, step-up, replay, wrong
and old codes, recovery codes, removal, and the demo's aal2 route
(`/rest/secret`) refused to aal1 tokens in every front, forged `aal` claims
included, and by row-level security behind them."""

from __future__ import annotations

import base64
import itertools
import json
import time

import pyotp
import pytest

from support.flow import AUTH, login
from support.http import request

SECRET_PATH = "/rest/secret"
_users = itertools.count()


def new_user(stack) -> str:
    name = f"mfa_user_{next(_users)}_{time.monotonic_ns()}"
    stack.psql(sql=f"insert into auth.user (username, password, role) "
                   f"values ('{name}', 'correct horse battery', 'basic_subscriber')")
    return name


def rpc(api: str, name: str, access: str, body: dict | None = None):
    return request("POST", f"{api}/rpc/{name}", {**AUTH, "Cookie": f"access_token={access}"},
                   json.dumps(body or {}))


def signed_in(api: str, user: str):
    response = login(api, user, "correct horse battery")
    assert response.status in (200, 204), response.body
    return response


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def read_secret(api: str, access: str):
    return request("GET", f"{api}{SECRET_PATH}", {"Cookie": f"access_token={access}"})


def next_code(totp: pyotp.TOTP, after: str | None = None) -> str:
    """The current code, or once the step has moved on, one that is not `after`."""
    while (code := totp.now()) == after:
        time.sleep(0.5)
    return code


def enrolled(api: str, user: str) -> tuple[str, pyotp.TOTP, str, str, list[str]]:
    """(factor id, its TOTP, the aal1 token, the aal2 token, recovery codes)."""
    aal1 = signed_in(api, user).cookie_value("access_token")
    enrolment = rpc(api, "mfa_enroll_totp", aal1, {"friendly_name": "phone"})
    assert enrolment.status == 200, enrolment.body
    answer = enrolment.json()
    totp = pyotp.parse_uri(answer["totp"]["uri"])
    assert totp.secret == answer["totp"]["secret"]
    verified = rpc(api, "mfa_verify", aal1, {"factor_id": answer["id"], "code": totp.now()})
    assert verified.status == 200, verified.body
    return answer["id"], totp, aal1, verified.cookie_value("access_token"), verified.json()["recovery_codes"]


def test_enrol_step_up_and_the_codes_rules(stack):
    api = stack.proxy_url
    user = new_user(stack)
    factor, totp, aal1, aal2, codes = enrolled(api, user)
    assert claims_of(aal1)["aal"] == "aal1"
    assert claims_of(aal2)["aal"] == "aal2"
    assert [m["method"] for m in claims_of(aal2)["amr"]] == ["password", "totp"]
    assert len(codes) == 10 and len(set(codes)) == 10

    # A login now asks for the factor, and starts at aal1.
    again = signed_in(api, user)
    assert again.status == 200
    assert again.json()["mfa_required"] is True
    assert [f["id"] for f in again.json()["factors"]] == [factor]
    fresh = again.cookie_value("access_token")
    assert claims_of(fresh)["aal"] == "aal1"

    # Used, old, wrong and malformed codes: 422, said alike.
    used = totp.now()
    for wrong in (used, totp.at(time.time() - 90), "000000" if used != "000000" else "111111", "12 34", "x" * 5000):
        refused = rpc(api, "mfa_verify", fresh, {"factor_id": factor, "code": wrong})
        assert refused.status == 422, (wrong[:10], refused.body)
        assert refused.json()["details"] == "invalid_code"
    stepped = rpc(api, "mfa_verify", fresh, {"factor_id": factor, "code": next_code(totp, used)})
    assert stepped.status == 200, stepped.body
    assert "recovery_codes" not in stepped.json()

    # A recovery code works once.
    third = signed_in(api, user).cookie_value("access_token")
    recovered = rpc(api, "mfa_recover", third, {"code": codes[0]})
    assert recovered.status == 200 and recovered.json()["recovery_codes_left"] == 9
    assert claims_of(recovered.cookie_value("access_token"))["aal"] == "aal2"
    assert rpc(api, "mfa_recover", third, {"code": codes[0]}).status == 422

    # Removing the factor takes aal2.
    refused = rpc(api, "mfa_unenroll", fresh, {"factor_id": factor})
    assert refused.status == 403 and refused.json()["details"] == "insufficient_aal"
    assert rpc(api, "mfa_unenroll", aal2, {"factor_id": factor}).status == 204
    assert signed_in(api, user).status == 204, "no second factor any more"


def test_wrong_codes_are_throttled_per_factor(stack):
    api = stack.proxy_url
    user = new_user(stack)
    factor, totp, _, _, _ = enrolled(api, user)
    access = signed_in(api, user).cookie_value("access_token")
    wrong = "000000" if totp.now() != "000000" else "111111"
    statuses = [rpc(api, "mfa_verify", access, {"factor_id": factor, "code": wrong}).status for _ in range(5)]
    assert statuses == [422] * 5
    throttled = rpc(api, "mfa_verify", access, {"factor_id": factor, "code": totp.now()})
    assert throttled.status == 429, throttled.body
    assert int(throttled.header("retry-after")) >= 1
    events = stack.psql(sql=f"select string_agg(event, ',' order by at) from auth.audit_event "
                            f"where username = '{user}' and event like 'mfa%'").strip()
    assert events.count("mfa_failed") == 5 and events.endswith("mfa_throttled"), events


def test_the_aal2_route_in_every_front(stack, front):
    user = new_user(stack)
    _, _, aal1, aal2, _ = enrolled(stack.proxy_url, user)
    refused = read_secret(front.url, aal1)
    assert refused.status == 403, refused.body
    assert refused.json()["details"] == "insufficient_aal"
    assert "mfa_verify" in refused.json()["hint"]
    allowed = read_secret(front.url, aal2)
    assert allowed.status == 200, allowed.body
    assert [row["note"] for row in allowed.json()] == ["Seen only after a second factor"]
    # The path written another way is the same route.
    assert request("GET", f"{front.url}/rest/%73ecret", {"Cookie": f"access_token={aal1}"}).status == 403
    # A claim of aal2 that the key did not sign is no token at all.
    header, payload, signature = aal1.split(".")
    forged_claims = {**claims_of(aal1), "aal": "aal2"}
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=").decode()
    forged = read_secret(front.url, f"{header}.{forged_payload}.{signature}")
    assert forged.status == 401, forged.body
    # Other routes take aal1 as before.
    assert request("GET", f"{front.url}/rest/task", {"Cookie": f"access_token={aal1}"}).status == 200


def test_row_level_security_refuses_aal1_tokens_behind_the_proxy(stack):
    """PostgREST reached another way (an embedding, a misconfigured front)
    still shows the table to aal2 tokens only."""
    user = new_user(stack)
    _, _, aal1, aal2, _ = enrolled(stack.proxy_url, user)
    direct = f"http://127.0.0.1:{stack.ports['postgrest']}"
    hidden = request("GET", f"{direct}/secret", {"Authorization": f"Bearer {aal1}"})
    assert hidden.status == 200 and hidden.json() == []
    shown = request("GET", f"{direct}/secret", {"Authorization": f"Bearer {aal2}"})
    assert len(shown.json()) == 1


@pytest.mark.parametrize("body", [
    {"friendly_name": ""}, {"friendly_name": "x" * 65}, {"friendly_name": None}, {"unknown": 1},
])
def test_bad_enrolments_store_nothing(stack, body):
    api = stack.proxy_url
    user = new_user(stack)
    access = signed_in(api, user).cookie_value("access_token")
    response = rpc(api, "mfa_enroll_totp", access, body)
    assert 400 <= response.status < 500, response.body
    assert stack.psql(sql=f"select count(*) from auth.mfa_factor where username = '{user}'").strip() == "0"
    not_found = rpc(api, "mfa_verify", access, {"factor_id": "00000000-0000-0000-0000-000000000000",
                                                "code": "123456"})
    assert not_found.status == 404 and not_found.json()["details"] == "factor_not_found"
    malformed = rpc(api, "mfa_verify", access, {"factor_id": "not-a-uuid", "code": "123456"})
    assert malformed.status == 400, malformed.body


def test_passkey_sign_in_with_bad_credentials_stores_nothing(stack):
    """An unknown credential, a malformed one, no challenge: 401
    invalid_passkey, the challenge used up, nothing stored."""
    api = stack.proxy_url
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    unknown = {"id": b64(b"\x01" * 16), "rawId": b64(b"\x01" * 16), "type": "public-key",
               "response": {"clientDataJSON": b64(b"{}"), "authenticatorData": b64(b"\x00" * 37),
                            "signature": b64(b"\x00" * 64), "userHandle": b64(b"\x02" * 16)}}
    before = stack.psql(sql="select count(*) from auth.passkey").strip()
    for credential in (unknown, {"id": 1}, "not json at all", None):
        begun = request("POST", f"{api}/rpc/passkey_login_begin", AUTH, "{}")
        assert begun.status == 200, begun.body
        challenge = begun.json()["challenge_id"]
        assert begun.json()["options"]["publicKey"]["rpId"] == "localhost"
        refused = request("POST", f"{api}/rpc/passkey_login_finish", AUTH,
                          json.dumps({"challenge_id": challenge, "credential": credential}))
        assert refused.status == 401 and refused.json()["details"] == "invalid_passkey", refused.body
        left = stack.psql(sql=f"select count(*) from auth.webauthn_challenge where id = '{challenge}'").strip()
        assert left == "0"
    assert stack.psql(sql="select count(*) from auth.passkey").strip() == before
    oversized = request("POST", f"{api}/rpc/passkey_login_finish", AUTH,
                        json.dumps({"challenge_id": challenge, "credential": {"id": "A" * 100_000}}))
    assert oversized.status == 413, oversized.body

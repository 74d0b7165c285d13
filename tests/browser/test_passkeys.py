"""Passkeys in headless Chromium with its virtual authenticator (WebDriver's
virtual authenticator API through selenium), through Envoy on
http://localhost (WebAuthn takes no IP address as relying party): add a
passkey on the demo page, sign in with it and no password (aal2), use it as
the second factor after a password; a page on another origin, a replayed
assertion and a signature counter that went back are refused."""

from __future__ import annotations

import json
import secrets

import fronts
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import Credential, VirtualAuthenticatorOptions
from selenium.webdriver.support import expected_conditions as shown
from test_demo_page import browser, signed_in, wait  # noqa: F401 (the fixture)

from support.flow import AUTH
from support.http import request

PASSWORD = "correct horse battery"
SECRET_NOTE = "Seen only after a second factor"


def localhost(url: str) -> str:
    return url.replace("127.0.0.1", "localhost")


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def new_user(stack) -> str:
    user = f"passkey_{secrets.token_hex(4)}"
    stack.psql(sql=f"insert into auth.user (username, password, role) "
                   f"values ('{user}', '{PASSWORD}', 'basic_subscriber')")
    return user


def authenticator(driver) -> None:
    """A platform authenticator that holds discoverable credentials and
    verifies its user (a fingerprint that always matches)."""
    driver.add_virtual_authenticator(VirtualAuthenticatorOptions(
        protocol="ctap2", transport="internal", has_resident_key=True, has_user_verification=True,
        is_user_consenting=True, is_user_verified=True))


def log_in_with_password(driver, api: str, user: str) -> None:
    driver.get(f"{api}/")
    wait(driver, shown.visibility_of_element_located((By.ID, "login")))
    for field, value in (("user", user), ("pass", PASSWORD)):
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
    driver.find_element(By.ID, "login-button").click()
    signed_in(driver)


def with_a_passkey(driver, stack, api: str) -> str:
    """A new user, signed in with a password, who adds a passkey; signed out."""
    user = new_user(stack)
    log_in_with_password(driver, api, user)
    driver.find_element(By.ID, "add-passkey").click()
    wait(driver, lambda d: "Passkey added" in text_of(d, "notice"))
    assert stack.psql(sql=f"select count(*) from auth.passkey where username = '{user}'").strip() == "1"
    driver.find_element(By.ID, "logout").click()
    wait(driver, shown.visibility_of_element_located((By.ID, "login")))
    return user


def read_secret(driver) -> None:
    driver.find_element(By.ID, "read-secret").click()
    wait(driver, lambda d: text_of(d, "secret") == SECRET_NOTE)


def test_add_a_passkey_then_sign_in_with_it_and_no_password(stack, browser):  # noqa: F811
    api = localhost(stack.proxy_url)
    authenticator(browser)
    user = with_a_passkey(browser, stack, api)
    browser.find_element(By.ID, "passkey-login").click()
    signed_in(browser)
    assert text_of(browser, "who") == user
    wait(browser, lambda d: "aal2" in text_of(d, "aal"))
    read_secret(browser)
    events = stack.psql(sql=f"select string_agg(event || coalesce(details ->> 'method', ''), ',' order by at) "
                            f"from auth.audit_event where username = '{user}'").strip()
    assert events.endswith("loginpasskey"), events


def test_a_passkey_is_the_second_factor_after_a_password(stack, browser):  # noqa: F811
    api = localhost(stack.proxy_url)
    authenticator(browser)
    user = with_a_passkey(browser, stack, api)
    log_in_with_password(browser, api, user)
    wait(browser, lambda d: "aal1" in text_of(d, "aal"))
    browser.find_element(By.ID, "passkey-verify").click()
    wait(browser, lambda d: "aal2" in text_of(d, "aal"))
    read_secret(browser)


# The ceremony run by hand in the page, so that the test holds the
# credential the browser produced: {status, body, credential}.
SIGN_IN = """
const done = arguments[arguments.length - 1];
(async () => {
  const post = (path, body) => fetch(path, {method: "POST", body: JSON.stringify(body),
    headers: {"Content-Profile": "auth", "Content-Type": "application/json"}});
  const begun = await (await post("/rpc/passkey_login_begin", {})).json();
  const credential = await navigator.credentials.get(
    {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(begun.options.publicKey)});
  const body = {challenge_id: begun.challenge_id, credential: credential.toJSON()};
  const answer = await post("/rpc/passkey_login_finish", body);
  done({status: answer.status, body: await answer.text(), sent: body});
})().catch((error) => done({error: String(error)}));
"""


def sign_in_by_hand(driver) -> dict:
    outcome = driver.execute_async_script(SIGN_IN)
    assert "error" not in outcome, outcome
    return outcome


def test_a_replayed_assertion_and_a_counter_that_went_back_are_refused(stack, browser):  # noqa: F811
    api = localhost(stack.proxy_url)
    authenticator(browser)
    user = with_a_passkey(browser, stack, api)
    browser.set_script_timeout(30)
    first = sign_in_by_hand(browser)
    assert first["status"] == 204, first
    replayed = request("POST", f"{stack.proxy_url}/rpc/passkey_login_finish", AUTH, json.dumps(first["sent"]))
    assert replayed.status == 401 and replayed.json()["details"] == "invalid_passkey", replayed.body

    # A clone of the passkey whose counter starts again from 0.
    (credential,) = browser.get_credentials()
    assert credential.sign_count >= 2
    browser.remove_all_credentials()
    browser.add_credential(Credential.create_resident_credential(
        credential._id, credential.rp_id, credential._user_handle, credential._private_key, 0))
    cloned = sign_in_by_hand(browser)
    assert cloned["status"] == 401 and json.loads(cloned["body"])["details"] == "invalid_passkey", cloned
    reason = stack.psql(sql=f"select details ->> 'reason' from auth.audit_event where username = '{user}' "
                            f"and event = 'login_failed' order by at desc limit 1").strip()
    assert "ounter" in reason or "ompromise" in reason, reason


@pytest.fixture
def nginx(gate, stack, tmp_path):
    """nginx with the gate in front of the stack's PostgREST: the same site
    on another port (it serves the page at any host name)."""
    server = fronts.start_front("nginx", tmp_path / "nginx", gate, stack.ports["postgrest"])
    yield server
    server.stop()


def test_a_page_on_another_origin_cannot_use_the_passkey(stack, browser, nginx):  # noqa: F811
    """Another origin: the browser signs for it, the server refuses."""
    authenticator(browser)
    with_a_passkey(browser, stack, localhost(stack.proxy_url))
    browser.get(f"{localhost(nginx.url)}/")
    wait(browser, shown.visibility_of_element_located((By.ID, "login")))
    browser.set_script_timeout(30)
    elsewhere = sign_in_by_hand(browser)
    assert elsewhere["status"] == 401, elsewhere
    assert json.loads(elsewhere["body"])["details"] == "invalid_passkey"

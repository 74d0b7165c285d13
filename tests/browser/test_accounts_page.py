"""The demo page's account forms in headless Chromium, through Envoy: sign
up, open the verification link, log in with the address; forgot password,
open the reset link, choose a new password and be signed in. The links are
read from auth.outbox (the tests' stack runs no mailer)."""

from __future__ import annotations

import secrets

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown
from test_demo_page import browser, on_login_form, signed_in, wait  # noqa: F401 (the fixture)

from support.accounts import OTHER_STRONG, SENT, STRONG, mailed_token, signup_open


@pytest.fixture
def open_signup(stack):
    with signup_open(stack):
        yield


def notice(driver, text: str) -> None:
    wait(driver, lambda d: text in d.find_element(By.ID, "notice").text)


def fill(driver, field: str, value: str) -> None:
    element = driver.find_element(By.ID, field)
    element.clear()
    element.send_keys(value)


def test_sign_up_verify_and_reset_on_the_page(stack, browser, open_signup):  # noqa: F811
    api = stack.proxy_url
    address = f"page-{secrets.token_hex(4)}@example.org"
    browser.get(f"{api}/")
    wait(browser, shown.visibility_of_element_located((By.ID, "signup")))
    fill(browser, "signup-email", address)
    fill(browser, "signup-pass", "password123")
    browser.find_element(By.ID, "signup-button").click()
    wait(browser, lambda d: "weak_password" in d.find_element(By.ID, "error").text)
    fill(browser, "signup-pass", STRONG)
    browser.find_element(By.ID, "signup-button").click()
    notice(browser, SENT)

    browser.get(f"{api}/?verify={mailed_token(stack, 'verify_email', address)}")
    notice(browser, "Your address is verified")
    assert "verify" not in browser.current_url
    on_login_form(browser)
    fill(browser, "user", address)
    fill(browser, "pass", STRONG)
    browser.find_element(By.ID, "login-button").click()
    signed_in(browser)

    browser.find_element(By.ID, "logout").click()
    on_login_form(browser)
    fill(browser, "signup-email", address)
    browser.find_element(By.ID, "forgot-button").click()
    notice(browser, SENT)
    browser.get(f"{api}/?reset={mailed_token(stack, 'reset_password', address)}")
    wait(browser, shown.visibility_of_element_located((By.ID, "reset")))
    fill(browser, "reset-pass", OTHER_STRONG)
    browser.find_element(By.ID, "reset-button").click()
    signed_in(browser)
    notice(browser, "Your new password is set")

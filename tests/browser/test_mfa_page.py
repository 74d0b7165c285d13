"""The demo page's second factor in headless Chromium, through Envoy: add an
authenticator app (its secret read off the page, codes from pyotp), step up
to aal2, read the note only aal2 may read; log in again at aal1, be refused
the note, and step up with the next code."""

from __future__ import annotations

import secrets
import time

import pyotp
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown
from test_demo_page import browser, signed_in, wait  # noqa: F401 (the fixture)

PASSWORD = "correct horse battery"


def fill(driver, field: str, value: str) -> None:
    element = driver.find_element(By.ID, field)
    element.clear()
    element.send_keys(value)


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def log_in(driver, api: str, user: str) -> None:
    driver.get(f"{api}/")
    wait(driver, shown.visibility_of_element_located((By.ID, "login")))
    fill(driver, "user", user)
    fill(driver, "pass", PASSWORD)
    driver.find_element(By.ID, "login-button").click()
    signed_in(driver)


def test_enrol_step_up_and_read_the_secret_on_the_page(stack, browser):  # noqa: F811
    api = stack.proxy_url
    user = f"page_mfa_{secrets.token_hex(4)}"
    stack.psql(sql=f"insert into auth.user (username, password, role) "
                   f"values ('{user}', '{PASSWORD}', 'basic_subscriber')")
    log_in(browser, api, user)
    wait(browser, lambda d: "aal1" in text_of(d, "aal"))
    browser.find_element(By.ID, "read-secret").click()
    wait(browser, lambda d: "insufficient_aal" in text_of(d, "error"))

    browser.find_element(By.ID, "enrol").click()
    wait(browser, shown.visibility_of_element_located((By.ID, "enrolment")))
    assert browser.find_element(By.ID, "qr").get_attribute("src").startswith("data:image/svg+xml")
    totp = pyotp.TOTP(text_of(browser, "totp-secret"))
    fill(browser, "code", totp.now())
    browser.find_element(By.ID, "verify-button").click()
    wait(browser, lambda d: "aal2" in text_of(d, "aal"))
    assert len(text_of(browser, "recovery-codes").split()) == 10
    browser.find_element(By.ID, "read-secret").click()
    wait(browser, lambda d: text_of(d, "secret") == "Seen only after a second factor")

    browser.find_element(By.ID, "logout").click()
    log_in(browser, api, user)
    wait(browser, lambda d: "Enter the code" in text_of(d, "notice"))
    wait(browser, lambda d: "aal1" in text_of(d, "aal"))
    assert browser.find_element(By.ID, "verify").is_displayed()
    # The enrolment used this step's code: the next step's passes (clock skew).
    fill(browser, "code", totp.at(time.time() + 30))
    browser.find_element(By.ID, "verify-button").click()
    wait(browser, lambda d: "aal2" in text_of(d, "aal"))
    browser.find_element(By.ID, "read-secret").click()
    wait(browser, lambda d: text_of(d, "secret") == "Seen only after a second factor")

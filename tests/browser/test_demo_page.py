"""The demo page in a real browser: what Chromium does with HttpOnly,
Secure on loopback, SameSite=Lax, the refresh cookie's path, Sec-Fetch-Site
and Origin, through the proxy (Envoy with the filter). Headless Chromium
(Debian's chromium and chromium-driver) driven through selenium; each test
leaves a screenshot of its last state in ARTIFACTS."""

from __future__ import annotations

import http.server
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown
from selenium.webdriver.support.ui import WebDriverWait

import stack as stack_controller
from processes import LOOPBACK, free_port
from support.filter import prefixed_front

# The fixture lives here, not in a conftest.py: tests/hosts imports its own
# conftest by that module name.
ARTIFACTS = stack_controller.ROOT / ".stack" / "artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture
def browser(request):
    """A fresh browser profile per test; its screenshot is saved at the end."""
    profile = Path(tempfile.mkdtemp(prefix="pg-auth-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # The flags keep Chromium off the network it would otherwise call home to.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1000,900", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            driver.save_screenshot(str(ARTIFACTS / f"{request.node.name}.png"))
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)


def wait(driver, condition, seconds: float = 15):
    return WebDriverWait(driver, seconds).until(condition)


def log_in(driver, api: str) -> None:
    driver.get(f"{api}/")
    wait(driver, shown.visibility_of_element_located((By.ID, "login")))
    driver.find_element(By.ID, "user").clear()
    driver.find_element(By.ID, "user").send_keys("demo")
    driver.find_element(By.ID, "pass").send_keys("demo")
    driver.find_element(By.ID, "login-button").click()
    signed_in(driver)


def signed_in(driver, seconds: float = 15) -> None:
    wait(driver, shown.visibility_of_element_located((By.ID, "app")), seconds)
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#tasks li"), seconds)


def on_login_form(driver, seconds: float = 15) -> None:
    wait(driver, shown.visibility_of_element_located((By.ID, "login")), seconds)


def requests_with_cookies(driver) -> list[tuple[str, str]]:
    """(path, Cookie header) of every request the browser sent, from its log."""
    urls, cookies = {}, {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls[params["requestId"]] = urlsplit(params["request"]["url"]).path
        elif message["method"] == "Network.requestWillBeSentExtraInfo":
            headers = {k.lower(): v for k, v in params.get("headers", {}).items()}
            cookies[params["requestId"]] = headers.get("cookie", "")
    return [(urls[rid], cookies.get(rid, "")) for rid in urls]


@pytest.fixture
def short_tokens(stack):
    """Access tokens that live 3 s: expiry happens during the test."""
    stack.psql(sql="alter system set pg_auth.access_token_ttl = 3")
    stack.psql(sql="select pg_reload_conf()")
    time.sleep(0.5)
    yield
    stack.psql(sql="alter system reset pg_auth.access_token_ttl")
    stack.psql(sql="select pg_reload_conf()")


def test_login_cookies_are_httponly_and_the_refresh_cookie_goes_only_to_its_rpc(stack, browser):
    api = stack.proxy_url
    log_in(browser, api)
    assert browser.execute_script("return document.cookie") == "", "HttpOnly: the page sees no token"
    # Every cookie of the profile (WebDriver's own list stops at the page's path).
    cookies = {c["name"]: c for c in browser.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]}
    assert set(cookies) == {"access_token", "refresh_token"}
    assert all(c["httpOnly"] and c["secure"] and c["sameSite"] == "Lax" for c in cookies.values()), cookies
    assert cookies["refresh_token"]["path"] == "/rpc/refresh_token"
    browser.execute_script(
        "await fetch('/rpc/refresh_token', {method: 'POST', headers: {'Content-Profile': 'auth'}});")
    browser.find_element(By.ID, "reload").click()
    signed_in(browser)
    sent = requests_with_cookies(browser)
    assert any(path == "/rpc/refresh_token" and "refresh_token=" in cookie for path, cookie in sent)
    assert any(path == "/rest/task" and "access_token=" in cookie for path, cookie in sent)
    leaked = [path for path, cookie in sent if "refresh_token=" in cookie and path != "/rpc/refresh_token"]
    assert not leaked, f"the refresh cookie went to {leaked}"


def test_the_page_survives_access_token_expiry_by_a_silent_refresh(stack, browser, short_tokens):
    log_in(browser, stack.proxy_url)
    browser.get_log("performance")
    time.sleep(4)
    browser.find_element(By.ID, "reload").click()
    time.sleep(1)
    signed_in(browser)
    assert not browser.find_element(By.ID, "login").is_displayed()
    assert any(path == "/rpc/refresh_token" for path, _ in requests_with_cookies(browser))


def two_tabs(driver, api: str) -> tuple[str, str]:
    """Signed in, then a second tab on the page: both window handles."""
    log_in(driver, api)
    first = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(f"{api}/")
    signed_in(driver)
    return first, driver.current_window_handle


def test_two_tabs_expiring_together_both_stay_signed_in(stack, browser, short_tokens):
    first, second = two_tabs(browser, stack.proxy_url)
    time.sleep(4)
    for handle in (first, second):
        browser.switch_to.window(handle)
        browser.execute_script("document.getElementById('reload').click()")
    time.sleep(2)
    for handle in (first, second):
        browser.switch_to.window(handle)
        signed_in(browser)
        assert not browser.find_element(By.ID, "login").is_displayed(), handle


def test_logout_in_one_tab_signs_the_other_out_at_its_next_action(stack, browser):
    first, second = two_tabs(browser, stack.proxy_url)
    browser.switch_to.window(first)
    browser.find_element(By.ID, "logout").click()
    on_login_form(browser)
    browser.switch_to.window(second)
    browser.find_element(By.ID, "reload").click()
    on_login_form(browser)


class _OtherSite(http.server.BaseHTTPRequestHandler):
    page = b""

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args):
        pass


def test_a_page_on_another_origin_can_neither_read_nor_act(stack, browser):
    api = stack.proxy_url
    log_in(browser, api)
    port = free_port()
    _OtherSite.page = b"<!doctype html><title>elsewhere</title><p>another origin</p>"
    server = http.server.ThreadingHTTPServer((LOOPBACK, port), _OtherSite)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://{LOOPBACK}:{port}/")
        outcome = browser.execute_script(f"""
            const api = {json.dumps(api)};
            const read = await fetch(api + '/rest/task', {{credentials: 'include'}})
                .then(r => 'read ' + r.status).catch(e => 'read blocked');
            // A simple request (no preflight): the browser sends it; the
            // proxy must refuse it before PostgREST runs the logout.
            const logout = await fetch(api + '/rpc/logout', {{
                method: 'POST', credentials: 'include', mode: 'no-cors',
                headers: {{'Content-Type': 'text/plain'}}, body: '{{}}'
            }}).then(r => 'sent ' + r.type).catch(e => 'refused');
            return [read, logout];
        """)
        assert outcome[0] == "read blocked", outcome
    finally:
        server.shutdown()
    browser.get(f"{api}/")
    signed_in(browser)
    assert not browser.find_element(By.ID, "login").is_displayed(), "the session survived the other site"


def test_the_page_recovers_after_a_postgres_restart(stack, browser):
    log_in(browser, stack.proxy_url)
    stack.restart_postgres()
    deadline = time.monotonic() + 30
    while True:
        browser.find_element(By.ID, "reload").click()
        time.sleep(0.5)
        if browser.find_element(By.ID, "app").is_displayed() and not browser.find_element(By.ID, "error").text:
            break
        assert time.monotonic() < deadline, browser.find_element(By.ID, "error").text
    signed_in(browser)


def test_prefixed_cookie_names_work_in_the_browser(stack, browser):
    """pg_auth.cookie_prefixes with the proxy's cookie_prefixes: Chromium
    accepts __Host-access_token (Path=/, Secure, no Domain) and
    __Secure-refresh_token, and the page works with them (nginx and the gate)."""
    with prefixed_front(stack) as front:
        log_in(browser, front.url)
        names = {c["name"] for c in browser.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]}
        assert names == {"__Host-access_token", "__Secure-refresh_token"}
        browser.execute_script(
            "await fetch('/rpc/refresh_token', {method: 'POST', headers: {'Content-Profile': 'auth'}});")
        browser.find_element(By.ID, "reload").click()
        signed_in(browser)

"""An app on another origin (http://localhost:5173, in the shipped
allowed_origins and PostgREST's server-cors-allowed-origins) using the real
@supabase/postgrest-js from npm with js/client.js, in headless Chromium,
against the stack's Envoy at http://localhost:<port> (same site, so the
SameSite=Lax cookies travel): log in, read, read again after the access token
expired (one refresh, then the read again), log out."""

from __future__ import annotations

import functools
import http.server
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_demo_page import browser, short_tokens  # noqa: F401 (fixtures)

import stack as stack_controller
from processes import LOOPBACK, port_is_free

APP_PORT = 5173  # the origin stack/filter.json and stack/postgrest.conf allow
POSTGREST_JS = stack_controller.ROOT / ".stack" / "tools" / "postgrest-js" / "package" / "dist" / "index.mjs"
CLIENT = stack_controller.ROOT / "js" / "client.js"

PAGE = """<!doctype html>
<title>app on another origin</title>
<script type="module">
import { PostgrestClient } from "./postgrest-js.mjs";
import { pgAuth } from "./client.js";
const api = new URLSearchParams(location.search).get("api");
window.calls = [];
const recording = async (input, init) => {
  const response = await fetch(input, init);
  window.calls.push([new URL(String(input)).pathname, response.status]);
  return response;
};
const auth = pgAuth(api, { fetch: recording });
const db = new PostgrestClient(`${api}/rest`, { fetch: auth.fetch });
const read = async () => {
  const { data, error, status } = await db.from("task").select("title");
  return { status, titles: data ? data.map((task) => task.title) : null, details: error ? error.details : null };
};
window.app = { auth, read };
window.ready = true;
</script>
"""


@pytest.fixture
def app_origin():
    """The app's files on http://localhost:5173 (127.0.0.1 only)."""
    if not port_is_free(APP_PORT):
        pytest.fail(f"port {APP_PORT} is taken: the app's origin must be the one the shipped configuration allows")
    folder = Path(tempfile.mkdtemp(prefix="pg-auth-app-"))
    (folder / "index.html").write_text(PAGE)
    shutil.copy(POSTGREST_JS, folder / "postgrest-js.mjs")
    shutil.copy(CLIENT, folder / "client.js")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer((LOOPBACK, APP_PORT), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{APP_PORT}"
    finally:
        server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


def run(driver, script: str):
    """`script` is the body of an async function; its result."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"(async () => {{ {script} }})().then(done, (error) => done({{error: String(error), "
        f"status: error.status, details: error.details}}));")


def test_postgrest_js_on_another_origin_logs_in_refreshes_and_logs_out(stack, browser, short_tokens, app_origin):  # noqa: F811
    api = f"http://localhost:{urlsplit(stack.proxy_url).port}"
    browser.set_script_timeout(30)
    browser.get(f"{app_origin}/?api={api}")
    browser.implicitly_wait(0)
    run(browser, "while (!window.ready) await new Promise((r) => setTimeout(r, 50)); return true;")
    assert run(browser, "return await app.auth.login('demo', 'demo') ?? 'ok';") == "ok"
    first = run(browser, "return await app.read();")
    assert first["status"] == 200 and "Read the README" in first["titles"], first
    # The access token (3 s here) expires: one refresh, then the read again.
    run(browser, "await new Promise((r) => setTimeout(r, 4500)); return true;")
    calls_before = len(browser.execute_script("return window.calls"))
    again = run(browser, "return await app.read();")
    assert again["status"] == 200, again
    calls = browser.execute_script("return window.calls")[calls_before:]
    assert calls == [["/rest/task", 401], ["/rpc/refresh_token", 204], ["/rest/task", 200]], calls
    assert run(browser, "return await app.auth.logout() ?? 'ok';") == "ok"
    after = run(browser, "return await app.read();")
    assert after["status"] == 401, after
    # A wrong password: the API's message and slug.
    refused = run(browser, "return await app.auth.login('demo', 'wrong');")
    assert refused["status"] == 401 and refused["details"] == "invalid_credentials", refused

"""From the shared secret to key pairs with nobody signed out (docs/extension.md
"Switching to key pairs"), through Envoy with the filter and nginx with the
gate, both running stack/filter-secret.json. The adoption review found
signed-in users locked out until their token expired: the proxies passed
their secret-signed tokens on, even to the refresh RPC, and PostgREST, which
then held only the JWKS, refused them with no slug."""

import tempfile
import threading
import time
from pathlib import Path

import fronts
import pytest

from support.filter import FILTER_OVERRIDES
from support.flow import login, read_tasks, refresh
from support.tokens import claims_of, header_of, mint, now

# A proxy learns a change of the JWKS within its refresh interval, the
# one-second tick that starts a fetch, and the fetch itself.
PROXY_BOUND_SECONDS = FILTER_OVERRIDES["jwks_refresh_seconds"] + 2
# PostgREST 12 holds either the shared secret or the JWKS, never both: a
# token signed with the key pair in the moment between the database's
# switch and PostgREST's reload of its JWKS (NOTIFY pgrst) is refused by
# PostgREST. Reads in that moment may fail; refreshes never do, and nobody
# is signed out. Seen at 0 s on an idle machine, under a second when loaded.
RELOAD_WINDOW_SECONDS = 2.0


class Browser:
    """A client as the demo page and js/ behave: on a 401, one refresh, then
    the call again. Counts what a user would see fail."""

    def __init__(self, api: str):
        self.api = api
        signed_in = login(api)
        assert signed_in.status == 204, signed_in.body
        self.access = signed_in.cookie_value("access_token")
        self.refresh_token = signed_in.cookie_value("refresh_token")
        self.failures: list[str] = []
        self.reads = 0

    def read(self) -> None:
        response = read_tasks(self.api, self.access)
        if response.status == 401:
            refreshed = refresh(self.api, self.refresh_token)
            if refreshed.status != 204:
                self.failures.append(f"refresh {refreshed.status} {refreshed.body[:200]!r}")
                return
            self.access = refreshed.cookie_value("access_token")
            self.refresh_token = refreshed.cookie_value("refresh_token")
            response = read_tasks(self.api, self.access)
        self.reads += 1
        if response.status != 200:
            self.failures.append(f"read {response.status} {response.body[:200]!r} with {header_of(self.access)} "
                                 f"at {time.monotonic():.3f}")

    @property
    def signed_with(self) -> str:
        return header_of(self.access)["alg"]


@pytest.fixture
def nginx(stack, gate):
    workdir = Path(tempfile.mkdtemp(prefix="pg-auth-switch-"))
    server = fronts.start_front("nginx", workdir, gate, stack.ports["postgrest"])
    yield server.url
    server.stop()
    fronts.remove(workdir)


def test_switching_to_key_pairs_signs_nobody_out(stack, nginx):
    browsers = [Browser(stack.proxy_url), Browser(nginx)]
    assert {browser.signed_with for browser in browsers} == {"HS256"}
    stop = threading.Event()

    def browse(browser: Browser) -> None:
        while not stop.is_set():
            browser.read()
            time.sleep(0.05)

    threads = [threading.Thread(target=browse, args=(browser,)) for browser in browsers]
    for thread in threads:
        thread.start()
    try:
        # Step 2: a key, still signing with the secret; the proxies learn it.
        stack.psql(sql="select auth.create_signing_key('ES256')")
        time.sleep(PROXY_BOUND_SECONDS)
        assert {browser.signed_with for browser in browsers} == {"HS256"}
        # Step 3: key pairs sign; PostgREST has the JWKS at once, the
        # proxies refuse the secret's tokens from their next fetch.
        stack.use_signing("keys")
        time.sleep(PROXY_BOUND_SECONDS + 1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    try:
        for browser in browsers:
            signed_out = [failure for failure in browser.failures if not failure.startswith("read 401")]
            assert not signed_out, signed_out[:5]
            moments = [float(failure.rsplit(" at ", 1)[1]) for failure in browser.failures]
            assert not moments or max(moments) - min(moments) < RELOAD_WINDOW_SECONDS, browser.failures[:5]
            assert all("ES256" in failure and "PGRST301" in failure for failure in browser.failures), \
                browser.failures[:5]
            assert browser.reads > 20, browser.reads
            assert browser.signed_with == "ES256", "refreshed onto the key pair"
        # A token of the secret is now refused by the proxy itself, with a slug.
        claims = claims_of(browsers[0].access)
        secret_token = mint(stack.secret, {**claims, "exp": now() + 60})
        for api in (stack.proxy_url, nginx):
            refused = read_tasks(api, secret_token)
            assert refused.status == 401 and not refused.reached_upstream
            assert refused.json()["details"] == "unknown_key"
    finally:
        stack.use_signing("secret")
        # The proxies accept the secret's tokens again from their next fetch.
        time.sleep(PROXY_BOUND_SECONDS)

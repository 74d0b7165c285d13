"""The filter configuration the tests give the proxies: stack/filter-secret.json
(the tests' stack signs with the shared secret, and switches to key pairs in
some tests) with the JWKS fetched every 2 s (60 s by default), so that key
rotations and revocations reach the proxies within a test's patience."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fronts

# Many tests send forged tokens from 127.0.0.1 on purpose: the count of
# them per client is off here (as the login throttle is), and on in the
# tests of it (tests/hosts).
FILTER_OVERRIDES = {"jwks_refresh_seconds": 2, "bad_token_limit_per_minute": 0}


def filter_config(workdir: Path, signing: str = "secret", **changes) -> Path:
    """The shipped configuration for `signing` with the tests' overrides and
    `changes`, as a file."""
    return fronts.changed_filter_config(workdir, fronts.FILTER_CONFIGS[signing], {**FILTER_OVERRIDES, **changes})


@contextmanager
def prefixed_front(stack) -> Iterator[fronts.Server]:
    """nginx with a gate whose cookie names carry the __Host-/__Secure-
    prefixes, and pg_auth.cookie_prefixes on for as long as it runs."""
    workdir = Path(tempfile.mkdtemp(prefix="pg-auth-prefixes-"))
    gate = fronts.start_gate(workdir / "gate", stack.secret, filter_config(workdir, cookie_prefixes=True),
                             postgrest_url=stack.postgrest_url)
    front = fronts.start_front("nginx", workdir / "nginx", gate, stack.ports["postgrest"])
    stack.psql(sql="alter system set pg_auth.cookie_prefixes = on")
    stack.psql(sql="select pg_reload_conf()")
    try:
        yield front
    finally:
        stack.psql(sql="alter system reset pg_auth.cookie_prefixes")
        stack.psql(sql="select pg_reload_conf()")
        front.stop()
        gate.stop()
        fronts.remove(workdir)

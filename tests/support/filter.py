"""The filter configuration the tests give the proxies: stack/filter.json
with the JWKS fetched every 2 s (60 s by default), so that key rotations and
revocations reach the proxies within a test's patience."""

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fronts

FILTER_OVERRIDES = {"jwks_refresh_seconds": 2}


def filter_config(workdir: Path, **changes) -> Path:
    """stack/filter.json with the tests' overrides and `changes`, as a file."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "filter.json"
    config.write_text(json.dumps({**json.loads(fronts.FILTER_CONFIG.read_text()), **FILTER_OVERRIDES, **changes}))
    return config


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

"""The stack's PostgREST as the tests reach it: behind the stack's own Envoy,
or behind a stock proxy and the gate."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import fronts


@dataclass
class Front:
    """A proxy's name, and the URL the tests send to."""

    name: str
    url: str


ALL_FRONTS = ("envoy", *fronts.FRONTS)


@contextmanager
def running_front(name: str, stack, gate_of):
    """The stack's PostgREST behind the proxy `name`: the stack's own Envoy,
    or a stock proxy started here with the gate `gate_of()`, stopped after."""
    if name == "envoy":
        yield Front("envoy", stack.proxy_url)
        return
    workdir = Path(tempfile.mkdtemp(prefix=f"pg-auth-{name}-"))
    server = fronts.start_front(name, workdir, gate_of(), stack.ports["postgrest"])
    try:
        yield Front(name, server.url)
    finally:
        server.stop()
        fronts.remove(workdir)

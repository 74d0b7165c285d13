"""Shared fixtures: the real stack (PostgreSQL + PostgREST + Envoy) started by
the same controller the demo uses, in a temporary folder on free ports."""

import tempfile
from pathlib import Path

import fronts
import pytest

from support.filter import FILTER_OVERRIDES, filter_config
from support.front import ALL_FRONTS, running_front
from support.scratch import scratch_stack


@pytest.fixture(scope="session")
def stack():
    def prepare(instance):
        instance.filter_overrides = FILTER_OVERRIDES

    with scratch_stack("pg-auth-e2e-", prepare) as instance:
        # A short reuse grace window, so that the reuse test need not wait 10 s,
        # and rotation on every refresh, as the flow tests expect.
        instance.psql(sql="alter system set pg_auth.refresh_reuse_grace = 2")
        instance.psql(sql="alter system set pg_auth.refresh_min_interval = 0")
        # Every test client is 127.0.0.1 and many tests fail logins on purpose:
        # the login throttle is off here, and on in the tests of it.
        instance.psql(sql="alter system set pg_auth.login_max_failures = 0")
        instance.psql(sql="alter system set pg_auth.login_max_failures_per_address = 0")
        instance.psql(sql="select pg_reload_conf()")
        yield instance
        # The key must never have reached the server log, shutdown included
        # (read before scratch_stack removes the folder).
        instance.down()
        log = instance.log("postgres").read_text(errors="replace")
        assert instance.secret not in log, "the signing key appeared in the PostgreSQL log"


@pytest.fixture(scope="session")
def gate(stack):
    """pg_auth_gate with stack/filter.json and the stack's key."""
    workdir = Path(tempfile.mkdtemp(prefix="pg-auth-gate-"))
    server = fronts.start_gate(workdir, stack.secret, filter_config(workdir), postgrest_url=stack.postgrest_url)
    try:
        yield server
    finally:
        server.stop()
        fronts.remove(workdir)


@pytest.fixture(scope="session", params=ALL_FRONTS)
def front(request, stack):
    """The stack's PostgREST behind each proxy: Envoy with the wasm filter, and
    the stock proxies with pg_auth_gate (the same cases run against each)."""
    with running_front(request.param, stack, lambda: request.getfixturevalue("gate")) as started:
        yield started


@pytest.fixture
def scratch_database(stack):
    """A fresh database in the stack's cluster, dropped afterwards."""
    created = []

    def create(name, options=""):
        stack.psql(sql=f"create database {name} {options}")
        created.append(name)
        return name

    yield create
    for name in created:
        stack.psql(sql=f"drop database if exists {name} with (force)")

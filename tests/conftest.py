"""Shared fixtures: the real stack (PostgreSQL + PostgREST + Envoy) started by
the same controller the demo uses, in a temporary folder on free ports."""

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "stack"))
sys.path.insert(0, str(ROOT / "tests"))

import stack as stack_controller  # noqa: E402


@pytest.fixture(scope="session")
def stack():
    directory = Path(tempfile.mkdtemp(prefix="pg-auth-e2e-"))
    instance = stack_controller.Stack.create(directory, stack_controller.new_secret(), stack_controller.free_port())
    instance.up()
    # A short reuse grace window, so that the reuse test need not wait 10 s.
    instance.psql(sql="alter system set pg_auth.refresh_reuse_grace = 2")
    instance.psql(sql="select pg_reload_conf()")
    try:
        yield instance
    finally:
        instance.down()
        shutil.rmtree(directory, ignore_errors=True)

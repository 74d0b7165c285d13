"""The Debian package (pg_auth_ext/packaging/build-deb.sh), installed with
dpkg into this machine's PostgreSQL as a user would: a scratch cluster
preloads it, creates the extension and runs the curl flow through the real
PostgREST; DROP EXTENSION and DROP SCHEMA then leave nothing of it behind."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import stack as stack_controller
from support.flow import login, logout, refresh
from support.http import request

ROOT = stack_controller.ROOT
PACKAGE = f"postgresql-{stack_controller.VERSIONS['PG_MAJOR']}-pg-auth-ext"


@pytest.fixture(scope="module")
def installed_package():
    built = subprocess.run(["bash", str(ROOT / "pg_auth_ext" / "packaging" / "build-deb.sh")],
                           capture_output=True, text=True, cwd=ROOT)
    assert built.returncode == 0, built.stderr
    deb = ROOT / built.stdout.strip().splitlines()[-1]
    fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version"],
                            capture_output=True, text=True, check=True).stdout
    assert f"Package: {PACKAGE}" in fields
    installed = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    return deb


def test_the_package_owns_the_installed_files(installed_package):
    files = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True, check=True).stdout.split()
    library = str(stack_controller.PG_BIN.parent / "lib" / "pg_auth_ext.so")
    assert library in files
    assert any(f.endswith("/extension/pg_auth_ext.control") for f in files)
    assert any(f.endswith("/extension/pg_auth_ext--0.1.0--0.2.0.sql") for f in files)
    # What is on disk is what the package holds.
    verified = subprocess.run(["dpkg", "--verify", PACKAGE], capture_output=True, text=True)
    assert verified.returncode == 0 and verified.stdout == "", verified.stdout + verified.stderr


def test_a_scratch_cluster_runs_the_flow_with_the_package(installed_package):
    directory = Path(tempfile.mkdtemp(prefix="pg-auth-package-"))
    scratch = stack_controller.Stack.create(directory, stack_controller.new_secret())
    try:
        scratch.start_postgres()
        scratch.migrate()
        scratch.start_postgrest()
        api = scratch.postgrest_url
        logged_in = login(api)
        assert logged_in.status == 204
        access = logged_in.cookie_value("access_token")
        # PostgREST itself, so /task rather than the proxy's /rest/task.
        assert request("GET", f"{api}/task", {"Authorization": f"Bearer {access}"}).status == 200
        assert refresh(api, logged_in.cookie_value("refresh_token")).status == 204
        assert logout(api, f"access_token={access}").status == 204
        # Uninstalling as the README says: DROP EXTENSION takes everything in
        # schema auth, and the schema (which it created) is then empty.
        scratch.psql(sql="drop extension pg_auth_ext")
        scratch.psql(sql="drop schema auth")
        remaining = scratch.psql("-A", "-t", sql="select count(*) from pg_namespace where nspname = 'auth'")
        assert remaining.strip() == "0"
    finally:
        scratch.down()
        shutil.rmtree(directory, ignore_errors=True)

"""The Debian package (pg_auth_ext/packaging/build-deb.sh) and docs/extension.md's
install and uninstall steps, run as written (taken from that file) on this
machine's PostgreSQL and a scratch cluster, with the real PostgREST; the
package is removed again afterwards."""

import os
import re
import shutil
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

import stack as stack_controller
from support.flow import login, logout, refresh
from support.http import request

ROOT = stack_controller.ROOT
EXTENSION_DOC = ROOT / "docs" / "extension.md"
PACKAGE = f"postgresql-{stack_controller.VERSIONS['PG_MAJOR']}-pg-auth-ext"


def package_installed() -> bool:
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True)
    return "install ok installed" in status.stdout


def readme_blocks(section: str) -> list[str]:
    """The sh blocks of docs/extension.md's section `section` (a `## `
    heading), as written."""
    text = EXTENSION_DOC.read_text()
    body = text[text.index(f"\n## {section}\n"):]
    body = body[:body.index("\n## ", 4)]
    blocks = re.findall(r"```sh\n(.*?)```", body, re.DOTALL)
    assert blocks, f"no commands in docs/extension.md section {section}"
    return [textwrap.dedent(block) for block in blocks]


def run_as_written(block: str, env: dict[str, str], replacements: dict[str, str]) -> None:
    for old, new in replacements.items():
        assert old in block, f"{old!r} is not in the documented commands"
        block = block.replace(old, new)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", block], env={**os.environ, **env},
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, f"{block}\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def installed_package():
    """docs/extension.md "Add to an existing database", step 1, as written: the package
    built and installed into the system's PostgreSQL, which no stack of the
    demo or the tests runs (they have their own copies); removed afterwards
    unless it was there before: a test leaves no package behind."""
    there_before = package_installed()
    install = readme_blocks("Add to an existing database")[0]
    run_as_written(install, {}, {})
    assert package_installed()
    yield
    if not there_before:
        removed = subprocess.run(["dpkg", "-r", PACKAGE], capture_output=True, text=True)
        assert removed.returncode == 0, removed.stderr
        assert not package_installed()


def test_the_package_owns_the_installed_files(installed_package):
    files = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True, check=True).stdout.split()
    library = str(stack_controller.SYSTEM_PG_BIN.parent / "lib" / "pg_auth_ext.so")
    assert library in files
    assert any(f.endswith("/extension/pg_auth_ext.control") for f in files)
    assert any(f.endswith("/extension/pg_auth_ext--0.1.0--0.3.0.sql") for f in files)
    assert any(f.endswith("/extension/pg_auth_ext--0.2.0--0.3.0.sql") for f in files)
    # What is on disk is what the package holds.
    verified = subprocess.run(["dpkg", "--verify", PACKAGE], capture_output=True, text=True)
    assert verified.returncode == 0 and verified.stdout == "", verified.stdout + verified.stderr


def role_settings(scratch) -> str:
    return scratch.psql("-A", "-t", sql="select coalesce(string_agg(c, ','), '') from pg_db_role_setting s, "
                                        "unnest(s.setconfig) c where c like 'pgrst.%'", database="app")


def test_the_readme_install_and_uninstall_steps_run_as_written(installed_package):
    """docs/extension.md "Add to an existing database", steps 2 and 3, and "Uninstall",
    step 2, run on a scratch cluster of the system's PostgreSQL (where the
    package installed the extension): the settings are set in the document's
    order (pg_auth.* after the restart that loads the library), the secret's
    encoding agrees with stack/postgrest.conf's, so PostgREST accepts the
    tokens, and the uninstall leaves no role setting behind."""
    directory = Path(tempfile.mkdtemp(prefix="pg-auth-package-"))
    directory.chmod(0o755)
    scratch = stack_controller.Stack.create(directory, "unused")
    scratch.pg_bin = stack_controller.SYSTEM_PG_BIN
    scratch.pg_auth_options = False
    # systemctl restart, for this cluster.
    tools = directory / "tools"
    tools.mkdir()
    systemctl = tools / "systemctl"
    systemctl.write_text(f"#!/bin/sh\nexec runuser -u postgres -- {scratch.pg_bin / 'pg_ctl'} -D {scratch.pgdata} "
                         f"-m fast -w restart >/dev/null\n")
    systemctl.chmod(0o755)
    env = {"PATH": f"{tools}:{os.environ['PATH']}", "PGHOST": stack_controller.LOOPBACK,
           "PGPORT": str(scratch.ports["postgres"]), "PGUSER": "postgres", "PGDATABASE": "postgres"}
    key_folder = directory / "pg_auth"
    _, key_and_library, extension = readme_blocks("Add to an existing database")
    try:
        scratch.start_postgres()
        scratch.psql(sql="create database app")
        # The app's own roles, as an existing PostgREST app has them.
        scratch.psql("-f", str(ROOT / "sql" / "01_roles.sql"), database="app")
        run_as_written(key_and_library, env, {"/etc/postgresql/pg_auth": str(key_folder)})
        assert scratch.psql(sql="show pg_auth.jwt_secret_file").strip() == str(key_folder / "jwt_secret")
        run_as_written(extension, env, {})
        secret = (key_folder / "jwt_secret").read_text().strip()
        scratch.secret = secret
        env_postgrest = scratch.postgrest_env(stack_controller.free_port(), stack_controller.free_port())
        env_postgrest["PGRST_DB_URI"] = env_postgrest["PGRST_DB_URI"].rsplit("/", 1)[0] + "/app"
        scratch.start_postgrest(port=int(env_postgrest["PGRST_SERVER_PORT"]),
                                admin_port=int(env_postgrest["PGRST_ADMIN_SERVER_PORT"]), env=env_postgrest)
        api = f"http://{stack_controller.LOOPBACK}:{env_postgrest['PGRST_SERVER_PORT']}"
        logged_in = login(api, "alice", "a long passphrase")
        assert logged_in.status == 204, logged_in.body
        access = logged_in.cookie_value("access_token")
        # PostgREST accepts the token: the secret's encodings agree.
        me = request("GET", f"{api}/rpc/me", {"Authorization": f"Bearer {access}", "Accept-Profile": "auth"})
        assert me.status == 200, me.body
        assert refresh(api, logged_in.cookie_value("refresh_token")).status == 204
        assert logout(api, f"access_token={access}").status == 204

        # Key pairs publish a JWKS on the authenticator role, which the
        # uninstall must take back.
        kek = key_folder / "key_encryption_key"
        kek.write_text(stack_controller.new_secret() + "\n")
        kek.chmod(0o600)
        subprocess.run(["chown", "postgres", str(kek)], check=True)
        scratch.psql(sql=f"alter system set pg_auth.key_encryption_key_file = '{kek}'")
        scratch.psql(sql="alter system set pg_auth.signing_mode = 'keys'")
        scratch.psql(sql="select pg_reload_conf()")
        time.sleep(0.5)
        scratch.psql(sql="select auth.create_signing_key('ES256')", database="app")
        assert "pgrst.jwt_secret=" in role_settings(scratch)
        (uninstall,) = readme_blocks("Uninstall")
        run_as_written(uninstall, env, {})
        assert role_settings(scratch).strip() == ""
        remaining = scratch.psql("-A", "-t", sql="select count(*) from pg_namespace where nspname = 'auth'",
                                 database="app")
        assert remaining.strip() == "0"
    finally:
        scratch.down()
        shutil.rmtree(directory, ignore_errors=True)

"""The test command runs beside a running demo: it builds into its own copy of
PostgreSQL (stack.py postgres), never into the one a running server has
loaded its library from. Installing into that one used to crash the demo's
server ("unrecognized function API version", then "shutting down due to
startup process failure")."""

import shutil
import subprocess
from pathlib import Path

import stack as stack_controller
from support.sql_flow import sql_login, sql_refresh

ROOT = stack_controller.ROOT
CRASHED = ("terminated by signal", "was terminated", "shutting down due to startup process failure",
           "unrecognized function API version")


def test_the_demo_and_the_tests_have_their_own_postgresql():
    demo = stack_controller.postgres_tree("demo")
    tests = stack_controller.postgres_tree("tests")
    assert demo != tests
    system = stack_controller.SYSTEM_PG_BIN.parent
    assert tests / "lib" / "postgresql" / stack_controller.VERSIONS["PG_MAJOR"] / "bin" == stack_controller.PG_BIN
    assert system not in stack_controller.PG_BIN.parents


def pg_config(bin_dir: Path, option: str) -> Path:
    return Path(subprocess.run([str(bin_dir / "pg_config"), option], capture_output=True, text=True,
                               check=True).stdout.strip())


def copy_extension(source_bin: Path, target_bin: Path) -> None:
    """The extension's files of one installation into another."""
    for option, folder, pattern in (("--pkglibdir", "", "pg_auth_ext.so"), ("--sharedir", "extension", "pg_auth_ext*")):
        for file in (pg_config(source_bin, option) / folder).glob(pattern):
            shutil.copy2(file, pg_config(target_bin, option) / folder / file.name)


def test_installing_for_the_tests_leaves_a_running_server_serving():
    """A server running from one installation, as the demo's does, keeps
    serving while the extension is installed again into another, exactly as
    tests/run and stack/lib/build.sh do it (into installations of this
    test's own, so as not to touch the one the other tests run from)."""
    other_bin = stack_controller.ensure_postgres("beside-check")
    install_bin = stack_controller.ensure_postgres("beside-install")
    copy_extension(stack_controller.PG_BIN, other_bin)
    try:
        with stack_controller.Stack.scratch("pg-auth-beside-") as running:
            running.pg_bin = other_bin
            running.start_postgres()
            running.migrate()
            token = sql_login(running, "postgres", "demo", "demo")
            installed = subprocess.run(
                ["cargo", "pgrx", "install", "--release", "--pg-config", str(install_bin / "pg_config")],
                cwd=ROOT / "pg_auth_ext", capture_output=True, text=True)
            assert installed.returncode == 0, installed.stderr[-2000:]
            # New backends of the running server: still serving, nothing crashed.
            assert "refresh_token=" in sql_refresh(running, "postgres", token)
            assert sql_login(running, "postgres", "demo", "demo")
            log = running.log("postgres").read_text(errors="replace")
            assert not [line for line in log.splitlines() if any(word in line for word in CRASHED)], log[-3000:]
    finally:
        for name in ("beside-check", "beside-install"):
            shutil.rmtree(stack_controller.postgres_tree(name), ignore_errors=True)

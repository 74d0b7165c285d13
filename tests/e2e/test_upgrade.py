"""ALTER EXTENSION pg_auth_ext UPDATE from 0.1.0: accounts, sessions and the
deployment's grants survive, every refresh cookie out there keeps working,
and the result is the same schema as a fresh install of this version.

0.1.0's SQL (tests/fixtures) runs on this version's library: every C
function 0.1.0 declares is still exported with the same signature, which is
also what keeps the minutes between a library upgrade and the ALTER safe."""

import hashlib
import shutil
import subprocess

import pytest

import stack as stack_controller
from support.sql_flow import sql_login, sql_refresh

FIXTURE = stack_controller.ROOT / "tests" / "fixtures" / "pg_auth_ext--0.1.0.sql"
GRANTS = stack_controller.ROOT / "sql" / "03_grants.sql"

# What a 0.1.0 deployment granted (sql/03_grants.sql of that version).
GRANTS_0_1_0 = """grant usage on schema auth to anon, basic_subscriber;
grant execute on function auth.login(text, text), auth.logout(), auth.refresh_token(), auth.check_session()
to anon, basic_subscriber;"""

# Everything a schema is made of, as sets of rows that do not depend on
# creation order or oids.
CATALOG = {
    "functions": """select p.oid::regprocedure, pg_get_function_result(p.oid), pg_get_function_arguments(p.oid),
                           l.lanname, p.prosrc, p.prosecdef, p.provolatile, p.proisstrict, p.proparallel,
                           p.proconfig, p.proacl
                    from pg_proc p join pg_language l on l.oid = p.prolang
                    where p.pronamespace = 'auth'::regnamespace""",
    "columns": """select table_name, column_name, data_type, column_default, is_nullable
                  from information_schema.columns where table_schema = 'auth'""",
    "constraints": """select conrelid::regclass, conname, pg_get_constraintdef(oid)
                      from pg_constraint where connamespace = 'auth'::regnamespace""",
    "indexes": """select indexrelid::regclass, pg_get_indexdef(indexrelid) from pg_index
                  where indrelid in (select oid from pg_class where relnamespace = 'auth'::regnamespace)""",
    "triggers": """select tgrelid::regclass, tgname, pg_get_triggerdef(oid) from pg_trigger
                   where not tgisinternal and tgrelid in
                   (select oid from pg_class where relnamespace = 'auth'::regnamespace)""",
    "event triggers": "select evtname, evtevent, evtfoid::regproc, evttags from pg_event_trigger",
    "table privileges": """select relname, relacl from pg_class where relnamespace = 'auth'::regnamespace""",
    "members": """select pg_describe_object(classid, objid, objsubid) from pg_depend
                  where refobjid = (select oid from pg_extension where extname = 'pg_auth_ext') and deptype = 'e'""",
    "dumped tables": "select unnest(extconfig)::regclass from pg_extension where extname = 'pg_auth_ext'",
}


def catalog(stack, database):
    return {name: sorted(stack.psql("-A", "-t", sql=query, database=database).splitlines())
            for name, query in CATALOG.items()}


@pytest.fixture
def version_0_1_0():
    """0.1.0's install script next to this version's, for CREATE EXTENSION … VERSION '0.1.0'."""
    sharedir = subprocess.run([str(stack_controller.PG_BIN / "pg_config"), "--sharedir"],
                              capture_output=True, text=True, check=True).stdout.strip()
    installed = stack_controller.Path(sharedir) / "extension" / FIXTURE.name
    shutil.copyfile(FIXTURE, installed)
    yield
    installed.unlink()


def test_update_from_0_1_0_keeps_accounts_sessions_and_grants(stack, scratch_database, version_0_1_0):
    old = scratch_database("upgrade_from_0_1_0")
    stack.psql(sql="create extension pg_auth_ext version '0.1.0'", database=old)
    stack.psql(sql=GRANTS_0_1_0, database=old)
    stack.psql(sql="insert into auth.user values ('early', 'early password', 'basic_subscriber'), "
                   "('leaver', 'leaver password', 'basic_subscriber')", database=old)
    current = sql_login(stack, old, "early", "early password")
    rotated = sql_login(stack, old, "early", "early password")
    current_after_rotation = sql_refresh(stack, old, rotated).split("refresh_token=")[1].split(";")[0]
    ended = sql_login(stack, old, "leaver", "leaver password")
    stack.psql(sql="update auth.session set revoked_at = now() where username = 'leaver'", database=old)

    stack.psql(sql="alter extension pg_auth_ext update", database=old)
    assert stack.psql("-A", "-t", sql="select extversion from pg_extension where extname = 'pg_auth_ext'",
                      database=old).strip() == "0.3.0"

    # Refresh cookies issued by 0.1.0 refresh; the ended session stays ended.
    assert "refresh_token=" in sql_refresh(stack, old, current)
    assert "refresh_token=" in sql_refresh(stack, old, current_after_rotation)
    with pytest.raises(stack_controller.StackError, match="invalid_refresh_token|Invalid or expired"):
        sql_refresh(stack, old, ended)
    assert sql_login(stack, old, "early", "early password")
    # The deployment's grant on refresh_token(), whose result type changed.
    assert stack.psql("-A", "-t", sql="select has_function_privilege('anon', 'auth.refresh_token()', 'execute')",
                      database=old).strip() == "t"

    # The same schema as a fresh install, once both have this version's grants.
    fresh = scratch_database("fresh_0_2_0")
    stack.psql(sql="create extension pg_auth_ext", database=fresh)
    for database in (old, fresh):
        stack.psql("-f", str(GRANTS), database=database)
    upgraded, installed = catalog(stack, old), catalog(stack, fresh)
    for name in CATALOG:
        assert installed[name], name
        assert upgraded[name] == installed[name], name


UPGRADES = stack_controller.ROOT / "pg_auth_ext" / "upgrades"


def test_the_unreleased_upgrade_script_is_as_generated():
    """pg_auth_ext/upgrades/generate.py writes it from its template (the
    schema changes) and install_sql's functions: a function changed in
    install_sql without regenerating, or a script edited by hand, fails."""
    templates = sorted(UPGRADES.glob("*.sql.in"))
    assert templates, "no template for the version being made"
    checked = subprocess.run(["python3", str(UPGRADES / "generate.py"), "--check"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_released_upgrade_scripts_never_change():
    released = (UPGRADES / "released.sha256").read_text().split("\n")
    entries = [line.split() for line in released if line.strip()]
    assert entries
    scripts = stack_controller.ROOT / "pg_auth_ext" / "sql"
    for digest, name in entries:
        assert hashlib.sha256((scripts / name).read_bytes()).hexdigest() == digest, f"{name} changed after release"
        assert not (UPGRADES / f"{name.removeprefix('pg_auth_ext--')}.in").exists(), f"{name} is released"

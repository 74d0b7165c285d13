"""ALTER EXTENSION pg_auth_ext UPDATE from 0.1.0: accounts, sessions and the
deployment's grants survive, every refresh cookie out there keeps working,
and the result is the same schema as a fresh install of this version.

0.1.0's SQL (pg_auth_ext/upgrades/0.1.0.sql) runs on this version's library: every C
function 0.1.0 declares is still exported with the same signature, which is
also what keeps the minutes between a library upgrade and the ALTER safe."""

import hashlib
import shutil
import subprocess

import pytest

import stack as stack_controller
from support.sql_flow import sql_login, sql_refresh

FIXTURE = stack_controller.ROOT / "pg_auth_ext" / "upgrades" / "0.1.0.sql"
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


def extension_dir():
    sharedir = subprocess.run([str(stack_controller.PG_BIN / "pg_config"), "--sharedir"],
                              capture_output=True, text=True, check=True).stdout.strip()
    return stack_controller.Path(sharedir) / "extension"


def a_0_1_0_deployment(stack, database, users):
    """0.1.0 installed and granted as its deployments did, with `users`
    (password: NAME password)."""
    stack.psql(sql="create extension pg_auth_ext version '0.1.0'", database=database)
    stack.psql(sql=GRANTS_0_1_0, database=database)
    for user in users:
        stack.psql(sql=f"insert into auth.user values ('{user}', '{user} password', 'basic_subscriber')",
                   database=database)
    return database


def assert_same_as_a_fresh_install(stack, scratch_database, upgraded_database):
    """Once both have this version's grants."""
    fresh = scratch_database(f"fresh_beside_{upgraded_database}")
    stack.psql(sql="create extension pg_auth_ext", database=fresh)
    for database in (upgraded_database, fresh):
        stack.psql("-f", str(GRANTS), database=database)
    upgraded, installed = catalog(stack, upgraded_database), catalog(stack, fresh)
    for name in CATALOG:
        assert installed[name], name
        assert upgraded[name] == installed[name], name


@pytest.fixture
def version_0_1_0():
    """0.1.0's install script next to this version's, for CREATE EXTENSION … VERSION '0.1.0'."""
    installed = extension_dir() / "pg_auth_ext--0.1.0.sql"
    shutil.copyfile(FIXTURE, installed)
    yield
    installed.unlink()


def test_update_from_0_1_0_keeps_accounts_sessions_and_grants(stack, scratch_database, version_0_1_0):
    old = a_0_1_0_deployment(stack, scratch_database("upgrade_from_0_1_0"), ["early", "leaver"])
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

    assert_same_as_a_fresh_install(stack, scratch_database, old)


UPGRADES = stack_controller.ROOT / "pg_auth_ext" / "upgrades"
SCRIPTS = stack_controller.ROOT / "pg_auth_ext" / "sql"
# 0.2.0's upgrade script as it was released (before the scripts were
# generated): git keeps it, and its hash says it is that one.
RELEASED_0_2_0 = ("fcf516c295d606276e8ff3ee88b3d1ff677f3543", "pg_auth_ext/sql/pg_auth_ext--0.1.0--0.2.0.sql",
                  "22f4686f355b51df09834c3f2fb18d09d6a5c3327f07a1b0d06e32014732b7a6")


@pytest.fixture
def version_0_2_0(version_0_1_0):
    """A real 0.2.0 install: 0.1.0's script and 0.2.0's released upgrade."""
    commit, path, digest = RELEASED_0_2_0
    shown = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=stack_controller.ROOT, capture_output=True)
    assert shown.returncode == 0, f"this test reads 0.2.0 from git history: {shown.stderr.decode()}"
    assert hashlib.sha256(shown.stdout).hexdigest() == digest
    installed = extension_dir() / "pg_auth_ext--0.1.0--0.2.0.sql"
    installed.write_bytes(shown.stdout)
    yield
    installed.unlink()


def test_update_from_0_2_0_is_a_fresh_install(stack, scratch_database, version_0_2_0):
    old = a_0_1_0_deployment(stack, scratch_database("upgrade_from_0_2_0"), [])
    stack.psql(sql="alter extension pg_auth_ext update to '0.2.0'", database=old)
    stack.psql(sql="insert into auth.user values ('early', 'early password', 'basic_subscriber')", database=old)
    current = sql_login(stack, old, "early", "early password")
    stack.psql(sql="alter extension pg_auth_ext update", database=old)
    assert "refresh_token=" in sql_refresh(stack, old, current)
    assert_same_as_a_fresh_install(stack, scratch_database, old)


def test_the_upgrade_scripts_are_built_not_written():
    """pg_auth_ext/build.rs writes them with pg_auth_ext/upgrades/generate.py
    (migrations + install_sql's code), and the schema a fresh install starts
    from: git holds none, and the installed ones are what the generator
    makes of the tree as it is."""
    tracked = subprocess.run(["git", "ls-files", "pg_auth_ext/sql"], cwd=stack_controller.ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    assert tracked == []
    checked = subprocess.run(["python3", str(UPGRADES / "generate.py"), "--check"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    scripts = sorted(path.name for path in SCRIPTS.glob("pg_auth_ext--*--*.sql"))
    assert scripts == ["pg_auth_ext--0.1.0--0.3.0.sql", "pg_auth_ext--0.2.0--0.3.0.sql"]
    for name in scripts:
        assert (extension_dir() / name).read_text() == (SCRIPTS / name).read_text(), f"{name}: run build.sh"


def test_released_migrations_never_change():
    released = (UPGRADES / "released.sha256").read_text().split("\n")
    entries = [line.split() for line in released if line.strip()]
    assert entries
    for digest, name in entries:
        assert hashlib.sha256((UPGRADES / name).read_bytes()).hexdigest() == digest, f"{name} changed after release"

"""Installing, backing up and restoring the extension on the real cluster,
and concurrent writers that used to deadlock."""

import subprocess
import threading
import time

import pytest

import stack as stack_controller
from support.flow import AUTH
from support.http import request
from support.sql_flow import sql_login, sql_refresh


def psql_error(stack, database, sql):
    with pytest.raises(stack_controller.StackError) as error:
        stack.psql(sql=sql, database=database)
    return str(error.value)


def test_a_non_utf8_database_is_refused(stack, scratch_database):
    database = scratch_database("latin1_db", "encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0")
    error = psql_error(stack, database, "create extension pg_auth_ext")
    assert "pg_auth_ext needs a UTF8 database, not LATIN1" in error


def test_an_auth_schema_someone_else_owns_is_refused(stack, scratch_database):
    """CREATE EXTENSION used to reuse it silently, with its owner able to plant
    functions that the SECURITY DEFINER RPCs would run as superuser."""
    database = scratch_database("foreign_schema_db")
    stack.psql(sql="do $$ begin create role schema_squatter nologin; "
                   "exception when duplicate_object then null; end $$")
    stack.psql(sql="create schema auth authorization schema_squatter", database=database)
    error = psql_error(stack, database, "create extension pg_auth_ext")
    assert "schema auth already exists and belongs to schema_squatter" in error
    stack.psql(sql="alter schema auth owner to postgres; grant create on schema auth to schema_squatter",
               database=database)
    assert "other roles may create objects in schema auth" in psql_error(
        stack, database, "create extension pg_auth_ext")


def test_pg_dump_and_restore_keep_accounts_and_sessions(stack, scratch_database, tmp_path):
    """pg_dump used to hold CREATE EXTENSION and no rows: restoring a backup
    deleted every user and signed everyone out."""
    source = scratch_database("dump_source")
    stack.psql(sql="create extension pg_auth_ext", database=source)
    stack.psql(sql="insert into auth.user values ('kept', 'kept password', 'basic_subscriber')", database=source)
    token = sql_login(stack, source, "kept", "kept password")
    dump = tmp_path / "backup.dump"
    connection = ["-h", "127.0.0.1", "-p", str(stack.ports["postgres"]), "-U", "postgres"]
    subprocess.run([str(stack_controller.PG_BIN / "pg_dump"), *connection, "-Fc", "-f", str(dump), source], check=True)
    target = scratch_database("dump_target")
    restored = subprocess.run([str(stack_controller.PG_BIN / "pg_restore"), *connection, "-d", target, str(dump)],
                              capture_output=True, text=True)
    assert restored.returncode == 0, restored.stderr
    assert stack.psql(sql="select count(*) from auth.user where username = 'kept'", database=target).strip() == "1"
    assert stack.psql(sql="select count(*) from auth.session", database=target).strip() == "1"
    # The session refreshes, and the password logs in.
    assert "refresh_token=" in sql_refresh(stack, target, token)
    assert sql_login(stack, target, "kept", "kept password")


def test_refresh_cleanup_and_user_deletion_do_not_deadlock(stack):
    """Refresh locked a token then its session; cleanup and DELETE FROM
    auth.user lock a session then its tokens (cascades): run together, they
    deadlocked. Now every path locks the session first."""
    users = [f"deadlock_{i}" for i in range(12)]
    values = ", ".join(f"('{u}', 'pw', 'basic_subscriber')" for u in users)
    stack.psql(sql=f"insert into auth.user values {values} on conflict do nothing")
    tokens = {}
    for user in users:
        response = request("POST", f"{stack.postgrest_url}/rpc/login", AUTH, f'{{"user_": "{user}", "pass": "pw"}}')
        tokens[user] = response.cookie_value("refresh_token")
    stack.psql(sql="update auth.session set expires_at = now() + interval '3 seconds' "
                   "where username like 'deadlock\\_%'")
    errors = []
    stop = time.monotonic() + 6

    def refresher(user):
        token = tokens[user]
        while time.monotonic() < stop:
            response = request("POST", f"{stack.postgrest_url}/rpc/refresh_token",
                               {"Content-Profile": "auth", "Cookie": f"refresh_token={token}"})
            if response.status >= 500 or b"deadlock" in response.body:
                errors.append(response.body)
            if response.status == 204:
                token = response.cookie_value("refresh_token")

    def remover():
        for user in users[::2]:
            time.sleep(0.2)
            try:
                stack.psql(sql=f"delete from auth.user where username = '{user}'")
                stack.psql(sql="select auth.cleanup_expired_sessions()")
            except stack_controller.StackError as error:
                errors.append(str(error))
        while time.monotonic() < stop:
            try:
                stack.psql(sql="select auth.cleanup_expired_sessions()")
            except stack_controller.StackError as error:
                errors.append(str(error))

    threads = [threading.Thread(target=refresher, args=(u,)) for u in users] + [threading.Thread(target=remover)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []


@pytest.mark.parametrize("given, with_password", [
    ({"AUTHENTICATOR_PASSWORD": "an-authenticator-password", "MAILER_PASSWORD": "a-mailer-password"},
     ["authenticator", "mailer"]),
    ({"AUTHENTICATOR_PASSWORD": "an-authenticator-password", "MAILER_PASSWORD": ""}, ["authenticator"]),
    ({"AUTHENTICATOR_PASSWORD": "", "MAILER_PASSWORD": ""}, []),
])
def test_the_roles_script_gives_the_passwords_the_deployment_gives(stack, monkeypatch, given, with_password):
    """sql/01_roles.sql, as compose's first start runs it: each role that logs
    in gets the password its variable holds, and none when it is empty. In a
    transaction rolled back, so that the stack's roles stay as they are."""
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    roles = stack.psql(
        "-At", "-c", "begin", "-c", "alter role authenticator password null",
        "-c", "alter role mailer password null",
        "-f", str(stack_controller.ROOT / "sql" / "01_roles.sql"),
        "-c", "select string_agg(rolname, ',' order by rolname) from pg_authid "
              "where rolname in ('authenticator', 'mailer') and rolpassword is not null",
        "-c", "rollback")
    assert roles.split() == ([",".join(with_password)] if with_password else [])

"""Why pg_auth_ext must be in shared_preload_libraries, shown on a cluster
started without it."""

import shutil
import tempfile
from pathlib import Path

import pytest

import stack as stack_controller


@pytest.fixture
def unpreloaded():
    directory = Path(tempfile.mkdtemp(prefix="pg-auth-nopreload-"))
    instance = stack_controller.Stack.create(directory, stack_controller.new_secret())
    instance.preload_library = False
    try:
        instance.start_postgres()
        instance.migrate()
        yield instance
    finally:
        instance.stop_postgres()
        shutil.rmtree(directory, ignore_errors=True)


def test_without_preloading_any_role_could_read_the_key(unpreloaded):
    # A new session that has not loaded the library sees a plain placeholder.
    leaked = unpreloaded.psql(sql="set role anon; select current_setting('pg_auth.jwt_secret', true)")
    assert leaked.strip() == unpreloaded.secret


def test_the_extension_refuses_the_key_unless_preloaded(unpreloaded):
    with pytest.raises(stack_controller.StackError) as error:
        unpreloaded.psql(sql="select auth.login('demo', 'demo')")
    assert "pg_auth_ext must be loaded through shared_preload_libraries" in str(error.value)


def test_preloaded_the_key_is_hidden(stack):
    with pytest.raises(stack_controller.StackError) as error:
        stack.psql(sql="set role anon; select current_setting('pg_auth.jwt_secret')")
    assert "permission denied" in str(error.value) or "must be superuser" in str(error.value)
    for role in ("anon", "authenticator"):
        shown = stack.psql(sql=f"set role {role}; select count(*) from pg_settings where name = 'pg_auth.jwt_secret'")
        assert shown.strip() == "0"

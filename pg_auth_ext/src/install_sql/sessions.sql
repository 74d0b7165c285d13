-- Sessions users can see and end, and password changes.

-- The signed-in user's session (from the verified access token), or the
-- problem `missing`.
create function auth.current_session() returns auth.session
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
declare
    claims json := nullif(current_setting('request.jwt.claims', true), '')::json;
    live auth.session;
begin
    select s.* into live from auth.session s
    where s.id = auth.parse_session_id(claims ->> 'sid') and s.username = claims ->> 'sub'
      and auth.session_is_live(s);
    if live.id is null then
        perform auth.fail(case when claims ->> 'sid' is null then 'missing' else 'session_ended' end);
    end if;
    return live;
end
$$;

-- The signed-in session of an RPC that changes something for its user:
-- the problem `missing` without one, `rollback_refused` when PostgREST
-- would roll the change back (auth.require_commit).
create function auth.session_for_change() returns auth.session
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.current_session();
begin
    perform auth.require_commit();
    return own;
end
$$;

-- The signed-in user's sessions that can still be refreshed, newest
-- first: GET /rpc/sessions with Accept-Profile: auth.
create function auth.sessions()
returns table (id uuid, created_at timestamptz, refreshed_at timestamptz, expires_at timestamptz,
               login_address inet, login_user_agent text, refreshed_address inet,
               refreshed_user_agent text, current boolean)
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.current_session();
begin
    return query
        select s.id, s.created_at, s.refreshed_at, s.expires_at, s.login_address, s.login_user_agent,
               s.refreshed_address, s.refreshed_user_agent, s.id = own.id
        from auth.session s
        where s.username = own.username and auth.session_is_live(s)
        order by s.created_at desc;
end
$$;

-- Ends one of the signed-in user's sessions. Another user's session id is
-- "not found", exactly like an id that does not exist.
create function auth.end_session(id uuid) returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.session_for_change();
    ended uuid;
begin
    update auth.session s set revoked_at = now(), end_reason = 'ended_by_user'
    where s.id = end_session.id and s.username = own.username and s.revoked_at is null
    returning s.id into ended;
    if ended is null then
        perform auth.fail('session_not_found'::text);
    end if;
    perform auth.audit('session_ended', own.username, ended, '{"by": "user"}'::jsonb);
    if ended = own.id then
        perform set_config('response.headers', auth.logout_cookies(), true);
    end if;
end
$$;

-- For administrators (not granted to web roles): ends every session of a
-- user; the number ended.
create function auth.end_user_sessions(username text) returns integer
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    ended integer;
begin
    update auth.session s set revoked_at = now(), end_reason = 'ended_by_admin'
    where s.username = end_user_sessions.username and s.revoked_at is null;
    get diagnostics ended = row_count;
    perform auth.audit('session_ended', username, null,
                       json_build_object('by', 'admin', 'admin', session_user, 'sessions', ended)::jsonb);
    return ended;
end
$$;

-- The signed-in user's password once more, before a change to the account
-- (change_password, change_email): NULL when it is right, otherwise the
-- answer to return, which commits: 429 throttled, or 401
-- invalid_credentials, counted by the login throttle and audited.
create function auth.recheck_password(own auth.session, pass text, during text) returns json
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    address inet := auth.client_address();
    wait integer := auth.login_wait(own.username, address);
begin
    if wait > 0 then
        return auth.throttled_answer(wait);
    end if;
    if not auth.verify_password(pass, (select u.password from auth."user" u where u.username = own.username)) then
        perform auth.record_login_failure(own.username, address);
        perform auth.audit('login_failed', own.username, own.id, jsonb_build_object('during', during));
        return auth.problem_answer('invalid_credentials'::text);
    end if;
    return null;
end
$$;

-- The signed-in user's new password, given the current one; every other
-- session of the user ends (a thief's among them), this one stays. Wrong
-- current passwords count toward the login throttle, so a stolen session
-- cannot guess the password faster than the login form.
create function auth.change_password(old_pass text, new_pass text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.session_for_change();
    refused json;
begin
    refused := auth.recheck_password(own, old_pass, 'change_password'::text);
    if refused is not null then
        return refused;
    end if;
    perform auth.check_new_password(new_pass, own.username,
                                    (select u.email from auth."user" u where u.username = own.username));
    -- The account trigger ends every session on a new password; this one
    -- is then taken back.
    update auth."user" u set password = new_pass where u.username = own.username;
    update auth.session s set revoked_at = null, end_reason = null where s.id = own.id;
    perform auth.audit('password_changed', own.username, own.id);
    perform set_config('response.status', '204', true);
    return null;
end
$$;

-- For the proxies (revocation_uri in their configuration): the sessions
-- ended since `since` (Unix seconds; NULL: all whose tokens may still be
-- valid), each with the time its last access token expires, and the
-- database's now for the next call. The proxies then refuse those tokens
-- without PostgREST's per-request auth.check_session. Sessions that
-- pg_auth.session_idle_timeout ended (no statement marks them) are listed
-- from the moment they went idle while their last token is valid, which
-- happens only with a timeout shorter than pg_auth.access_token_ttl.
-- Nothing secret (ids of sessions that can no longer do anything), but the
-- shipped proxies never serve it to clients.
create function auth.ended_sessions(since double precision default null) returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    with ended as (
        select s.id, s.revoked_at + auth.access_token_ttl() as until
        from auth.session s
        where s.revoked_at > now() - auth.access_token_ttl()
          and (since is null or s.revoked_at >= to_timestamp(since))
        union all
        select s.id, s.refreshed_at + auth.access_token_ttl()
        from auth.session s
        where auth.session_idle_timeout() is not null
          and s.revoked_at is null
          and s.refreshed_at > now() - auth.access_token_ttl()
          and s.refreshed_at < now() - auth.session_idle_timeout()
          and (since is null or s.refreshed_at + auth.session_idle_timeout() >= to_timestamp(since)))
    select json_build_object(
        'now', extract(epoch from now()),
        'sessions', coalesce(json_agg(json_build_object(
            'sid', e.id,
            'until', extract(epoch from e.until))), '[]'::json))
    from ended e;
$$;

-- The PostgREST RPCs. They answer through response.headers (Set-Cookie) and
-- read request.cookies; failures are sqlstate PT401 with the seed's messages.

-- Deletes a bounded batch of ended sessions (their tokens go with them).
create function auth.cleanup_expired_sessions(max_rows integer default 1000) returns integer
language sql security definer set search_path = pg_catalog, pg_temp as $$
    with gone as (
        delete from auth.session
        where id in (select id from auth.session where expires_at < now() limit max_rows)
        returning 1
    )
    select count(*)::integer from gone;
$$;

-- A request cookie, or NULL.
create function auth.request_cookie(name text) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select nullif(nullif(current_setting('request.cookies', true), '')::json ->> name, '');
$$;

create function auth.setting_seconds(name text) returns interval
language sql stable set search_path = pg_catalog, pg_temp as $$
    select make_interval(secs => current_setting(name)::integer);
$$;

-- A session id from JWT claims, or NULL when it is not a uuid.
create function auth.parse_session_id(sid text) returns uuid
language sql immutable set search_path = pg_catalog, pg_temp as $$
    select case when sid ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                then sid::uuid end;
$$;

-- Gives a session a new refresh token and answers with both cookies.
create function auth.issue_session_cookies(session_ auth.session, role_ name) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    refresh text := auth.new_refresh_token();
begin
    insert into auth.refresh_token (session_id, token_hash)
    values (session_.id, sha256(convert_to(refresh, 'UTF8')));
    perform set_config('response.headers', auth.session_cookies(
        auth.issue_access_token(role_, session_.username, session_.id),
        refresh,
        extract(epoch from session_.expires_at - now())::bigint), true);
end
$$;

create function auth.login(user_ text, pass text) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    found auth."user";
    new_session auth.session;
begin
    select * into found from auth."user" u where u.username = user_;
    -- verify_password does the same bcrypt work for an unknown user.
    if not auth.verify_password(pass, found.password) or found.username is null then
        raise sqlstate 'PT401' using message = 'Invalid user or password';
    end if;
    if auth.password_needs_rehash(found.password) then
        update auth."user" u set password = auth.hash_password(pass) where u.username = found.username;
    end if;
    perform auth.cleanup_expired_sessions(100);
    insert into auth.session (username, expires_at)
    values (found.username, now() + auth.setting_seconds('pg_auth.refresh_token_ttl'))
    returning * into new_session;
    perform auth.issue_session_cookies(new_session, found.role);
end
$$;

create function auth.refresh_token() returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    presented text := auth.request_cookie('refresh_token');
    token auth.refresh_token;
    current_session auth.session;
    role_ name;
begin
    -- FOR UPDATE: concurrent refreshes of one token take turns, so exactly
    -- one rotates it and the others see it rotated.
    select * into token from auth.refresh_token t
    where t.token_hash = sha256(convert_to(coalesce(presented, ''), 'UTF8'))
    for update;
    select * into current_session from auth.session s where s.id = token.session_id for update;
    if token.id is null or current_session.revoked_at is not null or current_session.expires_at <= now() then
        raise sqlstate 'PT401' using message = 'Invalid or expired refresh token';
    end if;

    if token.rotated_at is not null
       and token.rotated_at < now() - auth.setting_seconds('pg_auth.refresh_reuse_grace') then
        -- A rotated token used again: it was stolen, or the client is broken.
        -- End the session. This must commit, so answer 401 without raising.
        update auth.session s set revoked_at = now() where s.id = current_session.id;
        perform set_config('response.headers', auth.logout_cookies(), true);
        perform set_config('response.status', '401', true);
        return;
    end if;

    select u.role into role_ from auth."user" u where u.username = current_session.username;
    if role_ is null then
        raise sqlstate 'PT401' using message = 'Unknown user';
    end if;
    -- Within the grace window a rotated token gets a sibling: both tabs stay signed in.
    if token.rotated_at is null then
        update auth.refresh_token t set rotated_at = now() where t.id = token.id;
    end if;
    perform auth.issue_session_cookies(current_session, role_);
end
$$;

-- Ends the session server-side and removes both cookies. The session comes
-- from the verified JWT claims (a valid access cookie forwarded as Bearer) or
-- from the access cookie itself, whose signature is checked even if expired.
create function auth.logout() returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    claimed uuid := auth.parse_session_id(
        nullif(current_setting('request.jwt.claims', true), '')::json ->> 'sid');
    cookie text := auth.request_cookie('access_token');
    refresh text := auth.request_cookie('refresh_token');
begin
    update auth.session s set revoked_at = now()
    where s.revoked_at is null
      and (s.id = claimed
           or s.id = auth.session_of(cookie)
           or s.id = (select t.session_id from auth.refresh_token t
                      where t.token_hash = sha256(convert_to(refresh, 'UTF8'))));
    perform set_config('response.headers', auth.logout_cookies(), true);
end
$$;

-- For PostgREST's db-pre-request: refuses access tokens of ended sessions,
-- so logout takes effect at once rather than when the token expires.
create function auth.check_session() returns void
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    sid text := nullif(current_setting('request.jwt.claims', true), '')::json ->> 'sid';
begin
    if sid is null then
        return;
    end if;
    if not exists (select 1 from auth.session s
                   where s.id = auth.parse_session_id(sid) and s.revoked_at is null and s.expires_at > now()) then
        raise sqlstate 'PT401' using message = 'Session has ended';
    end if;
end
$$;

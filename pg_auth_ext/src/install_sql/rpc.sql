-- The PostgREST RPCs of a session: login, refresh, logout, me, and the
-- check PostgREST runs before every request. They answer through
-- response.headers (Set-Cookie) and fail as answers.sql does. Every call
-- inside is to a schema-qualified function
-- with arguments of exactly its parameter types, so that no other overload
-- can ever be a better match.

-- The claims pg_auth.custom_claims_function adds for a user (NULL: none).
-- The function is the administrator's: it runs as this extension's owner,
-- and any error in it fails the login or refresh with its message.
create function auth.custom_claims(username text) returns jsonb
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
declare
    named text := auth.custom_claims_function();
    claims_function regprocedure;
    result jsonb;
begin
    if named is null then
        return null;
    end if;
    claims_function := to_regprocedure(named || '(text)');
    if claims_function is null
       or (select p.prorettype from pg_proc p where p.oid = claims_function) <> 'jsonb'::regtype then
        raise exception 'pg_auth.custom_claims_function: no function %(text) returning jsonb', named
            using errcode = 'config_file_error';
    end if;
    -- Called from here it would run with this extension's privileges: whoever
    -- owns it could then act as a superuser by changing its body.
    if not exists (select from pg_proc p join pg_roles r on r.oid = p.proowner
                   where p.oid = claims_function and (p.prosecdef or r.rolsuper)) then
        raise exception 'pg_auth.custom_claims_function %(text) must be owned by a superuser or be SECURITY DEFINER', named
            using errcode = 'config_file_error';
    end if;
    begin
        execute format('select %s($1)', claims_function::regproc) using username into result;
    exception when others then
        raise exception 'pg_auth.custom_claims_function %(text) failed for user %: %', named, username, sqlerrm
            using errcode = 'config_file_error';
    end;
    return result;
end
$$;

-- A new access token of a session, at its level (aal, amr).
create function auth.session_token(session_ auth.session, role_ name) returns text
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
begin
    perform auth.ensure_jwks_published();
    return auth.session_access_token(role_::text, session_.username, session_.id, session_.aal, session_.amr,
                                     auth.custom_claims(session_.username));
end
$$;

-- Answers with both cookies of a session.
create function auth.issue_session_cookies(session_ auth.session, role_ name, refresh text) returns void
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
    perform set_config('response.headers', auth.session_cookies(
        auth.session_token(session_, role_),
        refresh,
        extract(epoch from session_.expires_at - now())::bigint), true);
end
$$;

-- Who is signed in: the claims of the request's access token, and its
-- session. For the app (the cookie is HttpOnly): GET /rpc/me with
-- Accept-Profile: auth.
create function auth.me() returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    claims json := nullif(current_setting('request.jwt.claims', true), '')::json;
    current_session auth.session;
begin
    if claims ->> 'sid' is null then
        perform auth.fail('missing'::text);
    end if;
    select s.* into current_session from auth.session s where s.id = auth.parse_session_id(claims ->> 'sid');
    return json_build_object(
        'username', claims ->> 'username',
        'role', claims ->> 'role',
        'session_id', current_session.id,
        'session_created_at', current_session.created_at,
        'session_expires_at', current_session.expires_at,
        'access_token_expires_at', to_timestamp((claims ->> 'exp')::double precision),
        'claims', claims);
end
$$;

-- A new session for `account`, answered as a login is (login, and
-- reset_password, which signs the caller in): both cookies, and 204; or,
-- after a password, when the account needs a second factor, an aal1
-- session and 200 with the factors to verify (auth.mfa_challenge). A
-- passkey (`method` 'passkey') is a second factor itself: aal2 at once.
create function auth.start_session(account auth."user", method text default 'password') returns json
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    new_session auth.session;
    refresh text := auth.new_refresh_token();
    challenge json := case when method = 'password' then auth.mfa_challenge(account) end;
begin
    perform auth.cleanup_expired_sessions(10);
    insert into auth.session (username, expires_at, login_address, login_user_agent, aal, amr)
    values (account.username, now() + auth.session_lifetime(), auth.client_address(), auth.client_user_agent(),
            case when method = 'passkey' then 'aal2' else 'aal1' end,
            jsonb_build_array(jsonb_build_object('method', method, 'timestamp', extract(epoch from now())::bigint)))
    returning * into new_session;
    insert into auth.refresh_token (token_hash, session_id)
    values (auth.hash_token(refresh), new_session.id);
    perform auth.audit('login', account.username, new_session.id,
                       case when method <> 'password' then json_build_object('method', method)::jsonb end);
    perform auth.issue_session_cookies(new_session, account.role, refresh);
    if challenge is not null then
        return challenge;
    end if;
    perform set_config('response.status', '204', true);
    return null;
end
$$;

-- Why an account that has proved who it is may still not sign in (its
-- role unusable, its address unverified): the committed, audited answer, or
-- NULL when it may. Passwords and passkeys alike.
create function auth.sign_in_refusal(account auth."user") returns json
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    reason text := case
        when not auth.role_is_usable(account.role) then 'account_unusable'
        when account.email_verified_at is null and account.email is not null and auth.email_confirm_required()
            then 'email_not_verified'
    end;
begin
    if reason is null then
        return null;
    end if;
    perform auth.audit('login_failed', account.username, null, json_build_object('reason', reason)::jsonb);
    return auth.problem_answer(reason);
end
$$;

-- Answers 204 with both cookies, or (committed, so that the failure counts
-- and is audited) 401 invalid_credentials, 403 account_unusable or
-- email_not_verified, or 429 throttled with Retry-After, the same for
-- unknown and known usernames. `user_` is a username or an email address.
create function auth.login(user_ text, pass text) returns json
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    account auth."user";
    address inet := auth.client_address();
    wait integer;
    refusal json;
begin
    perform auth.require_commit();
    wait := auth.login_wait(user_, address);
    if wait > 0 then
        if auth.record_login_refused(user_, address) then
            perform auth.audit('login_throttled', left(user_, 512), null, json_build_object('retry_after', wait)::jsonb);
        end if;
        return auth.throttled_answer(wait);
    end if;
    select * into account from auth."user" u where u.username = user_;
    if account.username is null then
        select * into account from auth."user" u where u.email = auth.normalize_email(user_);
    end if;
    -- The same bcrypt work whether the user exists or not, whatever the
    -- stored hash's cost: no user oracle.
    if not auth.verify_password(pass, account.password) or account.username is null then
        perform auth.record_login_failure(user_, address);
        perform auth.audit('login_failed', left(user_, 512), null);
        return auth.problem_answer('invalid_credentials'::text);
    end if;
    refusal := auth.sign_in_refusal(account);
    if refusal is not null then
        return refusal;
    end if;
    perform auth.record_login_success(account.username, address);
    if auth.password_needs_rehash(account.password) then
        perform auth.upgrade_password_hash(account.username, pass);
    end if;
    return auth.start_session(account, 'password'::text);
end
$$;

-- Rotation: a current token is exchanged for a new one, unless it was
-- issued less than pg_auth.refresh_min_interval ago (then it is kept, and
-- no row is added). A rotated token presented within the grace window gets
-- the successor it was rotated to (every tab ends up on one chain); after
-- it, the token was stolen or the client is broken: the session ends.
-- Answers 204 and no body (NULL), or 401 with the refresh_reused problem.
create function auth.refresh_token() returns json
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    presented text := auth.request_cookie(auth.refresh_cookie_name());
    presented_hash bytea := auth.hash_token(coalesce(presented, ''));
    current_session auth.session;
    token auth.refresh_token;
    role_ name;
    answer text;
begin
    perform auth.require_commit();
    -- One lock order everywhere: the session, then its tokens (as the
    -- cascades of a user or session deletion take them).
    select s.* into current_session from auth.session s
    where s.id = (select t.session_id from auth.refresh_token t where t.token_hash = presented_hash)
    for update;
    select t.* into token from auth.refresh_token t where t.token_hash = presented_hash for update;
    if token.token_hash is null or current_session.id is null
       or current_session.revoked_at is not null or current_session.expires_at <= now() then
        perform auth.fail('invalid_refresh_token'::text);
    end if;

    if token.rotated_at is not null and token.rotated_at < now() - auth.refresh_reuse_grace() then
        -- This must commit, so answer 401 without raising.
        update auth.session s set revoked_at = now(), end_reason = 'refresh_reused'
        where s.id = current_session.id;
        perform auth.audit('refresh_reused', current_session.username, current_session.id);
        perform set_config('response.headers', auth.logout_cookies(), true);
        return auth.problem_answer('refresh_reused'::text);
    end if;
    if current_session.refreshed_at < now() - auth.session_idle_timeout() then
        update auth.session s set revoked_at = now(), end_reason = 'idle' where s.id = current_session.id;
        perform auth.audit('session_ended', current_session.username, current_session.id, '{"reason": "idle"}'::jsonb);
        perform set_config('response.headers', auth.logout_cookies(), true);
        return auth.problem_answer('invalid_refresh_token'::text);
    end if;

    select u.role into role_ from auth."user" u where u.username = current_session.username;
    if not auth.role_is_usable(role_) then
        perform auth.fail('account_unusable'::text);
    end if;

    if token.rotated_at is not null then
        answer := auth.open_successor(presented, token.successor);
        if answer is null then
            perform auth.fail('invalid_refresh_token'::text);
        end if;
    elsif token.created_at > now() - auth.refresh_min_interval() then
        answer := presented;
    else
        answer := auth.new_refresh_token();
        insert into auth.refresh_token (token_hash, session_id)
        values (auth.hash_token(answer), current_session.id);
        update auth.refresh_token t
        set rotated_at = now(), successor = auth.seal_successor(presented, answer)
        where t.token_hash = presented_hash;
        perform auth.prune_refresh_tokens(current_session.id);
    end if;
    update auth.session s
    set refreshed_at = now(), refreshed_address = auth.client_address(), refreshed_user_agent = auth.client_user_agent()
    where s.id = current_session.id;
    perform auth.audit('refresh', current_session.username, current_session.id);
    perform auth.issue_session_cookies(current_session, role_, answer);
    perform set_config('response.status', '204', true);
    return null;
end
$$;

-- Keeps a session's rotation history bounded: the newest
-- pg_auth.refresh_token_history rotated tokens stay to detect their reuse
-- (older ones are simply invalid), and successors past the grace window
-- are forgotten.
create function auth.prune_refresh_tokens(session_id uuid) returns void
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
    delete from auth.refresh_token t
    where t.session_id = prune_refresh_tokens.session_id and t.rotated_at is not null
      and t.token_hash not in (
          select r.token_hash from auth.refresh_token r
          where r.session_id = prune_refresh_tokens.session_id and r.rotated_at is not null
          order by r.rotated_at desc
          limit auth.refresh_token_history());
    update auth.refresh_token t set successor = null
    where t.session_id = prune_refresh_tokens.session_id and t.successor is not null
      and t.rotated_at < now() - auth.refresh_reuse_grace();
end
$$;

-- Ends the session server-side and removes both cookies. The session comes
-- from the verified JWT claims (a valid access cookie forwarded as Bearer),
-- from the access cookie itself (its signature is checked even if it has
-- expired), or from a refresh cookie. scope: 'local' (this session),
-- 'others' (the user's other sessions; this one and its cookies stay) or
-- 'global' (all of the user's sessions). Ending other sessions takes a live
-- credential: an access token within its exp, or a refresh token; an old
-- access token ends only its own session.
create function auth.logout(scope text default 'local') returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    claimed uuid := auth.parse_session_id(
        nullif(current_setting('request.jwt.claims', true), '')::json ->> 'sid');
    from_access uuid := auth.session_of(auth.request_cookie(auth.access_cookie_name()));
    from_refresh uuid := (
        select t.session_id from auth.refresh_token t
        where t.token_hash = auth.hash_token(auth.request_cookie(auth.refresh_cookie_name())));
    own auth.session;
    live boolean;
begin
    perform auth.require_commit();
    if scope is null or scope not in ('local', 'others', 'global') then
        raise exception 'logout scope must be local, others or global' using errcode = 'invalid_parameter_value';
    end if;
    select s.* into own from auth.session s
    where s.id in (claimed, auth.live_session_of(auth.request_cookie(auth.access_cookie_name())), from_refresh)
      and s.revoked_at is null
    order by s.id = claimed desc limit 1;
    live := own.id is not null;
    if not live then
        -- An old access token still names (and ends) its own session.
        select s.* into own from auth.session s
        where s.id in (from_access, from_refresh) and s.revoked_at is null limit 1;
    end if;
    if scope in ('others', 'global') and live then
        update auth.session s set revoked_at = now(), end_reason = 'signed_out_elsewhere'
        where s.username = own.username and s.id <> own.id and s.revoked_at is null;
    end if;
    if scope in ('local', 'global') then
        update auth.session s set revoked_at = now(), end_reason = 'logout'
        where s.revoked_at is null and s.id in (claimed, from_access, from_refresh);
        perform set_config('response.headers', auth.logout_cookies(), true);
    end if;
    if own.id is not null then
        perform auth.audit('logout', own.username, own.id, json_build_object('scope', scope)::jsonb);
    end if;
end
$$;

-- Whether a session can still be used: not ended, within its lifetime,
-- and refreshed within pg_auth.session_idle_timeout. The one liveness rule
-- (no SET clause: inlined into its callers' queries, which pin search_path).
create function auth.session_is_live(s auth.session) returns boolean
language sql stable as $$
    select s.revoked_at is null and s.expires_at > now()
       and (auth.session_idle_timeout() is null or s.refreshed_at >= now() - auth.session_idle_timeout());
$$;

-- For PostgREST's db-pre-request: refuses access tokens of ended sessions
-- (logout, reuse, password, role or name change) at once rather than when
-- they expire, and tokens whose user is not the session's. The auth RPCs
-- themselves are exempt: a browser holding the access cookie of an ended
-- session must still be able to log in again and to log out. Refuses also
-- aal1 tokens of pg_auth.mfa_required_roles, but on the RPCs that reach
-- aal2 (/rpc/mfa_*) and /rpc/me.
create function auth.check_session() returns void
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    claims json := nullif(current_setting('request.jwt.claims', true), '')::json;
    sid text := claims ->> 'sid';
begin
    if sid is null or current_setting('request.path', true) = any(auth.auth_rpc_paths()) then
        return;
    end if;
    if not exists (select 1 from auth.session s
                   where s.id = auth.parse_session_id(sid)
                     and s.username = claims ->> 'sub'
                     and auth.session_is_live(s)) then
        perform auth.fail('session_ended'::text);
    end if;
    if claims ->> 'aal' is distinct from 'aal2' and claims ->> 'role' = any(auth.mfa_required_roles())
       and current_setting('request.path', true) not like '/rpc/mfa\_%'
       and current_setting('request.path', true) <> '/rpc/me' then
        perform auth.fail('insufficient_aal'::text);
    end if;
end
$$;

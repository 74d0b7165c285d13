-- Second factors: TOTP codes (mfa/totp.rs) and recovery codes
-- (mfa/recovery.rs). A session starts at aal1 (a password); a verified code
-- steps it up to aal2, which its access tokens carry in the `aal` claim and
-- which the proxies' aal2_routes require (docs/mfa.md).

-- Factors an account may have, verified or not.
create function auth.max_factors() returns integer
language sql immutable set search_path = pg_catalog, pg_temp as $$
    select 10;
$$;

-- The `aal` claim of the request's access token, or NULL.
create function auth.request_aal() returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select nullif(current_setting('request.jwt.claims', true), '')::json ->> 'aal';
$$;

-- A verified TOTP factor (what recovery codes go with).
create function auth.has_verified_factor(username text) returns boolean
language sql stable set search_path = pg_catalog, pg_temp as $$
    select exists (select from auth.mfa_factor f
                   where f.username = has_verified_factor.username and f.verified_at is not null);
$$;

-- Any second factor: a verified TOTP factor or a passkey.
create function auth.has_second_factor(username text) returns boolean
language sql stable set search_path = pg_catalog, pg_temp as $$
    select auth.has_verified_factor(username)
        or exists (select from auth.passkey p where p.username = has_second_factor.username);
$$;

-- An account's second factors, TOTP and passkeys alike (never a secret).
create function auth.second_factors(username text)
returns table (id uuid, type text, friendly_name text, created_at timestamptz, verified_at timestamptz,
               last_used_at timestamptz)
language sql stable set search_path = pg_catalog, pg_temp as $$
    select f.id, f.kind, f.friendly_name, f.created_at, f.verified_at, f.last_used_at
    from auth.mfa_factor f where f.username = second_factors.username
    union all
    select p.id, 'passkey', p.friendly_name, p.created_at, p.created_at, p.last_used_at
    from auth.passkey p where p.username = second_factors.username;
$$;

-- What auth.login answers when the account needs a second factor: its
-- verified factors (none: one must be enrolled, pg_auth.mfa_required_roles);
-- NULL when a password is enough.
create function auth.mfa_challenge(account auth."user") returns json
language sql stable set search_path = pg_catalog, pg_temp as $$
    select json_build_object('mfa_required', true, 'aal', 'aal1', 'factors', coalesce(
        (select json_agg(json_build_object('id', f.id, 'type', f.type, 'friendly_name', f.friendly_name)
                         order by f.created_at)
         from auth.second_factors(account.username) f where f.verified_at is not null),
        '[]'::json))
    where auth.has_second_factor(account.username)
       or account.role::text = any(auth.mfa_required_roles());
$$;

-- Raises the signed-in session to aal2 after `method` ('totp',
-- 'recovery'), and answers with a new access cookie that says so (the
-- refresh cookie stays; a refresh keeps the level).
create function auth.step_up(own auth.session, method text) returns void
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    stepped auth.session;
    role_ name;
begin
    update auth.session s
    set aal = 'aal2',
        amr = coalesce((select jsonb_agg(e) from jsonb_array_elements(s.amr) e where e ->> 'method' <> method),
                       '[]'::jsonb)
              || jsonb_build_array(jsonb_build_object('method', method,
                                                      'timestamp', extract(epoch from now())::bigint))
    where s.id = own.id
    returning s.* into stepped;
    select u.role into role_ from auth."user" u where u.username = stepped.username;
    perform set_config('response.headers', auth.access_cookie(
        auth.session_token(stepped, role_), extract(epoch from stepped.expires_at - now())::bigint), true);
end
$$;

-- A wrong code for `factor` (or a recovery code counted against it): past
-- pg_auth.mfa_max_failures, its checks wait as throttled logins do.
create function auth.record_factor_failure(factor auth.mfa_factor) returns void
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    limits record;
    counted integer := factor.failures + 1;
begin
    select * into limits from auth.login_throttle_limits();
    update auth.mfa_factor f
    set failures = counted,
        blocked_until = case when counted >= auth.mfa_max_failures() then
            now() + make_interval(secs => least(
                limits.first_delay * 2.0 ^ least(counted - auth.mfa_max_failures(), 30),
                limits.max_delay)::double precision) end
    where f.id = factor.id;
end
$$;

-- The answer to a check of `factor` while it waits (429 with Retry-After,
-- committed), or NULL.
create function auth.factor_wait_answer(own auth.session, factor auth.mfa_factor) returns json
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    wait integer := ceil(extract(epoch from factor.blocked_until - now()))::integer;
begin
    if wait > 0 then
        perform auth.audit('mfa_throttled', own.username, own.id,
                           json_build_object('factor', factor.id, 'retry_after', wait)::jsonb);
        return auth.throttled_answer(wait);
    end if;
    return null;
end
$$;

-- What any new factor needs: aal2 when the account has a second factor
-- already (an attacker with the password alone adds none), a name, and
-- room under auth.max_factors.
create function auth.check_new_factor(own auth.session, friendly_name text) returns void
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
begin
    if auth.has_second_factor(own.username) and auth.request_aal() is distinct from 'aal2' then
        perform auth.fail('insufficient_aal'::text);
    end if;
    if friendly_name is null or length(friendly_name) not between 1 and 64 then
        raise exception 'friendly_name must be 1 to 64 characters' using errcode = 'invalid_parameter_value';
    end if;
    if (select count(*) from auth.second_factors(own.username)) >= auth.max_factors() then
        perform auth.fail('too_many_factors'::text);
    end if;
end
$$;

-- Starts a TOTP enrolment for the signed-in user: an unverified factor, and
-- its secret as an otpauth:// URI, a base32 secret and an SVG QR code,
-- shown this once. auth.mfa_verify with a first code completes it. An
-- account that already has a verified factor needs aal2 to add another.
create function auth.mfa_enroll_totp(friendly_name text default 'Authenticator app') returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.session_for_change();
    name_ text := btrim(friendly_name);
    id_ uuid := gen_random_uuid();
    made record;
begin
    -- Enrolments never verified within an hour were abandoned: no room taken.
    delete from auth.mfa_factor f
    where f.username = own.username and f.verified_at is null and f.created_at < now() - interval '1 hour';
    perform auth.check_new_factor(own, name_);
    if exists (select from auth.mfa_factor f where f.username = own.username and f.friendly_name = name_) then
        raise exception 'a factor named "%" exists', name_
            using errcode = 'unique_violation', hint = 'Choose another name, or remove that factor';
    end if;
    select * into made from auth.new_totp_secret(id_, own.username);
    insert into auth.mfa_factor (id, username, kind, friendly_name, secret)
    values (id_, own.username, 'totp', name_, made.sealed_secret);
    return json_build_object('id', id_, 'type', 'totp', 'friendly_name', name_,
                             'totp', json_build_object('uri', made.uri, 'secret', made.secret,
                                                       'qr_code', made.qr_svg));
end
$$;

-- Checks a code of one of the signed-in user's factors: completes an
-- enrolment (the first one also answers with ten recovery codes, shown
-- this once) and steps the session up to aal2 with a new access cookie.
-- A wrong, old or used code is 422 invalid_code (committed: it counts and
-- is audited); past pg_auth.mfa_max_failures, 429 throttled.
create function auth.mfa_verify(factor_id uuid, code text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.session_for_change();
    factor auth.mfa_factor;
    step bigint;
    first_factor boolean;
    codes text[];
    waiting json;
begin
    select f.* into factor from auth.mfa_factor f
    where f.id = factor_id and f.username = own.username
    for update;
    if factor.id is null then
        perform auth.fail('factor_not_found'::text);
    end if;
    waiting := auth.factor_wait_answer(own, factor);
    if waiting is not null then
        return waiting;
    end if;
    step := auth.totp_step(factor.id, factor.secret, coalesce(code, ''), coalesce(factor.last_used_step, -1));
    if step is null then
        perform auth.record_factor_failure(factor);
        perform auth.audit('mfa_failed', own.username, own.id, json_build_object('factor', factor.id)::jsonb);
        return auth.problem_answer('invalid_code'::text);
    end if;
    first_factor := factor.verified_at is null and not auth.has_verified_factor(own.username);
    update auth.mfa_factor f
    set failures = 0, blocked_until = null, last_used_step = step, last_used_at = now(),
        verified_at = coalesce(f.verified_at, now())
    where f.id = factor.id;
    if first_factor then
        delete from auth.recovery_code r where r.username = own.username;
        with made as (select * from auth.new_recovery_codes(10)),
             stored as (insert into auth.recovery_code (code_hash, username)
                        select m.code_hash, own.username from made m)
        select array_agg(m.code) into codes from made m;
    end if;
    perform auth.audit(case when factor.verified_at is null then 'mfa_enrolled' else 'mfa_verified' end,
                       own.username, own.id, json_build_object('factor', factor.id, 'type', factor.kind)::jsonb);
    perform auth.step_up(own, factor.kind);
    return json_strip_nulls(json_build_object('aal', 'aal2', 'recovery_codes', to_json(codes)));
end
$$;

-- Steps the signed-in session up to aal2 with one of the account's
-- recovery codes, which is then used up. Wrong codes count against the
-- account's first factor, as its own wrong codes do.
create function auth.mfa_recover(code text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.session_for_change();
    factor auth.mfa_factor;
    used bytea;
    left_ integer;
    waiting json;
begin
    select f.* into factor from auth.mfa_factor f
    where f.username = own.username and f.verified_at is not null
    order by f.created_at limit 1
    for update;
    if factor.id is null then
        perform auth.fail('factor_not_found'::text);
    end if;
    waiting := auth.factor_wait_answer(own, factor);
    if waiting is not null then
        return waiting;
    end if;
    update auth.recovery_code r set used_at = now()
    where r.code_hash = auth.recovery_code_hash(coalesce(code, ''))
      and r.username = own.username and r.used_at is null
    returning r.code_hash into used;
    if used is null then
        perform auth.record_factor_failure(factor);
        perform auth.audit('mfa_failed', own.username, own.id, '{"factor": "recovery_code"}'::jsonb);
        return auth.problem_answer('invalid_code'::text);
    end if;
    select count(*) into left_ from auth.recovery_code r where r.username = own.username and r.used_at is null;
    perform auth.audit('recovery_code_used', own.username, own.id, json_build_object('left', left_)::jsonb);
    perform auth.step_up(own, 'recovery');
    return json_build_object('aal', 'aal2', 'recovery_codes_left', left_);
end
$$;

-- The signed-in user's factors, TOTP and passkeys, oldest first (never
-- their secrets).
create function auth.mfa_factors()
returns table (id uuid, type text, friendly_name text, created_at timestamptz, verified_at timestamptz,
               last_used_at timestamptz)
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.current_session();
begin
    return query select f.* from auth.second_factors(own.username) f order by f.created_at;
end
$$;

-- Removes one of the signed-in user's factors (a TOTP factor or a passkey);
-- a verified one takes aal2. With the last verified TOTP factor go the
-- recovery codes.
create function auth.mfa_unenroll(factor_id uuid) returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.session_for_change();
    factor record;
begin
    select f.* into factor from auth.second_factors(own.username) f where f.id = factor_id;
    if factor.id is null then
        perform auth.fail('factor_not_found'::text);
    end if;
    if factor.verified_at is not null and auth.request_aal() is distinct from 'aal2' then
        perform auth.fail('insufficient_aal'::text);
    end if;
    delete from auth.mfa_factor f where f.id = factor.id and f.username = own.username;
    delete from auth.passkey p where p.id = factor.id and p.username = own.username;
    if not auth.has_verified_factor(own.username) then
        delete from auth.recovery_code r where r.username = own.username;
    end if;
    perform auth.audit('mfa_unenrolled', own.username, own.id,
                       json_build_object('factor', factor.id, 'type', factor.type)::jsonb);
end
$$;

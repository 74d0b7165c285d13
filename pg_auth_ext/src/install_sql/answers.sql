-- How the RPCs answer PostgREST: a failure is raised with its slug in
-- `details` (the catalogue is jwt_core::Problem, read through
-- auth.problem_of), or returned as a body when the transaction must commit
-- (a counted failure); cookies are read from request.cookies. Every call
-- inside is to a schema-qualified function with arguments of exactly its
-- parameter types, so that no other overload can ever be a better match.

-- Raises the problem `slug`, with `hint` instead of its own when given (why
-- this password is weak): PostgREST answers with its HTTP status.
create function auth.fail_because(slug text, hint text) returns void
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
declare
    problem record;
begin
    select * into problem from auth.problem_of(slug);
    hint := coalesce(hint, problem.hint);
    if hint is null then
        raise exception using errcode = problem.sqlstate, message = problem.message, detail = slug;
    end if;
    raise exception using errcode = problem.sqlstate, message = problem.message, detail = slug, hint = hint;
end
$$;

-- Raises the problem `slug`, with its own hint.
create function auth.fail(slug text) returns void
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
begin
    perform auth.fail_because(slug, null::text);
end
$$;

-- The body PostgREST would answer for the problem `slug`, for an RPC that
-- must commit and so answers without raising.
create function auth.problem_body(slug text) returns json
language sql stable set search_path = pg_catalog, pg_temp as $$
    select json_build_object('code', p.sqlstate, 'message', p.message, 'details', slug, 'hint', p.hint)
    from auth.problem_of(slug) p;
$$;

-- Answers the problem `slug` without raising, for an RPC whose changes
-- (an ended session, a counted failure, an audit row) must commit.
create function auth.problem_answer(slug text) returns json
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
begin
    perform set_config('response.status', substr((select p.sqlstate from auth.problem_of(slug) p), 3), true);
    return auth.problem_body(slug);
end
$$;

-- The 429 answer of a throttled attempt: committed (the audit row stays),
-- with Retry-After.
create function auth.throttled_answer(wait integer) returns json
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
begin
    perform set_config('response.headers', json_build_array(json_build_object('Retry-After', wait::text))::text, true);
    return auth.problem_answer('throttled'::text);
end
$$;

-- A request cookie, or NULL. PostgREST 12 keeps only the last of two cookies
-- of one name (and does not pass the raw Cookie header on): the proxy
-- refuses such requests before they get here.
create function auth.request_cookie(name text) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select nullif(nullif(current_setting('request.cookies', true), '')::json ->> name, '');
$$;

-- The RPCs' cookies describe what they commit: a request PostgREST would roll
-- back (Prefer: tx=rollback with db-tx-end = commit-allow-override) is
-- refused, or a rotation or logout would be undone behind the client's back.
create function auth.require_commit() returns void
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
begin
    if nullif(current_setting('request.headers', true), '')::json ->> 'prefer' ~* 'tx\s*=\s*rollback' then
        perform auth.fail('rollback_refused'::text);
    end if;
end
$$;

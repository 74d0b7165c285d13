-- Brute-force defence: failed logins are counted per username and per
-- client address. Past pg_auth.login_max_failures (or ..._per_address)
-- within pg_auth.login_failure_window, that username or address waits
-- pg_auth.login_throttle_delay, doubled at each further failure up to
-- pg_auth.login_throttle_max_delay: slow for a guesser, never a permanent
-- lockout. Unknown usernames are counted like real ones, so the answers
-- reveal nothing. Throttled attempts run no bcrypt and count no failure.

create function auth.throttle_subjects(user_ text, address inet)
returns table (subject text, max_failures integer)
language sql stable set search_path = pg_catalog, pg_temp as $$
    select s.subject, s.max_failures
    from (values ('user:' || left(user_, 512), (auth.login_throttle_settings())[1]),
                 ('address:' || host(address), (auth.login_throttle_settings())[2])) s(subject, max_failures)
    where s.subject is not null and s.max_failures > 0;
$$;

-- Seconds until a login for `user_` from `address` may be tried, 0 if now.
create function auth.login_wait(user_ text, address inet) returns integer
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select coalesce(ceil(extract(epoch from max(t.blocked_until) - now()))::integer, 0)
    from auth.login_throttle t
    where t.subject in (select s.subject from auth.throttle_subjects(user_, address) s)
      and t.blocked_until > now();
$$;

create function auth.record_login_failure(user_ text, address inet) returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    settings integer[] := auth.login_throttle_settings();
    failure_window interval := make_interval(secs => settings[5]);
    counted record;
begin
    for counted in select * from auth.throttle_subjects(user_, address) loop
        insert into auth.login_throttle as t (subject, failures, last_failure_at)
        values (counted.subject, 1, now())
        on conflict (subject) do update set
            failures = case when t.last_failure_at < now() - failure_window then 1 else t.failures + 1 end,
            last_failure_at = now();
        update auth.login_throttle t
        set blocked_until = now() + make_interval(secs => least(
            settings[4]::double precision,
            settings[3] * power(2::double precision, least(t.failures - counted.max_failures, 30))))
        where t.subject = counted.subject and t.failures >= counted.max_failures;
    end loop;
end
$$;

-- A successful login forgets the username's failures (not the address's:
-- one good account must not let an address guess the others').
create function auth.record_login_success(user_ text) returns void
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    delete from auth.login_throttle t where t.subject = 'user:' || left(user_, 512);
$$;

-- Forgets counts past the window, in a bounded batch.
create function auth.prune_login_throttle(max_rows integer) returns void
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    delete from auth.login_throttle t
    where t.subject in (
        select o.subject from auth.login_throttle o
        where o.last_failure_at < now() - make_interval(secs => (auth.login_throttle_settings())[5])
          and (o.blocked_until is null or o.blocked_until < now())
        limit max_rows
        for update skip locked);
$$;

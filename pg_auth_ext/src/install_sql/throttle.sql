-- Brute-force defence: failed logins are counted per (username, client
-- address), per client address and per username. Past pg_auth.login_max_failures
-- for a username from one address, or pg_auth.login_max_failures_per_address
-- from one address, that pair or address waits pg_auth.login_throttle_delay,
-- doubled at each further failure up to pg_auth.login_throttle_max_delay:
-- slow for a guesser. A username as a whole is throttled only past ten times
-- pg_auth.login_max_failures (guesses spread over many addresses), always
-- for the short first delay, and never for an address that has signed in
-- to it before: an attacker cannot keep the owner out. Unknown usernames are
-- counted like real ones, so the answers reveal nothing. Throttled attempts
-- run no bcrypt and count no failure. IPv6 clients are counted by network
-- (pg_auth.address_prefix_v6 bits), IPv4-mapped addresses as IPv4.

-- The key an address is counted under, or NULL for no address.
create function auth.address_key(address inet) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select case
        when family(address) = 4 then host(address)
        when address << '::ffff:0.0.0.0/96'::inet then host('0.0.0.0'::inet + (address - '::ffff:0.0.0.0'::inet))
        else text(network(set_masklen(address, auth.address_prefix_v6())))
    end;
$$;

-- doubling: the wait doubles at each further failure (pairs and
-- addresses), or stays the first delay (usernames).
create function auth.throttle_subjects(user_ text, address inet)
returns table (subject text, max_failures integer, doubling boolean)
language sql stable set search_path = pg_catalog, pg_temp as $$
    select s.subject, s.max_failures, s.doubling
    from auth.login_throttle_limits() l,
         (select auth.address_key(address) as a, left(user_, 512) as u) c,
         lateral (values ('pair:' || coalesce(c.a, '-') || ' ' || c.u, l.max_failures, true),
                         ('address:' || c.a, l.max_failures_per_address, true),
                         ('user:' || c.u, l.max_failures * 10, false)) s(subject, max_failures, doubling)
    where s.subject is not null and s.max_failures > 0;
$$;

-- Seconds until a login for `user_` from `address` may be tried, 0 if now.
create function auth.login_wait(user_ text, address inet) returns integer
language sql stable set search_path = pg_catalog, pg_temp as $$
    select coalesce(ceil(extract(epoch from max(t.blocked_until) - now()))::integer, 0)
    from auth.login_throttle t
    join auth.throttle_subjects(user_, address) s on s.subject = t.subject
    where t.blocked_until > now()
      and (s.doubling or not exists (
          select from auth.session x where x.username = user_ and x.login_address = address));
$$;

create function auth.record_login_failure(user_ text, address inet) returns void
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    limits record;
    counted record;
begin
    select * into limits from auth.login_throttle_limits();
    for counted in select * from auth.throttle_subjects(user_, address) loop
        insert into auth.login_throttle as t (subject, failures, last_failure_at)
        values (counted.subject, 1, now())
        on conflict (subject) do update set
            failures = case when t.last_failure_at < now() - make_interval(secs => limits.failure_window) then 1 else t.failures + 1 end,
            last_failure_at = now();
        update auth.login_throttle t
        set blocked_until = now() + make_interval(secs => case when counted.doubling then least(
                limits.max_delay::double precision,
                limits.first_delay * power(2::double precision, least(t.failures - counted.max_failures, 30)))
                else limits.first_delay end),
            refused = 0
        where t.subject = counted.subject and t.failures >= counted.max_failures;
    end loop;
end
$$;

-- Counts a throttled attempt on the subjects that refused it; true for the
-- first of their current wait, which alone is audited (a flood of throttled
-- attempts writes one row per wait, not one per attempt).
create function auth.record_login_refused(user_ text, address inet) returns boolean
language sql volatile set search_path = pg_catalog, pg_temp as $$
    with counted as (
        update auth.login_throttle t set refused = t.refused + 1
        where t.subject in (select s.subject from auth.throttle_subjects(user_, address) s)
          and t.blocked_until > now()
        returning t.refused)
    select coalesce(bool_or(c.refused = 1), false) from counted c;
$$;

-- A successful login forgets the username's failures and the pair's (not
-- the address's: one good account must not let an address guess the others').
create function auth.record_login_success(user_ text, address inet) returns void
language sql volatile set search_path = pg_catalog, pg_temp as $$
    delete from auth.login_throttle t
    where t.subject in (select s.subject from auth.throttle_subjects(user_, address) s
                        where s.subject not like 'address:%');
$$;

-- Forgets counts past the window, in a bounded batch.
create function auth.prune_login_throttle(max_rows integer) returns void
language sql volatile set search_path = pg_catalog, pg_temp as $$
    delete from auth.login_throttle t
    where t.subject in (
        select o.subject from auth.login_throttle o
        where o.last_failure_at < now() - make_interval(secs => (select l.failure_window from auth.login_throttle_limits() l))
          and (o.blocked_until is null or o.blocked_until < now())
        limit max_rows
        for update skip locked);
$$;

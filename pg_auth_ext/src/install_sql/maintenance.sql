-- What a scheduler runs (pg_cron, a systemd timer): the bounded purge.

-- Ends what no client can use any more, in one bounded batch that skips
-- rows in use: sessions past their lifetime, and ended sessions once their
-- access tokens have expired. Also forgets sealed successors past the grace
-- window. Returns the number of sessions removed.
create function auth.cleanup_expired_sessions(max_rows integer default 1000) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    removed integer;
begin
    with doomed as (
        select s.id from auth.session s
        where s.expires_at < now() or s.revoked_at < now() - auth.access_token_ttl()
           or s.refreshed_at < now() - auth.session_idle_timeout() - auth.access_token_ttl()
        limit max_rows
        for update skip locked
    ), gone as (
        delete from auth.session s using doomed where s.id = doomed.id returning 1
    )
    select count(*)::integer into removed from gone;
    update auth.refresh_token t set successor = null
    where t.token_hash in (
        select o.token_hash from auth.refresh_token o
        where o.successor is not null and o.rotated_at < now() - auth.refresh_reuse_grace()
        limit max_rows
        for update skip locked);
    perform auth.prune_login_throttle(max_rows);
    perform auth.prune_links_and_mail(max_rows);
    delete from auth.webauthn_challenge c
    where c.id in (select o.id from auth.webauthn_challenge o where o.expires_at < now()
                   limit max_rows for update skip locked);
    delete from auth.mfa_factor f
    where f.id in (select o.id from auth.mfa_factor o
                   where o.verified_at is null and o.created_at < now() - interval '1 hour'
                   limit max_rows for update skip locked);
    perform auth.retire_expired_keys();
    delete from auth.audit_event a
    where a.ctid in (select o.ctid from auth.audit_event o where o.at < now() - auth.audit_retention()
                     limit max_rows);
    return removed;
end
$$;

-- Who is asking (for the audit trail, the login throttle and the session
-- list), and the audit trail itself.

-- The client's address: the X-Forwarded-For entry pg_auth.trusted_proxy_hops
-- places from the right. The proxy in front of PostgREST appends the address
-- of its peer (Envoy with use_remote_address, Caddy, Traefik, the shipped
-- nginx config), so whatever a client wrote itself stays to the left of it.
-- NULL when there is no such entry or it is not an address. No SET clause
-- on this function or the next: they run with their caller's rights, and
-- without one PostgreSQL inlines them into the caller's query, under the
-- caller's pinned search_path, instead of switching settings at every call
-- (which made an audit row cost three times more).
create function auth.client_address() returns inet
language sql stable as $$
    select auth.forwarded_address(
        nullif(current_setting('request.headers', true), '')::json ->> 'x-forwarded-for',
        auth.trusted_proxy_hops())::inet;
$$;

create function auth.client_user_agent() returns text
language sql stable as $$
    select left(nullif(current_setting('request.headers', true), '')::json ->> 'user-agent', 512);
$$;

-- Records an event with the request's address and user agent (plpgsql:
-- its plan is cached, where a SQL function's would be made at every call).
create function auth.audit(event text, username text, session_id uuid, details jsonb default null)
returns void
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
begin
    if auth.audit_enabled() then
        insert into auth.audit_event (event, username, session_id, address, user_agent, details)
        values (audit.event, audit.username, audit.session_id, auth.client_address(),
                auth.client_user_agent(), audit.details);
    end if;
end
$$;

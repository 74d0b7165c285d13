-- Who is asking (for the audit trail, the login throttle and the session
-- list), and the audit trail itself.

-- The client's address: the X-Forwarded-For entry pg_auth.trusted_proxy_hops
-- places from the right. The proxy in front of PostgREST appends the address
-- of its peer (Envoy with use_remote_address, Caddy, Traefik, the shipped
-- nginx config), so whatever a client wrote itself stays to the left of it.
-- NULL when there is no such entry or it is not an address.
create function auth.client_address() returns inet
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
declare
    entries text[] := regexp_split_to_array(
        coalesce(nullif(current_setting('request.headers', true), '')::json ->> 'x-forwarded-for', ''),
        '\s*,\s*');
    entry text := entries[cardinality(entries) - auth.trusted_proxy_hops()];
begin
    if entry is null or entry !~ '^[0-9A-Fa-f:.]{2,45}$' then
        return null;
    end if;
    return entry::inet;
exception when invalid_text_representation then
    return null;
end
$$;

create function auth.client_user_agent() returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select left(nullif(current_setting('request.headers', true), '')::json ->> 'user-agent', 512);
$$;

-- Records an event with the request's address and user agent.
create function auth.audit(event text, username text, session_id uuid, details jsonb default null)
returns void
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    insert into auth.audit_event (event, username, session_id, address, user_agent, details)
    select event, username, session_id, auth.client_address(), auth.client_user_agent(), details
    where auth.audit_enabled();
$$;

-- Nothing in schema auth is usable by PUBLIC: the deployment grants the RPCs
-- (login, logout, refresh_token and check_session) to its own roles.
revoke all on all functions in schema auth from public;
revoke all on all tables in schema auth from public;
revoke all on all sequences in schema auth from public;
revoke all on schema auth from public;

-- Nor is anything created in schema auth later (an upgrade, an
-- administrator's helper): PostgreSQL grants EXECUTE on every new function
-- to PUBLIC, which through PostgREST means to every visitor.
create function auth.revoke_public_on_new_objects() returns event_trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    created record;
begin
    for created in
        select c.object_type, c.object_identity from pg_event_trigger_ddl_commands() c
        where c.schema_name = 'auth'
          and c.object_type in ('function', 'procedure', 'table', 'view', 'materialized view', 'sequence')
    loop
        execute format('revoke all on %s %s from public',
            case created.object_type
                when 'function' then 'function'
                when 'procedure' then 'procedure'
                when 'sequence' then 'sequence'
                else 'table'
            end,
            created.object_identity);
    end loop;
end
$$;
revoke all on function auth.revoke_public_on_new_objects() from public;
create event trigger auth_revoke_public_on_new_objects on ddl_command_end
    when tag in ('CREATE FUNCTION', 'CREATE PROCEDURE', 'CREATE TABLE', 'CREATE TABLE AS',
                 'SELECT INTO', 'CREATE VIEW', 'CREATE MATERIALIZED VIEW', 'CREATE SEQUENCE')
    execute function auth.revoke_public_on_new_objects();

-- Runs first: refuses a database the extension cannot run safely in.
do $$
declare
    installer oid := (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user);
    target pg_catalog.pg_namespace;
begin
    -- Cookies, claims and usernames are UTF-8 text; other encodings break
    -- on the first non-ASCII character.
    if pg_catalog.getdatabaseencoding() <> 'UTF8' then
        raise exception 'pg_auth_ext needs a UTF8 database, not %', pg_catalog.getdatabaseencoding()
            using errcode = 'feature_not_supported',
                  hint = 'create the database with ENCODING ''UTF8''';
    end if;
    -- The entry points (SECURITY DEFINER) run as the installer, and they
    -- and their helpers call each other in schema auth: whoever else could
    -- create objects there could plant a function they would call.
    select * into target from pg_catalog.pg_namespace n where n.nspname = 'auth';
    if target.nspowner <> installer then
        raise exception 'schema auth already exists and belongs to %', target.nspowner::regrole
            using errcode = 'insufficient_privilege',
                  hint = 'rename or drop that schema (ALTER SCHEMA auth RENAME TO auth_old), then CREATE EXTENSION pg_auth_ext';
    end if;
    if exists (select 1 from pg_catalog.aclexplode(target.nspacl) acl
               where acl.privilege_type = 'CREATE' and acl.grantee <> target.nspowner) then
        raise exception 'other roles may create objects in schema auth'
            using errcode = 'insufficient_privilege',
                  hint = 'REVOKE CREATE ON SCHEMA auth FROM those roles, or use a fresh schema';
    end if;
end
$$;

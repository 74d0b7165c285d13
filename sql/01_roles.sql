-- PostgREST's roles, as in the plpgsql + caddy-jwt setup: authenticator logs in and switches to
-- anon (no token) or to the role named in the token.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then
        create role anon nologin;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'basic_subscriber') then
        create role basic_subscriber nologin;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
end
$$;

-- Password for authenticator when the deployment gives one (compose does).
\set authenticator_password ''
\getenv authenticator_password AUTHENTICATOR_PASSWORD
select :'authenticator_password' <> '' as has_password \gset
\if :has_password
alter role authenticator password :'authenticator_password';
\endif

grant anon to authenticator;
grant basic_subscriber to authenticator;

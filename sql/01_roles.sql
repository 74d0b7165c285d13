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
    -- pg_auth_mailer logs in as this role: it reads the outbox, nothing else.
    if not exists (select 1 from pg_roles where rolname = 'mailer') then
        create role mailer login;
    end if;
end
$$;

-- The passwords of the roles that log in, those the deployment gives:
-- authenticator's (compose gives one), and mailer's when it runs
-- pg_auth_mailer with one.
\set authenticator_password ''
\getenv authenticator_password AUTHENTICATOR_PASSWORD
\set mailer_password ''
\getenv mailer_password MAILER_PASSWORD
select pg_catalog.format('alter role %I password %L', given.role, given.password)
from (values ('authenticator', :'authenticator_password'), ('mailer', :'mailer_password'))
    as given (role, password)
where given.password <> '' \gexec

grant anon to authenticator;
grant basic_subscriber to authenticator;

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

-- Password for authenticator when the deployment gives one (compose does).
\set authenticator_password ''
\getenv authenticator_password AUTHENTICATOR_PASSWORD
select :'authenticator_password' <> '' as has_password \gset
\if :has_password
alter role authenticator password :'authenticator_password';
\endif

-- And for mailer, when the deployment runs pg_auth_mailer with one.
\set mailer_password ''
\getenv mailer_password MAILER_PASSWORD
select :'mailer_password' <> '' as has_mailer_password \gset
\if :has_mailer_password
alter role mailer password :'mailer_password';
\endif

grant anon to authenticator;
grant basic_subscriber to authenticator;

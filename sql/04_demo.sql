-- The example of the plpgsql + caddy-jwt setup, only where DEMO=1 (the local
-- stack sets it; compose only when .env asks): a private table and the demo
-- user (demo / demo), which no production database should have.
\set demo 0
\getenv demo DEMO
select :'demo' = '1' as demo_wanted \gset
\if :demo_wanted
create table if not exists public.task (
    id bigint generated always as identity primary key,
    title text not null,
    done boolean not null default false
);
grant select on public.task to basic_subscriber;

-- A table that needs a second factor: the proxies' aal2_routes refuse
-- GET /rest/secret to aal1 tokens, and row-level security refuses them
-- too, whatever path reaches it (an embedding, an RPC).
create table if not exists public.secret (
    id bigint generated always as identity primary key,
    note text not null
);
alter table public.secret enable row level security;
drop policy if exists secret_needs_aal2 on public.secret;
create policy secret_needs_aal2 on public.secret for select to basic_subscriber
    using (nullif(current_setting('request.jwt.claims', true), '')::json ->> 'aal' = 'aal2');
grant select on public.secret to basic_subscriber;
insert into public.secret (note)
select 'Seen only after a second factor' where not exists (select 1 from public.secret);

insert into public.task (title)
select title from (values ('Read the README'), ('Log in with the cookie flow')) as t(title)
where not exists (select 1 from public.task);

insert into auth.user (username, password, role)
values ('demo', 'demo', 'basic_subscriber')
on conflict (username) do nothing;
\else
\echo 'sql/04_demo.sql: no demo user or table (set DEMO=1 for them)'
\endif

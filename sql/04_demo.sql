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

insert into public.task (title)
select title from (values ('Read the README'), ('Log in with the cookie flow')) as t(title)
where not exists (select 1 from public.task);

insert into auth.user (username, password, role)
values ('demo', 'demo', 'basic_subscriber')
on conflict (username) do nothing;
\else
\echo 'sql/04_demo.sql: no demo user or table (set DEMO=1 for them)'
\endif

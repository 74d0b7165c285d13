-- The seed's example: a private table and the demo user (demo / demo).
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

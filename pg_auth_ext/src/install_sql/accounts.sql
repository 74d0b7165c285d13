-- What may be stored in auth.user, and what a change of it ends.

-- Why PostgREST must not run a user's requests as `role_`, or NULL when it
-- may: the role must exist, be granted to the role PostgREST logs in as
-- (pg_auth.authenticator_role), and be neither a superuser, nor a reserved
-- pg_* role, nor that login role itself.
create function auth.role_problem(role_ name) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select case
        when r.oid is null then 'role ' || quote_ident(role_) || ' does not exist'
        when r.rolsuper then 'role ' || quote_ident(role_) || ' is a superuser'
        when r.rolname like 'pg\_%' then 'role ' || quote_ident(role_) || ' is a reserved pg_ role'
        when a.oid is null then 'the authenticator role ' || quote_ident(auth.authenticator_role())
                                || ' does not exist (pg_auth.authenticator_role)'
        when r.oid = a.oid then 'role ' || quote_ident(role_) || ' is the role PostgREST logs in as'
        when not pg_has_role(a.oid, r.oid, 'MEMBER') then
            'role ' || quote_ident(role_) || ' is not granted to ' || quote_ident(a.rolname)
    end
    from (select) as one
    left join pg_roles r on r.rolname = role_
    left join pg_roles a on a.rolname = auth.authenticator_role();
$$;

create function auth.role_is_usable(role_ name) returns boolean
language sql stable set search_path = pg_catalog, pg_temp as $$
    select auth.role_problem(role_) is null;
$$;

-- New passwords are hashed in Rust; see auth.password_to_store for when an
-- existing hash is kept.
create function auth.prepare_user() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if tg_op = 'INSERT' or new.password is distinct from old.password then
        new.password := auth.password_to_store(new.password);
    end if;
    if new.email is not null and (tg_op = 'INSERT' or new.email is distinct from old.email) then
        if auth.normalize_email(new.email) is null then
            raise exception 'user %: % is not an email address the extension can send to', new.username, new.email
                using errcode = 'invalid_parameter_value';
        end if;
        new.email := auth.normalize_email(new.email);
        -- A new address is unverified, unless the same update says otherwise.
        if tg_op = 'UPDATE' and new.email_verified_at is not distinct from old.email_verified_at then
            new.email_verified_at := null;
        end if;
    end if;
    return new;
end
$$;
create trigger prepare_user
    before insert or update on auth."user"
    for each row execute function auth.prepare_user();

create function auth.check_user_role() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    problem text;
begin
    if tg_op = 'INSERT' or new.role is distinct from old.role then
        problem := auth.role_problem(new.role);
        if problem is not null then
            raise exception 'user %: %', new.username, problem
                using errcode = 'invalid_parameter_value',
                      hint = 'a user''s role must exist, be granted to the role PostgREST logs in as, and be neither a superuser nor a pg_* role';
        end if;
    end if;
    return null;
end
$$;
create constraint trigger check_user_role
    after insert or update on auth."user"
    for each row execute function auth.check_user_role();

-- A new password, role or name ends every session of the user: a stolen
-- session must not outlive a password reset, and a token must not keep a
-- role or an identity the account no longer has. A rehash at login (same
-- password) ends nothing.
create function auth.end_sessions_on_account_change() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    reason text := case
        when new.username is distinct from old.username then 'username_changed'
        when new.password is distinct from old.password and not auth.password_write_is_rehash()
            then 'password_changed'
        when new.role is distinct from old.role then 'role_changed'
    end;
begin
    if reason is not null then
        update auth.session s set revoked_at = now(), end_reason = reason
        where s.username in (old.username, new.username) and s.revoked_at is null;
    end if;
    -- A new password also ends the account's mailed links.
    if reason = 'password_changed' then
        delete from auth.link_token l where l.username = new.username;
    end if;
    return null;
end
$$;
create trigger end_sessions_on_account_change
    after update on auth."user"
    for each row execute function auth.end_sessions_on_account_change();

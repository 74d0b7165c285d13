-- Accounts people open and recover themselves: sign-up, email
-- verification, password reset. Every answer is the same whether or not an
-- address has an account (no account oracle); links carry a one-time token
-- of which only the hash is stored (auth.link_token); mail goes through
-- auth.outbox in the caller's transaction, never from the database itself.

-- Refuses a new password the policy does not accept (422 weak_password,
-- with the reason as hint).
create function auth.check_new_password(pass text, username text, email text) returns void
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
declare
    weakness text := auth.password_weakness(coalesce(pass, ''), username, email);
begin
    if weakness is not null then
        perform auth.fail_because('weak_password'::text, weakness);
    end if;
end
$$;

-- `email` as stored, or 422 invalid_email.
create function auth.email_or_fail(email text) returns text
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
declare
    normalized text := auth.normalize_email(coalesce(email, ''));
begin
    if normalized is null then
        perform auth.fail('invalid_email'::text);
    end if;
    return normalized;
end
$$;

-- Mail for the outbox, sent only if the caller's transaction commits; the
-- mailers are woken by NOTIFY pg_auth_outbox.
create function auth.enqueue_mail(template text, recipient text, data jsonb) returns void
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
begin
    insert into auth.outbox (template, recipient, data) values (template, recipient, data);
    perform pg_catalog.pg_notify('pg_auth_outbox', '');
end
$$;

-- A new link of `link_kind` for `account`, mailed to `address`: it
-- replaces the account's previous link of that kind.
create function auth.send_link(link_kind text, account auth."user", address text) returns void
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    token text := auth.new_link_token();
    expires timestamptz := now() + auth.link_lifetime(link_kind);
    site text := auth.site_url();
begin
    insert into auth.link_token as l (token_hash, kind, username, email, expires_at)
    values (auth.hash_token(token), link_kind, account.username, address, expires)
    on conflict (username, kind) do update
        set token_hash = excluded.token_hash, email = excluded.email, expires_at = excluded.expires_at;
    perform auth.enqueue_mail(link_kind, address, jsonb_build_object(
        'username', account.username,
        'token', token,
        'expires_at', expires,
        'link', site || case link_kind when 'verify_email' then '/?verify='
                                       when 'change_email' then '/?email_change=' else '/?reset=' end || token));
end
$$;

-- The live link of `link_kind` whose token is `token`, used up (an error
-- later in the call rolls that back); 400 invalid_link when there is none
-- (unknown, replaced, used or expired: alike). Refuses a request PostgREST
-- would roll back, as every RPC that uses a link commits.
create function auth.use_link(link_kind text, token text) returns auth.link_token
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    link auth.link_token;
begin
    perform auth.require_commit();
    delete from auth.link_token l
    where l.token_hash = auth.hash_token(coalesce(token, '')) and l.kind = link_kind and l.expires_at > now()
    returning l.* into link;
    if link.username is null then
        perform auth.fail('invalid_link'::text);
    end if;
    return link;
end
$$;

-- Throttles the account RPCs as logins are (per address and email, per
-- client address): every call counts. Seconds to wait, 0 if none.
create function auth.account_request_wait(address text) returns integer
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    client inet := auth.client_address();
    wait integer := auth.login_wait(address, client);
begin
    if wait = 0 then
        perform auth.record_login_failure(address, client);
    end if;
    return wait;
end
$$;

-- How long resend_verification and request_password_reset take at least:
-- well above the few milliseconds writing a link and its mail takes.
create function auth.mail_link_floor() returns interval
language sql immutable set search_path = pg_catalog, pg_temp as $$
    select interval '20 milliseconds';
$$;

-- The one answer of signup, resend_verification and request_password_reset.
create function auth.mail_sent_answer() returns json
language sql immutable set search_path = pg_catalog, pg_temp as $$
    select json_build_object('message', 'If the address can be used, a mail is on its way');
$$;

-- Opens an account (pg_auth.signup = 'open'): 200 and the same answer
-- whether or not the address has one, after the same bcrypt work. A new
-- account gets pg_auth.signup_role and a verification link; the owner of
-- an existing one gets a mail saying someone tried. 403 signup_disabled,
-- 422 invalid_email or weak_password, 429 throttled.
create function auth.signup(email text, pass text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    address text;
    role_ name := auth.signup_role();
    existing auth."user";
    created auth."user";
    wait integer;
begin
    perform auth.require_commit();
    if not auth.signup_open() then
        perform auth.fail('signup_disabled'::text);
    end if;
    address := auth.email_or_fail(email);
    perform auth.check_new_password(pass, address, address);
    if role_ is null or not auth.role_is_usable(role_) then
        raise exception 'pg_auth.signup_role is %', coalesce(auth.role_problem(role_), 'not set')
            using errcode = 'invalid_parameter_value',
                  hint = 'set pg_auth.signup_role to a role granted to the role PostgREST logs in as';
    end if;
    wait := auth.account_request_wait(address);
    if wait > 0 then
        return auth.throttled_answer(wait);
    end if;
    select * into existing from auth."user" u where u.email = address or u.username = address limit 1;
    if existing.username is not null then
        perform auth.hash_password(pass);
        perform auth.enqueue_mail('signup_existing', address, jsonb_build_object('username', existing.username));
        perform auth.audit('signup', existing.username, null, '{"existing": true}'::jsonb);
    else
        insert into auth."user" (username, password, role, email, email_verified_at)
        values (address, pass, role_, address, case when auth.email_confirm_required() then null else now() end)
        returning * into created;
        if created.email_verified_at is null then
            perform auth.send_link('verify_email'::text, created, address);
        end if;
        perform auth.audit('signup', created.username, null);
    end if;
    return auth.mail_sent_answer();
end
$$;

-- Marks the address of a verification link verified: 204, or 400
-- invalid_link.
create function auth.verify_email(token text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    link auth.link_token := auth.use_link('verify_email'::text, token);
begin
    update auth."user" u set email_verified_at = now() where u.username = link.username and u.email = link.email;
    perform auth.audit('email_verified', link.username, null);
    perform set_config('response.status', '204', true);
    return null;
end
$$;

-- resend_verification and request_password_reset: the same answer for
-- every address, and a link of `link_kind` when the address has an account
-- that can use one (any account for a reset, an unverified one for a
-- verification).
create function auth.mail_link(email text, link_kind text) returns json
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    started timestamptz := clock_timestamp();
    address text;
    account auth."user";
    wait integer;
begin
    perform auth.require_commit();
    address := auth.email_or_fail(email);
    wait := auth.account_request_wait(address);
    if wait > 0 then
        return auth.throttled_answer(wait);
    end if;
    select * into account from auth."user" u
    where u.email = address and (link_kind = 'reset_password' or u.email_verified_at is null);
    if account.username is not null then
        perform auth.send_link(link_kind, account, address);
    else
        -- The commit after the floor below does the same: a NOTIFY as when
        -- a mail is queued (the mailer wakes and finds nothing due).
        perform pg_catalog.pg_notify('pg_auth_outbox', '');
    end if;
    -- Audited for any address (asking about many unknown ones is what an
    -- enumeration looks like), which also makes both answers commit a write.
    perform auth.audit(case link_kind when 'reset_password' then 'password_reset_requested'
                                      else 'verification_requested' end,
                       account.username, null,
                       case when account.username is null then '{"account": false}'::jsonb end);
    -- Writing a link and its mail takes longer than writing nothing: every
    -- answer waits until the same moment after the start (as Authelia pads
    -- its reset requests), so that its time says nothing about the address.
    perform pg_sleep(greatest(0, extract(epoch from started + auth.mail_link_floor() - clock_timestamp())));
    return auth.mail_sent_answer();
end
$$;

-- A new verification link (the old one stops working).
create function auth.resend_verification(email text) returns json
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    select auth.mail_link(email, 'verify_email'::text);
$$;

-- A password reset link.
create function auth.request_password_reset(email text) returns json
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    select auth.mail_link(email, 'reset_password'::text);
$$;

-- Sets a new password with a reset link: every session of the account
-- ends (and every other link), its address counts as verified (the mail
-- reached its owner), and the caller is signed in (204 with cookies).
-- 400 invalid_link, 422 weak_password (the link stays usable), 403
-- account_unusable.
create function auth.reset_password(token text, new_pass text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    link auth.link_token := auth.use_link('reset_password'::text, token);
    account auth."user";
begin
    perform auth.check_new_password(new_pass, link.username, link.email);
    update auth."user" u set password = new_pass,
        email_verified_at = case when u.email = link.email then coalesce(u.email_verified_at, now())
                                 else u.email_verified_at end
    where u.username = link.username
    returning * into account;
    perform auth.audit('password_reset', account.username, null);
    if not auth.role_is_usable(account.role) then
        return auth.problem_answer('account_unusable'::text);
    end if;
    return auth.start_session(account, 'password'::text);
end
$$;

-- Asks to change the signed-in account's address (its password again, as
-- change_password does): a link to the new address, a notice to the old
-- one. The same answer whether or not another account has the address.
-- 401 invalid_credentials (counted by the throttle), 422 invalid_email.
create function auth.change_email(new_email text, pass text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.session_for_change();
    address text;
    account auth."user";
    refused json;
begin
    address := auth.email_or_fail(new_email);
    refused := auth.recheck_password(own, pass, 'change_email'::text);
    if refused is not null then
        return refused;
    end if;
    select * into account from auth."user" u where u.username = own.username;
    if not exists (select from auth."user" u where u.email = address) then
        perform auth.send_link('change_email'::text, account, address);
        if account.email is not null then
            perform auth.enqueue_mail('email_changed', account.email,
                                      jsonb_build_object('username', account.username, 'new_email', address));
        end if;
    end if;
    perform auth.audit('email_change_requested', account.username, own.id);
    return auth.mail_sent_answer();
end
$$;

-- Moves the account to the address its change link was sent to (verified:
-- the link reached it). 204; 400 invalid_link, also when another account
-- took the address meanwhile.
create function auth.confirm_email_change(token text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    link auth.link_token := auth.use_link('change_email'::text, token);
begin
    if exists (select from auth."user" u where u.email = link.email) then
        perform auth.fail('invalid_link'::text);
    end if;
    -- clock_timestamp(): a new value, which auth.prepare_user takes as
    -- deliberate (an address changed with an unchanged time is unverified).
    update auth."user" u set email = link.email, email_verified_at = clock_timestamp()
    where u.username = link.username;
    perform auth.audit('email_changed', link.username, null);
    perform set_config('response.status', '204', true);
    return null;
end
$$;

-- For the mailer: a message was sent; its token leaves the outbox.
create function auth.outbox_sent(id bigint) returns void
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    update auth.outbox o set sent_at = now(), attempts = o.attempts + 1, last_error = null,
        data = o.data - 'token' - 'link'
    where o.id = outbox_sent.id;
$$;

-- For the mailer: sending failed; the next attempt waits twice as long as
-- the last (1 s, 2 s, 4 s... at most an hour).
create function auth.outbox_failed(id bigint, error text) returns void
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    update auth.outbox o set attempts = o.attempts + 1, last_error = left(error, 2000),
        next_attempt_at = now() + make_interval(secs => least(power(2, least(o.attempts, 12)), 3600))
    where o.id = outbox_failed.id;
$$;

-- Expired links, and mail sent or left unsent past any link's life, in
-- bounded batches (auth.cleanup_expired_sessions calls it).
create function auth.prune_links_and_mail(max_rows integer) returns void
language sql volatile set search_path = pg_catalog, pg_temp as $$
    delete from auth.link_token l
    where l.token_hash in (select o.token_hash from auth.link_token o where o.expires_at < now()
                           limit max_rows for update skip locked);
    delete from auth.outbox m
    where m.id in (select o.id from auth.outbox o
                   where o.created_at < now() - greatest(auth.link_lifetime('verify_email'::text),
                                                         auth.link_lifetime('reset_password'::text))
                   order by o.id limit max_rows for update skip locked);
$$;

-- Passkeys (WebAuthn, mfa/passkey.rs): added by a signed-in user, then a
-- sign-in without a password (aal2 at once: the authenticator verified its
-- user), or the second factor after a password. Each ceremony is a pair of
-- RPCs: *_begin stores a challenge and answers the options for the
-- browser's navigator.credentials; *_finish takes the challenge (once, within
-- two minutes) with the browser's credential. pg_auth.webauthn_rp_id and
-- pg_auth.webauthn_origins say which site and origins passkeys belong to.

-- A challenge's life: enough for a person to touch an authenticator.
create function auth.webauthn_challenge_lifetime() returns interval
language sql immutable set search_path = pg_catalog, pg_temp as $$
    select interval '2 minutes';
$$;

create function auth.require_passkeys() returns void
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
begin
    if not auth.passkeys_enabled() then
        perform auth.fail('passkeys_disabled'::text);
    end if;
end
$$;

-- Stores a challenge's state; its id and the browser's options.
create function auth.new_webauthn_challenge(kind text, username text, friendly_name text, user_handle uuid,
                                            options jsonb, state jsonb) returns json
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    id_ uuid := gen_random_uuid();
begin
    insert into auth.webauthn_challenge (id, kind, username, friendly_name, user_handle, state, expires_at)
    values (id_, kind, username, friendly_name, user_handle, state, now() + auth.webauthn_challenge_lifetime());
    return json_build_object('challenge_id', id_, 'options', options);
end
$$;

-- Takes a challenge out (it is good for one try): its row, or NULL when it
-- is unknown, of another kind or user, used or expired.
create function auth.take_webauthn_challenge(challenge_id uuid, kind text, username text)
returns auth.webauthn_challenge
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    taken auth.webauthn_challenge;
begin
    delete from auth.webauthn_challenge c
    where c.id = challenge_id
    returning c.* into taken;
    if taken.kind is distinct from take_webauthn_challenge.kind
       or taken.username is distinct from take_webauthn_challenge.username
       or taken.expires_at <= now() then
        return null;
    end if;
    return taken;
end
$$;

-- The 401 invalid_passkey answer, committed with its audit row.
create function auth.passkey_refused(event text, username text, session_id uuid, reason text) returns json
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
begin
    perform auth.audit(event, left(username, 512), session_id,
                       json_build_object('method', 'passkey', 'reason', left(reason, 300))::jsonb);
    return auth.problem_answer('invalid_passkey'::text);
end
$$;

-- The account's passkeys as webauthn-rs keeps them.
create function auth.passkeys_of(username text) returns jsonb[]
language sql stable set search_path = pg_catalog, pg_temp as $$
    select coalesce(array_agg(p.credential order by p.created_at), '{}')
    from auth.passkey p where p.username = passkeys_of.username;
$$;

-- Starts adding a passkey for the signed-in user: the options for
-- navigator.credentials.create(). Like a TOTP factor, it takes aal2 when
-- the account has a second factor already.
create function auth.passkey_register_begin(friendly_name text default 'Passkey') returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.session_for_change();
    name_ text := btrim(friendly_name);
    handle uuid;
    made record;
begin
    perform auth.require_passkeys();
    perform auth.check_new_factor(own, name_);
    if exists (select from auth.passkey p where p.username = own.username and p.friendly_name = name_) then
        raise exception 'a passkey named "%" exists', name_
            using errcode = 'unique_violation', hint = 'Choose another name, or remove that passkey';
    end if;
    -- One WebAuthn user handle per account: random, so that it names nobody.
    select p.user_handle into handle from auth.passkey p where p.username = own.username limit 1;
    handle := coalesce(handle, gen_random_uuid());
    select * into made
    from auth.passkey_registration_options(handle, own.username, auth.passkeys_of(own.username));
    return auth.new_webauthn_challenge('register'::text, own.username, name_, handle, made.options, made.state);
end
$$;

-- Finishes adding a passkey with the browser's answer (the
-- PublicKeyCredential as JSON, its binary fields in base64url): 200 with
-- its id; 401 invalid_passkey (nothing stored).
create function auth.passkey_register_finish(challenge_id uuid, credential json) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.session_for_change();
    challenge auth.webauthn_challenge;
    made record;
    id_ uuid := gen_random_uuid();
begin
    perform auth.require_passkeys();
    challenge := auth.take_webauthn_challenge(challenge_id, 'register'::text, own.username);
    if challenge.id is null then
        return auth.passkey_refused('mfa_failed'::text, own.username, own.id, 'no such challenge');
    end if;
    select * into made from auth.passkey_registered(coalesce(credential, 'null')::jsonb, challenge.state);
    if made.problem is not null then
        return auth.passkey_refused('mfa_failed'::text, own.username, own.id, made.problem);
    end if;
    if exists (select from auth.passkey p where p.credential_id = made.credential_id) then
        return auth.passkey_refused('mfa_failed'::text, own.username, own.id, 'credential registered already');
    end if;
    insert into auth.passkey (id, username, user_handle, credential_id, credential, friendly_name)
    values (id_, own.username, challenge.user_handle, made.credential_id, made.passkey, challenge.friendly_name);
    perform auth.audit('mfa_enrolled', own.username, own.id, json_build_object('factor', id_, 'type', 'passkey')::jsonb);
    return json_build_object('id', id_, 'type', 'passkey', 'friendly_name', challenge.friendly_name);
end
$$;

-- Starts a sign-in without a password: the options for
-- navigator.credentials.get(), which lets the authenticator offer its
-- passkeys for this site. Anyone may call it (the proxies rate-limit it).
create function auth.passkey_login_begin() returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    made record;
begin
    perform auth.require_commit();
    perform auth.require_passkeys();
    perform auth.cleanup_expired_sessions(10);
    select * into made from auth.passkey_login_options();
    return auth.new_webauthn_challenge('login'::text, null::text, null::text, null::uuid, made.options, made.state);
end
$$;

-- Finishes a sign-in with a passkey: an aal2 session, answered as a login
-- is (204 with both cookies), or 401 invalid_passkey (committed and
-- audited), 403 account_unusable or email_not_verified.
create function auth.passkey_login_finish(challenge_id uuid, credential json) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    challenge auth.webauthn_challenge;
    who record;
    stored auth.passkey;
    checked record;
    account auth."user";
    refusal json;
begin
    perform auth.require_commit();
    perform auth.require_passkeys();
    challenge := auth.take_webauthn_challenge(challenge_id, 'login'::text, null::text);
    if challenge.id is null then
        return auth.passkey_refused('login_failed'::text, null::text, null::uuid, 'no such challenge');
    end if;
    select * into who from auth.passkey_identify(coalesce(credential, 'null')::jsonb);
    select p.* into stored from auth.passkey p
    where p.credential_id = who.credential_id and p.user_handle = who.user_handle
    for update;
    if stored.id is null then
        return auth.passkey_refused('login_failed'::text, null::text, null::uuid, 'unknown credential');
    end if;
    select * into checked from auth.passkey_login_checked(credential::jsonb, challenge.state, stored.credential);
    if checked.problem is not null then
        return auth.passkey_refused('login_failed'::text, stored.username, null::uuid, checked.problem);
    end if;
    update auth.passkey p set credential = checked.passkey, last_used_at = now() where p.id = stored.id;
    select u.* into account from auth."user" u where u.username = stored.username;
    refusal := auth.sign_in_refusal(account);
    if refusal is not null then
        return refusal;
    end if;
    return auth.start_session(account, 'passkey'::text);
end
$$;

-- Starts a passkey as the second factor of the signed-in (aal1) session:
-- the options for navigator.credentials.get() with the account's passkeys.
create function auth.mfa_passkey_begin() returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.session_for_change();
    passkeys jsonb[] := auth.passkeys_of(own.username);
    made record;
begin
    perform auth.require_passkeys();
    if cardinality(passkeys) = 0 then
        perform auth.fail('factor_not_found'::text);
    end if;
    select * into made from auth.passkey_challenge_options(passkeys);
    return auth.new_webauthn_challenge('second_factor'::text, own.username, null::text, null::uuid,
                                       made.options, made.state);
end
$$;

-- Finishes a passkey as the second factor: the session steps up to aal2
-- with a new access cookie (200), or 401 invalid_passkey.
create function auth.mfa_passkey_finish(challenge_id uuid, credential json) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    own auth.session := auth.session_for_change();
    challenge auth.webauthn_challenge;
    checked record;
begin
    perform auth.require_passkeys();
    challenge := auth.take_webauthn_challenge(challenge_id, 'second_factor'::text, own.username);
    if challenge.id is null then
        return auth.passkey_refused('mfa_failed'::text, own.username, own.id, 'no such challenge');
    end if;
    perform from auth.passkey p where p.username = own.username for update;
    select * into checked
    from auth.passkey_challenge_checked(coalesce(credential, 'null')::jsonb, challenge.state,
                                        auth.passkeys_of(own.username));
    if checked.problem is not null then
        return auth.passkey_refused('mfa_failed'::text, own.username, own.id, checked.problem);
    end if;
    update auth.passkey p set credential = checked.passkey, last_used_at = now()
    where p.username = own.username and p.credential_id = checked.credential_id;
    perform auth.audit('mfa_verified', own.username, own.id, '{"type": "passkey"}'::jsonb);
    perform auth.step_up(own, 'passkey'::text);
    return json_build_object('aal', 'aal2');
end
$$;

-- Key pairs that sign access tokens when pg_auth.signing_mode = 'keys'
-- (signing_keys.rs). A key's life: standby (published, not yet signing:
-- verifiers fetch it ahead of use), current (signs; exactly one), previous
-- (no longer signs; its tokens verify until they expire), revoked (gone
-- from the JWKS, its private key removed from the table; earlier copies stay
-- in WAL and backups until they age out). The kid is the RFC 7638
-- thumbprint of the public key. Only the extension's owner reads the table
-- (auth.signing_key, made in upgrades/); the private keys are sealed under
-- pg_auth.key_encryption_key_file, and pg_dump keeps them so.

-- The public keys verifiers need: standby, current and previous.
create function auth.public_keys() returns json
language sql stable set search_path = pg_catalog, pg_temp as $$
    select json_build_object('keys', coalesce(json_agg(k.public_jwk order by k.created_at), '[]'::json))
    from auth.signing_key k
    where k.state <> 'revoked';
$$;

-- The JWKS for the proxies' jwks_uri: GET /rpc/jwks with Accept-Profile:
-- auth (the shipped proxies also serve it at /.well-known/jwks.json). In
-- secret mode it says so ("shared_secret": true): the proxies then accept
-- tokens without kid beside those of the keys listed (which they learn
-- before a switch to key pairs), and refuse them once it is gone, as
-- PostgREST does.
create function auth.jwks() returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform set_config('response.headers', '[{"Cache-Control": "public, max-age=30"}]', true);
    if auth.signing_mode() = 'secret' then
        return (auth.public_keys()::jsonb || '{"shared_secret": true}'::jsonb)::json;
    end if;
    return auth.public_keys();
end
$$;

-- Gives PostgREST the keys it must accept, in this transaction: in keys mode
-- the JWKS as pgrst.jwt_secret of the authenticator role in this database
-- (public keys only: role settings are readable by every role), in secret
-- mode nothing there (PostgREST's own jwt-secret then applies). PostgREST
-- reloads on the notification, once this commits.
create function auth.publish_jwks() returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    target text := format('alter role %I in database %I',
                          auth.authenticator_role(), pg_catalog.current_database());
begin
    if auth.signing_mode() = 'keys' then
        perform auth.check_jwks(auth.public_keys()::text);
        execute format('%s set pgrst.jwt_secret = %L', target, auth.public_keys()::text);
        execute format('%s set pgrst.jwt_secret_is_base64 = %L', target, 'false');
    else
        execute format('%s reset pgrst.jwt_secret', target);
        execute format('%s reset pgrst.jwt_secret_is_base64', target);
    end if;
    notify pgrst, 'reload config';
end
$$;

-- pg_dump carries no per-database role settings: in a restored database
-- PostgREST has no JWKS and refuses every token. The first token issued
-- there (a login or a refresh) publishes it, so a restore needs no manual
-- step. One catalog look-up per token issued.
create function auth.jwks_is_published() returns boolean
language sql stable set search_path = pg_catalog, pg_temp as $$
    select exists (
        select from pg_db_role_setting s
        where s.setrole = (select r.oid from pg_roles r where r.rolname = auth.authenticator_role())
          and s.setdatabase = (select d.oid from pg_database d where d.datname = pg_catalog.current_database())
          and exists (select from unnest(s.setconfig) c where c like 'pgrst.jwt_secret=%'));
$$;

create function auth.ensure_jwks_published() returns void
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
begin
    if auth.signing_mode() <> 'keys' or auth.jwks_is_published() then
        return;
    end if;
    -- Concurrent first logins publish once.
    perform pg_advisory_xact_lock(hashtext('pg_auth.publish_jwks'));
    if not auth.jwks_is_published() then
        perform auth.publish_jwks();
    end if;
end
$$;

-- A new key pair; its kid. The first key (no key is current) becomes
-- current at once; later ones wait in standby for auth.rotate_signing_keys.
create function auth.create_signing_key(algorithm text default 'ES256') returns text
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    generated record;
    first_key boolean;
begin
    lock table auth.signing_key in share row exclusive mode;
    perform auth.retire_expired_keys();
    if (select count(*) from auth.signing_key k where k.state <> 'revoked') >= auth.max_published_keys() then
        raise exception 'already % published signing keys, the most a JWKS may hold', auth.max_published_keys()
            using errcode = 'object_not_in_prerequisite_state',
                  hint = 'revoke standby or previous keys with auth.revoke_signing_key(kid)';
    end if;
    select g.kid, g.public_jwk, g.sealed_private_key into generated
    from auth.generate_signing_key(create_signing_key.algorithm) g;
    first_key := not exists (select 1 from auth.signing_key k where k.state = 'current');
    insert into auth.signing_key (kid, algorithm, state, public_jwk, private_key, activated_at)
    values (generated.kid, create_signing_key.algorithm,
            case when first_key then 'current' else 'standby' end,
            generated.public_jwk, generated.sealed_private_key,
            case when first_key then now() end);
    perform auth.publish_jwks();
    perform auth.audit('signing_key_created', null, null, json_build_object(
        'kid', generated.kid, 'algorithm', create_signing_key.algorithm, 'current', first_key, 'by', session_user)::jsonb);
    return generated.kid;
end
$$;

-- The oldest standby key becomes current, the current one previous; the new
-- current kid. A standby key younger than pg_auth.key_rotation_delay is
-- refused: a verifier that has not fetched it yet would refuse its tokens.
-- force skips that wait (a compromised current key: rotate, then revoke it).
create function auth.rotate_signing_keys(force boolean default false) returns text
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    next_key auth.signing_key;
begin
    lock table auth.signing_key in share row exclusive mode;
    select k.* into next_key from auth.signing_key k
    where k.state = 'standby' order by k.created_at limit 1;
    if next_key.kid is null then
        raise exception 'no standby signing key to rotate to'
            using errcode = 'object_not_in_prerequisite_state',
                  hint = 'SELECT auth.create_signing_key(''ES256''), then rotate once verifiers have fetched it';
    end if;
    if not force and next_key.created_at > now() - auth.key_rotation_delay() then
        raise exception 'standby signing key % was published % ago: verifiers may not have fetched it yet',
                next_key.kid, date_trunc('second', now() - next_key.created_at)
            using errcode = 'object_not_in_prerequisite_state',
                  hint = format('rotate after %s (pg_auth.key_rotation_delay), or with force => true in an emergency',
                                next_key.created_at + auth.key_rotation_delay());
    end if;
    perform auth.retire_expired_keys();
    update auth.signing_key k set state = 'previous', retired_at = now(), private_key = null
    where k.state = 'current';
    update auth.signing_key k set state = 'current', activated_at = now() where k.kid = next_key.kid;
    perform auth.publish_jwks();
    perform auth.audit('signing_key_rotated', null, null,
                       json_build_object('kid', next_key.kid, 'forced', force, 'by', session_user)::jsonb);
    return next_key.kid;
end
$$;

-- Takes a key out of the JWKS and destroys its private key: its tokens are
-- refused by PostgREST at once and by the proxies at their next JWKS fetch.
-- The current key cannot be revoked: rotate first.
create function auth.revoke_signing_key(kid text) returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    target auth.signing_key;
begin
    lock table auth.signing_key in share row exclusive mode;
    select k.* into target from auth.signing_key k where k.kid = revoke_signing_key.kid;
    if target.kid is null then
        raise exception 'no signing key %', kid using errcode = 'no_data_found';
    end if;
    if target.state = 'current' then
        raise exception 'signing key % is current: rotate to another key first', kid
            using errcode = 'object_not_in_prerequisite_state',
                  hint = 'SELECT auth.create_signing_key(''ES256''); SELECT auth.rotate_signing_keys(force => true);';
    end if;
    update auth.signing_key k set state = 'revoked', private_key = null, revoked_at = now()
    where k.kid = target.kid and k.state <> 'revoked';
    perform auth.publish_jwks();
    perform auth.audit('signing_key_revoked', null, null, json_build_object('kid', kid, 'by', session_user)::jsonb);
end
$$;

-- Revokes the previous keys whose last token has expired (they left the
-- current state more than pg_auth.access_token_ttl, plus PostgREST's 30 s
-- skew, ago), so that keys do not pile up in the JWKS; run by key creation
-- and rotation and by auth.cleanup_expired_sessions. How many it revoked.
create function auth.retire_expired_keys() returns integer
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare
    retired text[];
begin
    if not exists (select from auth.signing_key k
                   where k.state = 'previous'
                     and k.retired_at < now() - auth.access_token_ttl() - interval '30 seconds') then
        return 0;
    end if;
    lock table auth.signing_key in share row exclusive mode;
    with gone as (
        update auth.signing_key k set state = 'revoked', revoked_at = now()
        where k.state = 'previous' and k.retired_at < now() - auth.access_token_ttl() - interval '30 seconds'
        returning k.kid)
    select array_agg(g.kid) into retired from gone g;
    if retired is null then
        return 0;
    end if;
    perform auth.publish_jwks();
    perform auth.audit('signing_key_revoked', null, null,
                       json_build_object('kids', retired, 'reason', 'expired')::jsonb);
    return cardinality(retired);
end
$$;

-- After the key-encryption key file changed (pg_auth.key_encryption_key_file
-- names the new one): every private key still kept and every TOTP secret,
-- sealed under the old file `old_key_file`, is sealed again under the new
-- one. How many. Only the extension's owner may call it (it reads a file
-- the server can read).
create function auth.reseal_signing_keys(old_key_file text) returns integer
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    keys integer;
    secrets integer;
begin
    lock table auth.signing_key, auth.mfa_factor in share row exclusive mode;
    update auth.signing_key k
    set private_key = auth.reseal_private_key(k.kid, k.algorithm, k.private_key, old_key_file)
    where k.private_key is not null;
    get diagnostics keys = row_count;
    update auth.mfa_factor f set secret = auth.reseal_totp_secret(f.id, f.secret, old_key_file);
    get diagnostics secrets = row_count;
    return keys + secrets;
end
$$;

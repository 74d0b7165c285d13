-- The plpgsql auth functions of the plpgsql + caddy-jwt setup, as published (pgjwt's url_encode, which
-- it calls, included), in schema `plpgsql_auth`: the baseline that pg_auth_ext is
-- tested (byte-identical sign_raw) and benchmarked against. Not shipped.
create extension if not exists pgcrypto;
drop schema if exists plpgsql_auth cascade;
create schema plpgsql_auth;
create function plpgsql_auth.url_encode(data bytea) returns text language sql as $$
    select translate(encode(data, 'base64'), E'+/=\n', '-_');
$$;
create function plpgsql_auth.sign_raw(payload json, secret text, algorithm text default 'HS256') returns text
language plpgsql immutable as $$
declare alg text; clean_secret bytea;
begin
    alg := case algorithm when 'HS256' then 'sha256' when 'HS384' then 'sha384' when 'HS512' then 'sha512' else 'sha256' end;
    if secret ~ '^[A-Za-z0-9+/]+={0,2}$' then clean_secret := decode(secret, 'base64');
    else clean_secret := convert_to(secret, 'utf8'); end if;
    return (
        with header as (select plpgsql_auth.url_encode(convert_to('{"alg":"' || algorithm || '","typ":"JWT"}', 'utf8')) as data),
             payload_enc as (select plpgsql_auth.url_encode(convert_to(payload::text, 'utf8')) as data),
             signables as (select header.data || '.' || payload_enc.data as data from header, payload_enc)
        select signables.data || '.' || plpgsql_auth.url_encode(public.hmac(convert_to(signables.data, 'utf8'), clean_secret, alg))
        from signables);
end;
$$;
create function plpgsql_auth.generate_access_token(role_ text, user_ text, secret text) returns text
language plpgsql as $$
declare access_token text;
begin
    select plpgsql_auth.sign_raw(row_to_json(r), secret) into access_token
    from (select role_ as role, user_ as username, user_ as sub,
                 extract(epoch from now())::integer + 600 as exp) r;
    return access_token;
end;
$$;
create table plpgsql_auth.refresh_token (
    id bigint generated always as identity primary key,
    created_at timestamp not null default now(),
    token text,
    username text
);
create function plpgsql_auth.refresh_token() returns void
language plpgsql security definer as $$
declare user_ text; access_token text; headers text; refresh_token_ text; role_ text;
begin
    refresh_token_ := current_setting('request.cookies', true)::json->>'refresh_token';
    select username into user_ from plpgsql_auth.refresh_token
    where token = refresh_token_ and created_at > now() - interval '30 days';
    if user_ is null then raise sqlstate 'PT401' using message = 'Invalid or expired refresh token'; end if;
    select role into role_ from auth.user where username = user_;
    select plpgsql_auth.generate_access_token(role_, user_, current_setting('pgrst.jwt_secret')) into access_token;
    headers := '[{"Set-Cookie": "access_token=' || access_token || '; Path=/; HttpOnly;"}]';
    perform set_config('response.headers', headers, true);
end;
$$;

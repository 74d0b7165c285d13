-- The extension, and its key: the same secret as PostgREST's jwt-secret.
-- pg_auth_ext must already be in shared_preload_libraries (the key setting
-- is only unreadable by other roles once the library defines it).
create extension if not exists pg_auth_ext;

\set jwt_secret ''
\getenv jwt_secret JWT_SECRET
select :'jwt_secret' = '' as missing_secret \gset
\if :missing_secret
\warn 'JWT_SECRET is not set: the extension cannot sign tokens until pg_auth.jwt_secret is set'
\else
alter system set pg_auth.jwt_secret = :'jwt_secret';
alter system set pg_auth.jwt_secret_is_base64 = on;
select pg_reload_conf();
\endif

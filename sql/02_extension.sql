-- The extension. pg_auth_ext must already be in shared_preload_libraries,
-- and pg_auth.jwt_secret_file must name a file holding the same secret as
-- PostgREST's jwt-secret, readable only by the postgres OS user (the local
-- stack and compose set both when they start PostgreSQL).
create extension if not exists pg_auth_ext;
-- A database created by an earlier version moves to the installed one
-- (docs/extension.md "Upgrade").
alter extension pg_auth_ext update;

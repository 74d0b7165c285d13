-- Nothing in schema auth is usable by PUBLIC: the deployment grants the RPCs
-- (login, logout, refresh_token and check_session) to its own roles.
revoke all on all functions in schema auth from public;
revoke all on all tables in schema auth from public;
revoke all on all sequences in schema auth from public;
revoke all on schema auth from public;

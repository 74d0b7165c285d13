"""The RPCs called in SQL as PostgREST calls them (one transaction each, the
request cookies set, the Set-Cookie headers read back), for databases no
PostgREST serves."""


def sql_login(stack, database, user, password):
    """auth.login as PostgREST plays it; the new refresh token."""
    out = stack.psql(sql=(
        "select set_config('request.cookies', '{}', false); "
        f"select auth.login('{user}', '{password}'); "
        "select current_setting('response.headers')"), database=database)
    headers = out.strip().splitlines()[-1]
    return headers.split("refresh_token=")[1].split(";")[0]


def sql_refresh(stack, database, token):
    out = stack.psql(sql=(
        f"select set_config('request.cookies', '{{\"refresh_token\": \"{token}\"}}', false); "
        "select auth.refresh_token(); select current_setting('response.headers')"), database=database)
    return out.strip().splitlines()[-1]

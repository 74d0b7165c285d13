#!/usr/bin/env python3
"""pg_auth_ext against the seed's plpgsql, side by side in one cluster.

Starts a throwaway PostgreSQL 15 (library preloaded, migrations applied),
loads the seed's functions into schema `seed`, and measures each call with
pgbench (one client, prepared statements, SECONDS per case). Prints calls/s
and the ratios the targets are stated in. Run on demand:

    python3 tests/bench/extension.py [--seconds 5]

Absolute numbers depend on the machine and on what else runs; the ratios come
from one run with both sides measured the same way.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "stack"))
import stack as stack_controller  # noqa: E402

PGBENCH = stack_controller.PG_BIN / "pgbench"
PAYLOAD = '{"role":"basic_subscriber","username":"demo","sub":"demo","exp":1751674091}'
ROWS = 100_000

SEED_SQL = (ROOT / "tests" / "seed" / "seed.sql").read_text()


def pgbench(stack, script: str, seconds: int, variables: dict[str, str], mode: str = "prepared") -> float:
    """Transactions per second of `script`, one client (prepared statements by default)."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as file:
        file.write(script)
        file.flush()
        command = [str(PGBENCH), "-n", "-M", mode, "-c", "1", "-T", str(seconds), "-f", file.name,
                   "-h", stack_controller.LOOPBACK, "-p", str(stack.ports["postgres"]), "-U", "postgres", "postgres"]
        for name, value in variables.items():
            command += ["-D", f"{name}={value}"]
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pgbench failed: {result.stderr}\n{script}")
    match = re.search(r"tps = ([0-9.]+)", result.stdout)
    if not match:
        raise RuntimeError(f"no tps in pgbench output:\n{result.stdout}")
    return float(match.group(1))


def refresh_script(function: str) -> str:
    # The same token each time: a long grace window keeps it valid, so every
    # call does the whole refresh (lookup, rotation, new token, cookies).
    return ("begin;\n"
            "select set_config('request.cookies', :cookies, true);\n"
            f"select {function}();\n"
            "end;\n")


def native_cookie(stack) -> dict[str, str]:
    headers = stack.psql(sql="select auth.login('demo', 'demo'); select current_setting('response.headers')")
    token = re.search(r"refresh_token=([A-Za-z0-9_-]+)", headers).group(1)
    return {"cookies": f'{{"refresh_token":"{token}"}}'}


def seed_cookie(stack) -> dict[str, str]:
    token = stack.psql(sql="insert into seed.refresh_token (token, username) "
                           "values (gen_random_uuid()::text, 'demo') returning token").strip()
    return {"cookies": f'{{"refresh_token":"{token}"}}'}


def fill_tokens(stack, rows: int) -> None:
    """`rows` other sessions and tokens in both designs' tables."""
    stack.psql(sql=f"""
        insert into auth.session (username, expires_at)
        select 'demo', now() + interval '30 days' from generate_series(1, {rows});
        insert into auth.refresh_token (session_id, token_hash)
        select id, sha256(convert_to(gen_random_uuid()::text, 'UTF8')) from auth.session;
        insert into seed.refresh_token (token, username)
        select gen_random_uuid()::text, 'demo' from generate_series(1, {rows});
        analyze;
    """)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    seconds = args.seconds

    directory = Path(tempfile.mkdtemp(prefix="pg-auth-bench-"))
    secret = stack_controller.new_secret()
    stack = stack_controller.Stack.create(directory, secret)
    try:
        stack.start_postgres()
        stack.migrate()
        stack.psql(sql="alter system set pg_auth.refresh_reuse_grace = 86400")
        stack.psql(sql=f"alter database postgres set pgrst.jwt_secret = '{secret}'")
        stack.psql(sql="select pg_reload_conf()")
        stack.psql(sql=SEED_SQL)
        pgcrypto_hash = stack.psql(sql="select crypt('demo', gen_salt('bf', 10))").strip()
        our_hash = stack.psql(sql="select auth.hash_password('demo')").strip()
        assert our_hash.startswith("$2a$10$") and pgcrypto_hash.startswith("$2a$10$")

        variables = {"payload": PAYLOAD, "secret": secret, "ours": our_hash, "theirs": pgcrypto_hash}
        rates: dict[str, float] = {}

        def measure(name: str, sql: str, extra: dict[str, str] | None = None, mode: str = "prepared"):
            rates[name] = pgbench(stack, sql, seconds, {**variables, **(extra or {})}, mode)
            print(f"  {name:<42} {rates[name]:>10.1f} calls/s", flush=True)

        print(f"pgbench, 1 client, prepared, {seconds} s per case")
        measure("select 1", "select 1;\n")
        measure("seed sign_raw (plpgsql + pgcrypto)", "select seed.sign_raw(:payload::json, :secret);\n")
        measure("native sign_raw", "select auth.sign_raw(:payload::json, :secret);\n")
        measure("seed generate_access_token", "select seed.generate_access_token('basic_subscriber', 'demo', :secret);\n")
        measure("native generate_access_token", "select auth.generate_access_token('basic_subscriber', 'demo', :secret);\n")
        measure("pgcrypto crypt() verify, cost 10", "select crypt('demo', :theirs) = :theirs;\n")
        measure("native verify_password, cost 10", "select auth.verify_password('demo', :ours);\n")
        # Failed logins, caught so that pgbench goes on (a DO block: simple protocol).
        failed_login = "do $$ begin perform auth.login({user}, 'wrong'); exception when sqlstate 'PT401' then null; end $$;\n"
        measure("native login, wrong password", failed_login.format(user="'demo'"), mode="simple")
        measure("native login, unknown user", failed_login.format(user="'nobody'"), mode="simple")

        # Refresh, with 1 and with ROWS rows in the token tables. Each case
        # uses a token issued last, as a real one is: the seed's sequential
        # scan stops at the first match, so an early row would hide its cost.
        measure("native refresh, 1 session", refresh_script("auth.refresh_token"), native_cookie(stack))
        measure("seed refresh, 1 token", refresh_script("seed.refresh_token"), seed_cookie(stack))
        fill_tokens(stack, ROWS)
        measure(f"native refresh, {ROWS:,} sessions", refresh_script("auth.refresh_token"), native_cookie(stack))
        measure(f"seed refresh, {ROWS:,} tokens", refresh_script("seed.refresh_token"), seed_cookie(stack))

        print("\nratios (from this run)")
        rows = [
            ("native sign_raw / select 1", rates["native sign_raw"] / rates["select 1"], ">= 0.85"),
            ("native sign_raw / seed sign_raw", rates["native sign_raw"] / rates["seed sign_raw (plpgsql + pgcrypto)"], ">= 2"),
            ("native / seed generate_access_token",
             rates["native generate_access_token"] / rates["seed generate_access_token"], "(faster is better)"),
            ("native bcrypt / pgcrypto bcrypt (cost 10)",
             rates["native verify_password, cost 10"] / rates["pgcrypto crypt() verify, cost 10"], ">= 1.0"),
            ("login time, unknown user / wrong password",
             rates["native login, wrong password"] / rates["native login, unknown user"], "~ 1.0 (no user oracle)"),
            (f"native refresh time, {ROWS:,} / 1",
             rates["native refresh, 1 session"] / rates[f"native refresh, {ROWS:,} sessions"], "<= 1.2"),
            (f"seed refresh time, {ROWS:,} / 1",
             rates["seed refresh, 1 token"] / rates[f"seed refresh, {ROWS:,} tokens"], "(the seed scans)"),
        ]
        for name, ratio, target in rows:
            print(f"  {name:<42} {ratio:>8.2f}   target {target}")

        # A call's own cost: its time beyond a bare round trip (select 1).
        def cost(name: str) -> float:
            return 1e6 / rates[name] - 1e6 / rates["select 1"]

        print("\ncost per call beyond `select 1` (µs), and seed / native")
        floor = 0.5  # below this, a difference of rates is within a run's noise
        for seed_name, native_name in [("seed sign_raw (plpgsql + pgcrypto)", "native sign_raw"),
                                       ("seed generate_access_token", "native generate_access_token")]:
            native, seed = cost(native_name), cost(seed_name)
            ratio = f"{seed / native:.1f}x" if native >= floor else f"> {seed / floor:.0f}x (native within noise)"
            print(f"  {native_name:<42} {max(native, 0.0):>8.1f}   seed {seed:.1f}   ratio {ratio}")
        return 0
    finally:
        stack.stop_postgres()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

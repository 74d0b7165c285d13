"""The filter in real hosts, each in front of an upstream that echoes the
request it received: Envoy 1.40 (proxy-wasm, V8) running the shipped
stack/envoy/envoy.yaml, and Traefik 3.7 (http-wasm). Every server listens on
127.0.0.1 and is stopped by PID."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import stack as stack_controller
from processes import LOOPBACK, free_port, http_status, spawn, stop, wait_until
from support.http import request
from support.tokens import TEST_SECRET

ROOT = stack_controller.ROOT
WASM_DIR = ROOT / "target" / "wasm32-wasip1" / "wasm"
CRASH_TEST_WASM = ROOT / "target" / "crash-test" / "wasm32-wasip1" / "wasm" / "proxy_filter.wasm"
TRAEFIK = ROOT / ".stack" / "tools" / "venv" / "bin" / "traefik"
FILTER_CONFIG = {
    "secret_env": "JWT_SECRET",
    "secret_is_base64": True,
    "forward_claims": {"sub": "x-user"},
    "aal2_routes": [{"path": "/rest/secret"}],
    # Many tests send forged tokens from 127.0.0.1; the count is tested on its own.
    "bad_token_limit_per_minute": 0,
}


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _echo(self):
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"path": self.path, "headers": [[k.lower(), v] for k, v in self.headers.items()]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("x-echo", "1")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = do_OPTIONS = _echo

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def echo_port():
    server = ThreadingHTTPServer((LOOPBACK, 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@dataclass
class Host:
    """A started proxy: its URL and how to stop it."""

    name: str
    url: str
    pid: int
    workdir: Path
    admin_url: str | None = None  # Envoy's admin interface (stats); Traefik has none for plugins.

    @property
    def log(self) -> Path:
        return self.workdir / "host.log"

    def stop(self):
        stop(self.pid)
        shutil.rmtree(self.workdir, ignore_errors=True)


def render_envoy(echo: int, config: dict, wasm: Path, port: int, admin: int, **settings: str) -> str:
    """The shipped stack/envoy/envoy.yaml, rendered by its own render.sh, with
    the echo server as PostgREST; `settings`: render.sh's (TRUSTED_PROXY...)."""
    rendered = stack_controller.render_envoy(proxy_port=port, admin_port=admin, postgrest_port=echo,
                                             filter_config=config, wasm=wasm, **settings)
    assert rendered.returncode == 0, rendered.stderr
    return rendered.stdout


def start_envoy(echo: int, config: dict, wasm: Path = WASM_DIR / "proxy_filter.wasm", workers: int = 0,
                **settings: str) -> Host:
    """`workers`: Envoy's --concurrency (0: one per core)."""
    workdir = Path(tempfile.mkdtemp(prefix="envoy-host-"))
    port, admin = free_port(), free_port()
    (workdir / "envoy.yaml").write_text(render_envoy(echo, config, wasm, port, admin, **settings))
    command = [str(stack_controller.ENVOY), "-c", "envoy.yaml", "--base-id", str(admin), "--log-level", "warn"]
    if workers:
        command += ["--concurrency", str(workers)]
    pid = spawn(command, workdir / "host.log", {"JWT_SECRET": TEST_SECRET}, cwd=workdir)
    return Host("envoy", f"http://{LOOPBACK}:{port}", pid, workdir, f"http://{LOOPBACK}:{admin}")


def start_traefik(echo: int, config: dict) -> Host:
    workdir = Path(tempfile.mkdtemp(prefix="traefik-host-"))
    port, ping = free_port(), free_port()
    plugin_dir = workdir / "plugins-local" / "src" / "github.com" / "pg-auth" / "proxy-filter"
    plugin_dir.mkdir(parents=True)
    shutil.copy(WASM_DIR / "http_wasm_filter.wasm", plugin_dir / "plugin.wasm")
    (plugin_dir / ".traefik.yml").write_text(
        "displayName: pg_auth proxy_filter\ntype: middleware\nruntime: wasm\n"
        "summary: Cookie-to-Bearer JWT verification for PostgREST\ntestData: {}\n")
    (workdir / "traefik.yml").write_text(json.dumps({
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {"web": {"address": f"{LOOPBACK}:{port}"}, "ping": {"address": f"{LOOPBACK}:{ping}"}},
        "ping": {"entryPoint": "ping"},
        "log": {"level": "INFO"},
        "providers": {"file": {"filename": str(workdir / "dynamic.yml")}},
        # settings.envs hands JWT_SECRET to the plugin: the key stays out of
        # Traefik's configuration (and so out of its API and dashboard).
        "experimental": {"localPlugins": {"pgauth": {"moduleName": "github.com/pg-auth/proxy-filter",
                                                     "settings": {"envs": ["JWT_SECRET"]}}}},
    }))
    (workdir / "dynamic.yml").write_text(json.dumps({"http": {
        "routers": {"all": {"rule": "PathPrefix(`/`)", "service": "echo", "middlewares": ["auth"],
                            "entryPoints": ["web"]}},
        "middlewares": {"auth": {"plugin": {"pgauth": config}}},
        "services": {"echo": {"loadBalancer": {"servers": [{"url": f"http://{LOOPBACK}:{echo}"}]}}},
    }}))
    pid = spawn([str(TRAEFIK), "--configFile=traefik.yml"], workdir / "host.log", {"JWT_SECRET": TEST_SECRET},
                cwd=workdir)
    return Host("traefik", f"http://{LOOPBACK}:{port}", pid, workdir)


def wait_ready(host: Host) -> None:
    if host.admin_url:
        def ready():
            return http_status(f"{host.admin_url}/ready") == 200
    else:
        def ready():
            # The router answers once the plugin has loaded: a public path reaches the echo.
            try:
                return request("POST", f"{host.url}/rpc/login").header("x-echo") == "1"
            except OSError:
                return False
    wait_until(ready, host.name, host.log, pid=host.pid)


@pytest.fixture(scope="session", params=["envoy", "traefik"])
def host(request, echo_port):
    started = (start_envoy if request.param == "envoy" else start_traefik)(echo_port, FILTER_CONFIG)
    try:
        wait_ready(started)
        yield started
    finally:
        started.stop()


@pytest.fixture
def envoy_with(echo_port):
    """Starts an Envoy with another filter configuration (or wasm build)."""
    started = []

    def start(config: dict, wasm: Path = WASM_DIR / "proxy_filter.wasm", workers: int = 0, **settings: str) -> Host:
        host = start_envoy(echo_port, config, wasm, workers, **settings)
        started.append(host)
        wait_ready(host)
        return host

    yield start
    for host in started:
        host.stop()


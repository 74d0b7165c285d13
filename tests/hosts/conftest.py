"""The filter in real hosts, each in front of an upstream that echoes the
request headers it received: Envoy 1.40 (proxy-wasm, V8) and Traefik 3.7
(http-wasm). Every server listens on 127.0.0.1 and is stopped by PID."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import stack as stack_controller
from support import envoy

ROOT = stack_controller.ROOT
WASM_DIR = ROOT / "target" / "wasm32-wasip1" / "wasm"
TRAEFIK = ROOT / ".stack" / "tools" / "venv" / "bin" / "traefik"
SECRET = "q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE="
FILTER_CONFIG = {
    "secret": SECRET,
    "secret_is_base64": True,
    "forward_claims": {"sub": "x-user"},
}


class EchoHandler(BaseHTTPRequestHandler):
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

    do_GET = do_POST = do_DELETE = _echo

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def echo_port():
    server = ThreadingHTTPServer((stack_controller.LOOPBACK, 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


class Host:
    """A started proxy: its URL and how to stop it."""

    def __init__(self, name: str, url: str, process: subprocess.Popen, workdir: Path, admin_url: str | None = None):
        self.name, self.url, self.process, self.workdir = name, url, process, workdir
        # Envoy's admin interface (stats); Traefik exposes no plugin metrics.
        self.admin_url = admin_url

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start(command, workdir: Path, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        ["sh", "-c", '"$@" & wait $!', "sh", *command], cwd=workdir, env={**os.environ, **(env or {})},
        stdout=(workdir / "host.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def log_tail(workdir: Path) -> str:
    log = workdir / "host.log"
    return "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log.exists() else ""


def wait_for(check, process, workdir, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"host exited with {process.returncode}:\n{log_tail(workdir)}")
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"host not ready within {seconds} s:\n{log_tail(workdir)}")




def start_envoy(echo: int, config: dict) -> Host:
    workdir = Path(tempfile.mkdtemp(prefix="envoy-host-"))
    port, admin = stack_controller.free_port(), stack_controller.free_port()
    (workdir / "envoy.yaml").write_text(
        envoy.front_config(admin, port, echo, envoy.wasm_filter(config, WASM_DIR / "proxy_filter.wasm")))
    process = start([str(stack_controller.ENVOY), "-c", "envoy.yaml", "--base-id", str(admin),
                     "--log-level", "warn"], workdir)
    return Host("envoy", f"http://127.0.0.1:{port}", process, workdir, f"http://127.0.0.1:{admin}"), admin


def start_traefik(echo: int, config: dict) -> Host:
    workdir = Path(tempfile.mkdtemp(prefix="traefik-host-"))
    port, ping = stack_controller.free_port(), stack_controller.free_port()
    plugin_dir = workdir / "plugins-local" / "src" / "github.com" / "pg-auth" / "proxy-filter"
    plugin_dir.mkdir(parents=True)
    shutil.copy(WASM_DIR / "http_wasm_filter.wasm", plugin_dir / "plugin.wasm")
    (plugin_dir / ".traefik.yml").write_text(
        "displayName: pg_auth proxy_filter\ntype: middleware\nruntime: wasm\n"
        "summary: Cookie-to-Bearer JWT verification for PostgREST\ntestData: {}\n")
    (workdir / "traefik.yml").write_text(json.dumps({
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {"web": {"address": f"127.0.0.1:{port}"}, "ping": {"address": f"127.0.0.1:{ping}"}},
        "ping": {"entryPoint": "ping"},
        "log": {"level": "INFO"},
        "providers": {"file": {"filename": str(workdir / "dynamic.yml")}},
        "experimental": {"localPlugins": {"pgauth": {"moduleName": "github.com/pg-auth/proxy-filter"}}},
    }))
    (workdir / "dynamic.yml").write_text(json.dumps({"http": {
        "routers": {"all": {"rule": "PathPrefix(`/`)", "service": "echo", "middlewares": ["auth"],
                            "entryPoints": ["web"]}},
        "middlewares": {"auth": {"plugin": {"pgauth": config}}},
        "services": {"echo": {"loadBalancer": {"servers": [{"url": f"http://127.0.0.1:{echo}"}]}}},
    }}))
    process = start([str(TRAEFIK), "--configFile=traefik.yml"], workdir)
    return Host("traefik", f"http://127.0.0.1:{port}", process, workdir), ping


@pytest.fixture(scope="session", params=["envoy", "traefik"])
def host(request, echo_port):
    from support.http import request as http

    if request.param == "envoy":
        started, admin = start_envoy(echo_port, FILTER_CONFIG)
        ready = lambda: stack_controller.http_status(f"http://127.0.0.1:{admin}/ready") == 200  # noqa: E731
    else:
        started, _ = start_traefik(echo_port, FILTER_CONFIG)

        def ready():
            # The router answers once the plugin has loaded: a public path reaches the echo.
            try:
                return http("POST", f"{started.url}/rpc/login").header("x-echo") == "1"
            except OSError:
                return False
    try:
        wait_for(ready, started.process, started.workdir)
        yield started
    finally:
        started.stop()

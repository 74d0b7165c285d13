"""docs/proxies.md's TLS example: Envoy with a certificate (TLS_CERT_FILE and
TLS_KEY_FILE for stack/envoy/render.sh) serves the flow over HTTPS, with
Secure cookies, and refuses a half-given configuration."""

import http.client
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

import fronts
import pytest

import stack as stack_controller
from processes import LOOPBACK, free_port, http_status, spawn, stop, wait_until
from support.flow import AUTH
from support.http import request


def render(stack, workdir, **tls):
    # The shipped configuration for the way the test stack signs.
    return stack_controller.render_envoy(proxy_port=stack.tls_port, admin_port=stack.tls_admin_port,
                                         postgrest_port=stack.ports["postgrest"],
                                         FILTER_CONFIG_FILE=str(fronts.FILTER_CONFIGS[stack.signing]), **tls)


@pytest.fixture(scope="module")
def https(stack):
    workdir = Path(tempfile.mkdtemp(prefix="pg-auth-tls-"))
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    stack.tls_port, stack.tls_admin_port = free_port(), free_port()
    rendered = render(stack, workdir, TLS_CERT_FILE=str(cert), TLS_KEY_FILE=str(key))
    assert rendered.returncode == 0, rendered.stderr
    config = workdir / "envoy.yaml"
    config.write_text(rendered.stdout)
    log = workdir / "envoy.log"
    pid = spawn([str(stack_controller.ENVOY), "-c", str(config), "--base-id", str(stack.tls_admin_port),
                 "--log-level", "warn"], log, stack.envoy_env)
    try:
        wait_until(lambda: http_status(f"http://{LOOPBACK}:{stack.tls_admin_port}/ready") == 200, "Envoy (TLS)",
                   log, pid=pid)
        yield f"https://{LOOPBACK}:{stack.tls_port}", ssl.create_default_context(cafile=str(cert)), workdir
    finally:
        stop(pid)
        shutil.rmtree(workdir, ignore_errors=True)


def test_the_flow_over_https(https):
    url, trusted, _ = https
    logged_in = request("POST", f"{url}/rpc/login", AUTH, '{"user_": "demo", "pass": "demo"}', tls=trusted)
    assert logged_in.status == 204
    assert "Secure" in logged_in.cookie_attributes("access_token")
    access = logged_in.cookie_value("access_token")
    assert request("GET", f"{url}/rest/task", {"Cookie": f"access_token={access}"}, tls=trusted).status == 200
    assert request("GET", f"{url}/rest/task", tls=trusted).status == 401
    # Not plain HTTP on that port.
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        request("GET", f"http://{LOOPBACK}:{url.rsplit(':', 1)[1]}/rest/", timeout=3)


def test_an_untrusted_client_is_refused_the_handshake(https):
    url, _, _ = https
    with pytest.raises(ssl.SSLCertVerificationError):
        request("GET", f"{url}/rest/", tls=ssl.create_default_context())


def test_half_a_tls_configuration_is_refused(stack, https):
    _, _, workdir = https
    rendered = render(stack, workdir, TLS_CERT_FILE=str(workdir / "cert.pem"))
    assert rendered.returncode != 0
    assert "TLS_CERT_FILE and TLS_KEY_FILE must both name readable files" in rendered.stderr

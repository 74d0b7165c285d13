"""The JavaScript package (js/): its node --test suite against tokens minted
by the extension in the real stack's database and by Python, and docs/proxies.md's
Node example server, run."""

import hashlib
import json
import os
import re
import subprocess

import pytest

import stack as stack_controller
from processes import LOOPBACK, free_port, http_status, spawn, stop, wait_until
from support.flow import login
from support.http import request
from support.tokens import claims_of, mint, now

JS = stack_controller.ROOT / "js"
OTHER_KEY = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMDE="


@pytest.fixture(scope="module")
def fixtures(stack, tmp_path_factory):
    extension = login(stack.proxy_url).cookie_value("access_token")
    claims = claims_of(extension)
    python_claims = {"role": "basic_subscriber", "sub": "python", "exp": now() + 600}
    tokens = {
        "secret": stack.secret,
        "extension": extension,
        "python": mint(stack.secret, python_claims),
        "python_claims": python_claims,
        "aal2": mint(stack.secret, {**python_claims, "aal": "aal2"}),
        "expired": mint(stack.secret, {**claims, "exp": now() - 1}),
        "forged": mint(OTHER_KEY, claims),
        "alg_swapped": mint(stack.secret, claims, {"alg": "HS512", "typ": "JWT"}, hashlib.sha512),
    }
    path = tmp_path_factory.mktemp("js") / "fixtures.json"
    path.write_text(json.dumps(tokens))
    return path


def test_node_test_suite(fixtures):
    result = subprocess.run(["node", "--test", "test/"], cwd=JS, capture_output=True, text=True,
                            env={**os.environ, "PG_AUTH_JS_FIXTURES": str(fixtures)})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    passed = int(re.search(r"^# pass (\d+)$", output, re.MULTILINE).group(1))
    failed = int(re.search(r"^# fail (\d+)$", output, re.MULTILINE).group(1))
    assert (passed, failed) == (12, 0), output


def test_the_node_example_server(stack, tmp_path):
    port = free_port()
    pid = spawn(["node", "examples/node-server.mjs"], tmp_path / "example.log",
                {"JWT_SECRET": stack.secret, "PORT": str(port)}, cwd=JS)
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_until(lambda: http_status(f"{url}/public/x") == 200, "example server", tmp_path / "example.log", pid=pid)
        access = login(stack.proxy_url).cookie_value("access_token")
        assert request("GET", f"{url}/page", {"Cookie": f"access_token={access}"}).body == b"Hello, demo\n"
        assert request("GET", f"{url}/public/page").body == b"Hello, visitor\n"
        refused = request("GET", f"{url}/page")
        assert refused.status == 401
        assert refused.json()["details"] == "missing"
    finally:
        stop(pid)

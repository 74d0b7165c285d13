"""compose.yaml, checked statically (no Docker engine on these machines): it
parses, its files exist, and its Envoy settings render the shared template
into a configuration that Envoy itself accepts."""

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

import stack as stack_controller

ROOT = stack_controller.ROOT
COMPOSE = ROOT / "compose.yaml"
SECRET = "q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE="


def compose(*args, env):
    """docker-compose with only the given environment: a developer's .env must not leak in."""
    with tempfile.NamedTemporaryFile("w", suffix=".env") as empty:
        base = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
        return subprocess.run(["docker-compose", "--env-file", empty.name, "-f", str(COMPOSE), *args],
                              env={**base, **env}, capture_output=True, text=True, cwd=ROOT)


def bind_mounts(service):
    """(source, target) of each bind mount, in docker-compose v1's short syntax."""
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("/"):
            yield source, target


@pytest.fixture(scope="module")
def services():
    result = compose("--profile", "caddy", "config", env={"JWT_SECRET": SECRET})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def test_jwt_secret_is_required():
    result = compose("config", env={})
    assert result.returncode != 0
    assert "set JWT_SECRET in .env" in result.stderr


def test_services_and_their_files(services):
    assert set(services) == {"postgres", "postgrest", "envoy", "caddy"}
    for name in ("postgres", "envoy", "caddy"):
        assert (ROOT / services[name]["build"]["dockerfile"]).is_file(), name
    for service in services.values():
        for source, _ in bind_mounts(service):
            assert Path(source).exists(), source


def test_shared_configuration_is_mounted(services):
    mounts = {mount for service in services.values() for mount in bind_mounts(service)}
    assert (str(ROOT / "sql"), "/docker-entrypoint-initdb.d") in mounts
    assert (str(ROOT / "stack" / "postgrest.conf"), "/etc/postgrest/postgrest.conf") in mounts
    assert (str(ROOT / "stack" / "envoy"), "/etc/envoy/config") in mounts
    assert "shared_preload_libraries=pg_auth_ext" in services["postgres"]["command"]
    assert services["postgrest"]["environment"]["PGRST_JWT_SECRET"] == SECRET
    assert services["envoy"]["environment"]["JWT_SECRET"] == SECRET


def test_envoy_accepts_the_template_rendered_with_compose_settings(services):
    env = dict(services["envoy"]["environment"])
    # The wasm file lives in the image; validate against the one built here.
    env["FILTER_WASM"] = str(ROOT / "target" / "wasm32-wasip1" / "wasm" / "proxy_filter.wasm")
    rendered = subprocess.run(["sh", str(ROOT / "stack" / "envoy" / "render.sh"), str(ROOT / "stack" / "envoy" / "envoy.yaml")],
                              env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    assert not re.search(r"^[^#]*\{\{[A-Z_]+\}\}", rendered, re.MULTILINE)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as config:
        config.write(rendered)
        config.flush()
        result = subprocess.run([str(stack_controller.ENVOY), "--mode", "validate", "-c", config.name,
                                 "--base-id", str(stack_controller.free_port())],
                                env={**os.environ, "JWT_SECRET": SECRET}, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_the_postgres_image_copies_what_cargo_pgrx_packages():
    dockerfile = (ROOT / "stack" / "docker" / "postgres.Dockerfile").read_text()
    package_command = re.search(r"cargo pgrx package .*--out-dir (\S+)", dockerfile)
    copied = re.findall(r"^COPY --from=build (\S+) ", dockerfile, re.MULTILINE)
    assert package_command and copied
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(["cargo", "pgrx", "package", "--pg-config", "/usr/lib/postgresql/15/bin/pg_config",
                        "--out-dir", out], cwd=ROOT / "pg_auth_ext", check=True, capture_output=True)
        for source in copied:
            packaged = Path(out) / source.removeprefix(package_command.group(1)).lstrip("/")
            assert packaged.is_dir() and any(packaged.iterdir()), source
        assert (Path(out) / "usr/lib/postgresql/15/lib/pg_auth_ext.so").is_file()
        assert (Path(out) / "usr/share/postgresql/15/extension/pg_auth_ext.control").is_file()

"""compose.yaml, checked statically (no Docker engine on these machines): it
parses, its files exist, and its Envoy settings render the shared template
into a configuration that Envoy itself accepts."""

import os
import pwd
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

import stack as stack_controller
from support.tokens import TEST_SECRET as SECRET

ROOT = stack_controller.ROOT
COMPOSE = ROOT / "compose.yaml"


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
    rendered = subprocess.run(["sh", str(stack_controller.ENVOY_RENDER), str(stack_controller.ENVOY_TEMPLATE)],
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


def test_the_postgres_entrypoint_moves_the_key_into_a_private_file(services, tmp_path):
    """Run with a stand-in for the image's docker-entrypoint.sh."""
    key_file = tmp_path / "pg_auth" / "jwt_secret"
    stub = tmp_path / "bin" / "docker-entrypoint.sh"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\necho "args: $*"\necho "secret in env: ${JWT_SECRET:-none}"\n')
    stub.chmod(0o755)
    command = services["postgres"]["command"]
    assert f"pg_auth.jwt_secret_file={'/var/lib/postgresql/pg_auth/jwt_secret'}" in command
    env = {**os.environ, "JWT_SECRET": SECRET, "PG_AUTH_KEY_FILE": str(key_file),
           "PATH": f"{stub.parent}:{os.environ['PATH']}"}
    result = subprocess.run(["sh", str(ROOT / "stack" / "docker" / "postgres-entrypoint.sh"), *command],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"args: {' '.join(command)}", "secret in env: none"]
    assert key_file.read_text() == SECRET + "\n"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.stat().st_uid == pwd.getpwnam("postgres").pw_uid

"""compose.yaml, checked statically (no Docker engine on these machines): it
parses and refuses to start without its secrets, its files exist, and each
proxy accepts its configuration rendered with compose's settings, from the
same files the local stack and the tests run."""

import json
import os
import pwd
import re
import subprocess
import tempfile
from pathlib import Path

import fronts
import pytest
import yaml

import stack as stack_controller
from support.tokens import TEST_SECRET as SECRET

ROOT = stack_controller.ROOT
COMPOSE = ROOT / "compose.yaml"
SETTINGS = {"JWT_SECRET": SECRET, "POSTGRES_PASSWORD": "a-postgres-password",
            "AUTHENTICATOR_PASSWORD": "an-authenticator-password"}
# The mail profile's settings: optional, as the profile is.
MAIL = {"MAILER_PASSWORD": "a-mailer-password", "SMTP_URL": "smtp://user:pass@relay.example.org:587?tls=required",
        "MAIL_FROM": "Example <no-reply@example.org>"}


def compose(*args, env):
    """docker-compose with only the given settings: a developer's .env must not leak in."""
    with tempfile.NamedTemporaryFile("w", suffix=".env") as empty:
        base = {k: v for k, v in os.environ.items() if k not in SETTINGS}
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
    result = compose("--profile", "caddy", "--profile", "nginx", "--profile", "mail", "config",
                     env={**SETTINGS, **MAIL})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


@pytest.mark.parametrize("missing", sorted(SETTINGS))
def test_each_secret_is_required_and_has_no_default(missing):
    result = compose("config", env={k: v for k, v in SETTINGS.items() if k != missing})
    assert result.returncode != 0
    assert f"set {missing} in .env" in result.stderr


def test_services_and_their_files(services):
    assert set(services) == {"postgres", "postgrest", "envoy", "gate", "caddy", "nginx", "mailer"}
    for name in ("postgres", "envoy", "gate", "mailer"):
        dockerfile = ROOT / services[name]["build"]["dockerfile"]
        assert dockerfile.is_file(), name
        for source in re.findall(r"^COPY (?!--from)(\S+) ", dockerfile.read_text(), re.MULTILINE):
            assert source == "." or (ROOT / source).exists(), (name, source)
    for service in services.values():
        for source, _ in bind_mounts(service):
            assert Path(source).exists(), source
    # No demo user unless asked for.
    assert services["postgres"]["environment"]["DEMO"] == "0"


def test_the_stock_proxies_run_the_tested_files(services):
    """Stock images, no custom build: the files mounted are those the tests run."""
    assert services["caddy"]["image"].startswith("caddy:") and "build" not in services["caddy"]
    assert services["nginx"]["image"].startswith("nginx:") and "build" not in services["nginx"]
    mounts = {mount for service in services.values() for mount in bind_mounts(service)}
    assert (str(fronts.CADDYFILE), "/etc/caddy/Caddyfile") in mounts
    assert (str(fronts.NGINX_TEMPLATE), "/etc/nginx/templates/nginx.conf.template") in mounts
    assert (str(fronts.FILTER_CONFIGS["secret"]), "/etc/pg_auth/filter-secret.json") in mounts
    assert services["gate"]["command"][:2] == ["--config", "/etc/pg_auth/filter-secret.json"]


def test_shared_configuration_is_mounted(services):
    mounts = {mount for service in services.values() for mount in bind_mounts(service)}
    assert (str(ROOT / "sql"), "/docker-entrypoint-initdb.d") in mounts
    assert (str(ROOT / "stack" / "postgrest.conf"), "/etc/postgrest/postgrest.conf") in mounts
    assert (str(ROOT / "stack"), "/etc/pg_auth/stack") in mounts
    assert "shared_preload_libraries=pg_auth_ext" in services["postgres"]["command"]
    for name in ("postgrest", "envoy", "gate"):
        environment = services[name]["environment"]
        assert SECRET in (environment.get("PGRST_JWT_SECRET"), environment.get("JWT_SECRET")), name
    # The filter and the gate fetch the public keys from PostgREST; Envoy
    # through its cluster named by the URL's host.
    for name in ("envoy", "gate"):
        assert services[name]["environment"]["JWKS_URI"] == "http://postgrest:3000/rpc/jwks", name
        assert services[name]["environment"]["REVOCATION_URI"] == "http://postgrest:3000/rpc/ended_sessions", name
    assert "- name: postgrest\n" in stack_controller.ENVOY_TEMPLATE.read_text()


# TRUSTED_PROXY: compose's default (none), a balancer's subnet, an IPv6 one.
TRUSTED_PROXIES = [None, "10.0.0.0/8", "fd00::/8"]


@pytest.mark.parametrize("trusted_proxy", TRUSTED_PROXIES)
def test_envoy_accepts_the_template_rendered_with_compose_settings(services, trusted_proxy):
    env = dict(services["envoy"]["environment"])
    assert env["TRUSTED_PROXY"] == "unix:"
    if trusted_proxy:
        env["TRUSTED_PROXY"] = trusted_proxy
    # The wasm file lives in the image; validate against the one built here.
    env["FILTER_WASM"] = str(stack_controller.FILTER_WASM)
    # So does the configuration, under stack/ mounted at /etc/pg_auth/stack.
    assert env["FILTER_CONFIG_FILE"] == "/etc/pg_auth/stack/filter-secret.json"
    env["FILTER_CONFIG_FILE"] = str(fronts.FILTER_CONFIGS["secret"])
    rendered = subprocess.run(["sh", str(stack_controller.ENVOY_RENDER), str(stack_controller.ENVOY_TEMPLATE)],
                              env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    assert not re.search(r"^[^#]*\{\{[A-Z_]+\}\}", rendered, re.MULTILINE)
    assert '"secret_env": "JWT_SECRET"' in rendered, "stack/filter-secret.json is the filter's configuration"
    assert ("xff_trusted_cidrs" in rendered) == bool(trusted_proxy)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as config:
        config.write(rendered)
        config.flush()
        result = subprocess.run([str(stack_controller.ENVOY), "--mode", "validate", "-c", config.name,
                                 "--base-id", str(stack_controller.free_port())],
                                env={**os.environ, **env}, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


@pytest.mark.parametrize("caddy", ["caddy", "caddy-latest"])
def test_caddy_accepts_the_caddyfile_with_compose_settings(services, caddy):
    env = {**os.environ, **services["caddy"]["environment"], **fronts.CADDY_ENV[caddy], "HOME": tempfile.gettempdir()}
    result = subprocess.run([str(fronts.BINARIES[caddy]), "validate", "--config", str(fronts.CADDYFILE),
                             "--adapter", "caddyfile"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stderr + result.stdout


@pytest.mark.parametrize("trusted_proxy", TRUSTED_PROXIES)
def test_nginx_accepts_its_template_with_compose_settings(services, tmp_path, trusted_proxy):
    values = dict(services["nginx"]["environment"])
    assert values["TRUSTED_PROXY"] == "unix:"
    if trusted_proxy:
        values["TRUSTED_PROXY"] = trusted_proxy
    # Outside compose's network the upstream names do not resolve: loopback.
    values.update(GATE_UPSTREAM="127.0.0.1:9000", POSTGREST_UPSTREAM="127.0.0.1:3000")
    config = tmp_path / "nginx.conf"
    config.write_text(fronts.render(fronts.NGINX_TEMPLATE.read_text(), values))
    (tmp_path / "tmp").mkdir()
    result = subprocess.run([str(fronts.BINARIES["nginx"]), "-t", "-p", str(tmp_path), "-c", str(config),
                             "-e", "stderr", "-g", f"pid {tmp_path / 'nginx.pid'};"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_the_postgres_image_copies_what_cargo_pgrx_packages():
    dockerfile = (ROOT / "stack" / "docker" / "postgres.Dockerfile").read_text()
    package_command = re.search(r"cargo pgrx package .*--out-dir (\S+)", dockerfile)
    copied = re.findall(r"^COPY --from=build (\S+) ", dockerfile, re.MULTILINE)
    assert package_command and copied
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(["cargo", "pgrx", "package", "--pg-config", str(stack_controller.SYSTEM_PG_BIN / "pg_config"),
                        "--out-dir", out], cwd=ROOT / "pg_auth_ext", check=True, capture_output=True)
        for source in copied:
            packaged = Path(out) / source.removeprefix(package_command.group(1)).lstrip("/")
            assert packaged.is_dir() and any(packaged.iterdir()), source
        major = stack_controller.VERSIONS["PG_MAJOR"]
        assert (Path(out) / f"usr/lib/postgresql/{major}/lib/pg_auth_ext.so").is_file()
        assert (Path(out) / f"usr/share/postgresql/{major}/extension/pg_auth_ext.control").is_file()


def test_the_dockerfiles_build_the_pinned_versions():
    """Docker builds cannot read stack/versions.env: they must agree with it."""
    versions = stack_controller.VERSIONS
    pgrx = re.search(r'^pgrx = "=(.+)"', (ROOT / "pg_auth_ext" / "Cargo.toml").read_text(), re.MULTILINE).group(1)
    postgres = (ROOT / "stack" / "docker" / "postgres.Dockerfile").read_text()
    assert f"cargo-pgrx --version ={pgrx} " in postgres
    assert set(re.findall(r"postgresql/(\d+)/", postgres)) == {versions["PG_MAJOR"]}
    assert f"FROM postgres:{versions['PG_MAJOR']}-" in postgres
    envoy = (ROOT / "stack" / "docker" / "envoy.Dockerfile").read_text()
    assert f"envoyproxy/envoy:v{versions['ENVOY_VERSION'].rsplit('.', 1)[0]}-" in envoy
    compose_file = COMPOSE.read_text()
    assert f"postgrest/postgrest:v{versions['POSTGREST_VERSION'].split('-')[0]}" in compose_file


def test_the_postgres_entrypoint_moves_the_key_into_a_private_file(services, tmp_path):
    """Run with a stand-in for the image's docker-entrypoint.sh."""
    key_file = tmp_path / "pg_auth" / "jwt_secret"
    stub = tmp_path / "bin" / "docker-entrypoint.sh"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\necho "args: $*"\necho "secret in env: ${JWT_SECRET:-none}"\n')
    stub.chmod(0o755)
    command = services["postgres"]["command"]
    assert "pg_auth.jwt_secret_file=/var/lib/postgresql/pg_auth/jwt_secret" in command
    env = {**os.environ, "JWT_SECRET": SECRET, "PG_AUTH_KEY_FILE": str(key_file),
           "PATH": f"{stub.parent}:{os.environ['PATH']}"}
    result = subprocess.run(["sh", str(ROOT / "stack" / "docker" / "postgres-entrypoint.sh"), *command],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"args: {' '.join(command)}", "secret in env: none"]
    assert key_file.read_text() == SECRET + "\n"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.stat().st_uid == pwd.getpwnam("postgres").pw_uid


def test_the_keys_encoding_is_postgrests_everywhere(services):
    """PostgREST's jwt-secret-is-base64 decides how the key is read: the
    extension (compose and the local stack) and the filter must agree, or
    every token fails (or, worse, a different key is used)."""
    postgrest = stack_controller.postgrest_setting("jwt-secret-is-base64")
    assert postgrest in ("true", "false")
    command = services["postgres"]["command"]
    extension = next(c.split("=", 1)[1] for c in command if c.startswith("pg_auth.jwt_secret_is_base64="))
    filter_config = json.loads(fronts.FILTER_CONFIGS["secret"].read_text())
    assert {"on": "true", "off": "false"}[extension] == postgrest
    assert str(filter_config.get("secret_is_base64", False)).lower() == postgrest


def test_the_mailer_starts_with_compose_settings_and_names_what_is_missing(services):
    """The mail profile: pg_auth_mailer --check accepts what compose gives it,
    logs in with the password sql/01_roles.sql gives the mailer role, and
    without the mail settings refuses to start, naming the one missing."""
    mailer = stack_controller.MAILER
    environment = services["mailer"]["environment"]
    assert services["postgres"]["environment"]["MAILER_PASSWORD"] == MAIL["MAILER_PASSWORD"]
    assert environment["PG_AUTH_MAILER_DATABASE_URL"] == f"postgres://mailer:{MAIL['MAILER_PASSWORD']}@postgres:5432/postgres"
    assert "\\getenv mailer_password MAILER_PASSWORD" in (ROOT / "sql" / "01_roles.sql").read_text()
    checked = subprocess.run([str(mailer), "--check"], env={"PATH": os.environ["PATH"], **environment},
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "smtp://relay.example.org:587" in checked.stderr and "pass@" not in checked.stderr
    result = compose("--profile", "mail", "config", env=SETTINGS)
    assert result.returncode == 0, result.stderr
    bare = yaml.safe_load(result.stdout)["services"]["mailer"]["environment"]
    refused = subprocess.run([str(mailer), "--check"], env={"PATH": os.environ["PATH"], **bare},
                             capture_output=True, text=True)
    assert refused.returncode == 2
    assert "PG_AUTH_MAILER_SMTP_URL is not set" in refused.stderr


def test_sign_up_is_off_unless_asked_for(services):
    command = services["postgres"]["command"]
    assert "pg_auth.signup=off" in command
    assert "pg_auth.site_url=http://localhost:8000" in command
    result = compose("config", env={**SETTINGS, "PG_AUTH_SIGNUP": "open", "SITE_URL": "https://app.example.org"})
    command = yaml.safe_load(result.stdout)["services"]["postgres"]["command"]
    assert "pg_auth.signup=open" in command and "pg_auth.site_url=https://app.example.org" in command

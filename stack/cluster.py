#!/usr/bin/env python3
"""The stack on more than one of everything, on 127.0.0.1 (docs/scaling.md):

    PostgreSQL 15 primary ── streaming replication (slot) ──> standby
      ^ the auth RPCs and writes                    ^ reads (optional)
    PostgREST a, PostgREST b (both: the read-write one of primary, standby)
      ^                 ^                              PostgREST r (standby)
    Envoy + filter     nginx + pg_auth_gate
      ^                 ^
      └── nginx: the load balancer clients use ──┘

PostgREST a and b connect with a libpq URI that names both servers and asks
for the read-write one (target_session_attrs=read-write): after a
promotion they find the new primary themselves. Both servers preload the
extension and read the same key files.

    python3 stack/cluster.py up [DIR]     # prints the load balancer's URL
    python3 stack/cluster.py down [DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import fronts

import stack as stack_controller
from processes import LOOPBACK, free_port, http_status, pid_alive, spawn, stop, wait_until
from stack import Stack, as_postgres

ROOT = stack_controller.ROOT
DEFAULT_DIR = ROOT / ".stack" / "cluster"
SLOT = "standby1"
# Proxies learn of new and revoked keys within this (the shipped default is
# 60 s): the failover test measures rotation across proxies with it.
FILTER_CHANGES = {"jwks_refresh_seconds": 2}
# The balancer connects to the proxies from this address, and they trust
# its X-Forwarded-For (TRUSTED_PROXY): their per-client limits and the
# audit trail see each client, not the balancer.
BALANCER_ADDRESS = "127.0.0.2"
LOAD_BALANCER = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/logs/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/nginx-tmp;
    proxy_temp_path {dir}/nginx-tmp;
    upstream proxies {{
        server {loopback}:{envoy} max_fails=0;
        server {loopback}:{nginx} max_fails=0;
        keepalive 16;
    }}
    server {{
        listen {loopback}:{port};
        location / {{
            proxy_pass http://proxies;
            proxy_bind {balancer_address};
            # The client, as the proxies' TRUSTED_PROXY expects it.
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            # A proxy that is down: the next one, for any request (a login
            # that never reached a proxy is safe to send again). max_fails=0:
            # never take both out of rotation at once (a keepalive
            # connection closed under a request would count as a failure).
            proxy_next_upstream error timeout non_idempotent;
            proxy_connect_timeout 1s;
        }}
    }}
}}
"""


class Cluster:
    def __init__(self, directory: Path):
        self.dir = directory
        # The postgres OS user must reach the servers' folders inside.
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o755)
        self.state_file = directory / "cluster.json"
        saved = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}
        self.secret = saved.get("secret") or stack_controller.new_secret()
        self.ports: dict[str, int] = saved.get("ports", {})
        self.pids: dict[str, int] = saved.get("pids", {})
        self.gate_url: str | None = saved.get("gate_url")
        for name in ("balancer", "nginx", "postgrest_b", "postgrest_b_admin", "postgrest_r", "postgrest_r_admin"):
            self.ports.setdefault(name, free_port())
        self.primary = Stack.create(directory / "primary", self.secret, saved.get("ports", {}).get("envoy"),
                                    signing="keys")
        self.primary.filter_overrides = FILTER_CHANGES
        self.primary.trusted_proxy = BALANCER_ADDRESS
        self.ports["envoy"] = self.primary.ports["proxy"]
        self.standby = Stack.create(directory / "standby", self.secret, signing="keys")
        # Their ports, for the next process that opens this cluster.
        self.primary.save()
        self.standby.save()
        self.save()

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps({"secret": self.secret, "ports": self.ports, "pids": self.pids,
                                               "gate_url": self.gate_url}))

    @property
    def url(self) -> str:
        """The load balancer: what clients use."""
        return f"http://{LOOPBACK}:{self.ports['balancer']}"

    @property
    def read_write_uri(self) -> str:
        hosts = f"{LOOPBACK}:{self.primary.ports['postgres']},{LOOPBACK}:{self.standby.ports['postgres']}"
        return f"postgres://authenticator@{hosts}/postgres?target_session_attrs=read-write"

    # ---- PostgreSQL ----------------------------------------------------------
    def start_standby(self) -> None:
        """A physical copy of the primary (pg_basebackup with a replication
        slot), streaming from it, with the primary's key files."""
        standby = self.standby
        if not (standby.pgdata / "PG_VERSION").exists():
            standby.make_postgres_folders()
            shutil.copytree(self.primary.key_file.parent, standby.key_file.parent, dirs_exist_ok=True)
            subprocess.run(["chown", "-R", "postgres:postgres", str(standby.sockets), str(standby.pgdata),
                            str(standby.key_file.parent)], check=True)
            result = subprocess.run(as_postgres([
                str(standby.pg_bin / "pg_basebackup"), "-h", LOOPBACK, "-p", str(self.primary.ports["postgres"]),
                "-U", "postgres", "-D", str(standby.pgdata), "-R", "-X", "stream", "-C", "-S", SLOT]),
                capture_output=True, text=True)
            if result.returncode != 0:
                raise stack_controller.StackError(f"pg_basebackup failed: {result.stderr.strip()}")
        standby.start_postgres()

    def replication_lag_bytes(self) -> int | None:
        out = self.primary.psql(sql="select pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint "
                                    "from pg_stat_replication")
        return int(out.strip()) if out.strip() else None

    def kill_primary(self) -> None:
        """The primary's death: no shutdown checkpoint, no goodbye."""
        subprocess.run(as_postgres([str(self.primary.pg_bin / "pg_ctl"), "-D", str(self.primary.pgdata),
                                    "-m", "immediate", "-w", "stop"]), capture_output=True)

    def promote_standby(self) -> None:
        result = subprocess.run(as_postgres([str(self.standby.pg_bin / "pg_ctl"), "-D", str(self.standby.pgdata),
                                             "-w", "promote"]), capture_output=True, text=True)
        if result.returncode != 0:
            raise stack_controller.StackError(f"pg_ctl promote failed: {result.stderr.strip()}")

    # ---- PostgREST and the proxies -------------------------------------------
    def start_postgrest_a(self) -> None:
        self.primary.start_postgrest(env={"PGRST_DB_URI": self.read_write_uri})

    def start_postgrest_b(self) -> None:
        self.primary.start_postgrest("postgrest_b", self.ports["postgrest_b"], self.ports["postgrest_b_admin"],
                                     env={"PGRST_DB_URI": self.read_write_uri})

    def start_postgrest_r(self) -> None:
        """Reads on the standby."""
        uri = f"postgres://authenticator@{LOOPBACK}:{self.standby.ports['postgres']}/postgres"
        self.primary.start_postgrest("postgrest_r", self.ports["postgrest_r"], self.ports["postgrest_r_admin"],
                                     env={"PGRST_DB_URI": uri})

    def start_envoy(self) -> None:
        self.primary.start_envoy()

    def start_nginx(self) -> None:
        """nginx + pg_auth_gate, in front of PostgREST b."""
        workdir = self.dir / "nginx-front"
        if not pid_alive(self.pids.get("gate")) or self.gate_url is None:
            postgrest_b = f"http://{LOOPBACK}:{self.ports['postgrest_b']}"
            gate = fronts.start_gate(workdir, None, fronts.FILTER_CONFIGS["keys"], postgrest_url=postgrest_b,
                                     config_changes=FILTER_CHANGES)
            self.pids["gate"], self.gate_url = gate.pid, gate.url
            self.save()
        if not pid_alive(self.pids.get("nginx")):
            gate = fronts.Server("gate", self.gate_url, self.pids["gate"], workdir)
            server = fronts.start_front("nginx", workdir, gate, self.ports["postgrest_b"], self.ports["nginx"],
                                        trusted_proxy=BALANCER_ADDRESS)
            self.pids["nginx"] = server.pid
        self.save()

    def start_balancer(self) -> None:
        if pid_alive(self.pids.get("balancer")):
            return
        (self.dir / "logs").mkdir(parents=True, exist_ok=True)
        (self.dir / "nginx-tmp").mkdir(exist_ok=True)
        conf = self.dir / "balancer.conf"
        conf.write_text(LOAD_BALANCER.format(dir=self.dir, loopback=LOOPBACK, balancer_address=BALANCER_ADDRESS,
                                             envoy=self.ports["envoy"],
                                             nginx=self.ports["nginx"], port=self.ports["balancer"]))
        self.pids["balancer"] = spawn([str(fronts.BINARIES["nginx"]), "-c", str(conf), "-g", "daemon off;"],
                                      self.dir / "logs" / "balancer.log", {}, self.dir)
        self.save()
        wait_until(lambda: http_status(f"{self.url}/") == 200, "the load balancer", self.dir / "logs" / "balancer.log",
                   pid=self.pids["balancer"])

    def up(self) -> None:
        self.primary.check_built()
        try:
            self.primary.start_postgres()
            self.primary.migrate()
            self.start_standby()
            self.start_postgrest_a()
            self.start_postgrest_b()
            self.start_postgrest_r()
            self.start_envoy()
            self.start_nginx()
            self.start_balancer()
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        for name in ("balancer", "nginx", "gate"):
            stop(self.pids.pop(name, None))
        self.save()
        for name in ("postgrest_r", "postgrest_b"):
            self.primary.stop_process(name)
        self.primary.down()
        self.standby.stop_postgres()


def wait_for_replication(cluster: Cluster, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cluster.replication_lag_bytes() == 0:
            return
        time.sleep(0.1)
    raise stack_controller.StackError("the standby did not catch up")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    cluster = Cluster(args.dir)
    if args.command == "up":
        cluster.up()
        print(f"Cluster up: load balancer {cluster.url} (Envoy :{cluster.ports['envoy']}, "
              f"nginx + gate :{cluster.ports['nginx']}); primary :{cluster.primary.ports['postgres']}, "
              f"standby :{cluster.standby.ports['postgres']}; stop with: python3 stack/cluster.py down {args.dir}")
    else:
        cluster.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Servers the tests and benchmarks start listen on 127.0.0.1 only, on ports
no client connection can have taken between the probe and the bind."""

import subprocess
import sys
import time
from pathlib import Path

from hosts import start_variant

from processes import free_port, listening_addresses, pid_alive, stop


def test_free_ports_lie_below_the_ephemeral_range_and_never_repeat():
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert max(ports) < ephemeral_start, "a port the kernel may give a client connection"


def test_the_benchmarks_copy_only_caddy_listens_on_loopback_only(stack, tmp_path):
    url, pids = start_variant("Caddy, copy only", tmp_path, None, stack.ports["postgrest"], stack.secret)
    try:
        assert listening_addresses(pids[0]) == {"127.0.0.1"}, url
    finally:
        for pid in pids:
            stop(pid)


def test_a_zombie_is_not_alive():
    """A server that has ended but that another process has not reaped yet
    (the failover script's restarted fronts, while it waits for
    stack/cluster.py down) runs no more: stop() must not wait for it."""
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, time; "
                               "print(subprocess.Popen(['true']).pid, flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        zombie = int(parent.stdout.readline())
        time.sleep(0.3)
        assert pid_alive(parent.pid)
        assert not pid_alive(zombie)
        started = time.monotonic()
        stop(zombie)
        assert time.monotonic() - started < 1
    finally:
        parent.kill()
        parent.wait()

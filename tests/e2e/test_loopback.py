"""Servers the tests and benchmarks start listen on 127.0.0.1 only, on ports
no client connection can have taken between the probe and the bind."""

from pathlib import Path

from hosts import start_variant

from processes import free_port, listening_addresses, stop


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

"""Starting, waiting for and stopping the servers of the stack, the tests and
the benchmarks: each in its own session, on 127.0.0.1, stopped by its PID.
Standard library only."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

LOOPBACK = "127.0.0.1"


class ProcessError(RuntimeError):
    """A server did not start or answer; the message says which and shows its log."""


# Ports below the kernel's ephemeral range: a port from there cannot be taken
# as some client's local port between the probe and the server's bind, which
# is what happens to a port the kernel hands out for bind(0).
_FIRST_PORT = 10000
_handed_out: set[int] = set()


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def free_port() -> int:
    """A loopback port nothing listens on, never the same twice in a process."""
    end = _ephemeral_start()
    for _ in range(200 if end - _FIRST_PORT >= 1000 else 0):
        port = random.randrange(_FIRST_PORT, end)
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on `port` now: connections of a server
    that just stopped (TIME_WAIT) do not count, as servers set SO_REUSEADDR."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def listening_addresses(pid: int) -> set[str]:
    """The addresses the TCP sockets of `pid` and its children listen on, read
    from /proc: what a test checks to see that a server listens on loopback only."""
    inodes: set[str] = set()
    for process in [pid, *_children(pid)]:
        try:
            for fd in Path(f"/proc/{process}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
        except OSError:
            continue
    addresses = set()
    for table in ("tcp", "tcp6"):
        try:
            rows = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                addresses.add(_address_of(fields[1].split(":")[0]))
    return addresses


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found + [grandchild for child in found for grandchild in _children(child)]


def _address_of(hexadecimal: str) -> str:
    raw = bytes.fromhex(hexadecimal)
    # /proc prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(words) == 4 else socket.AF_INET6, words)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass  # not our child: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (ended, not reaped by a parent that is not us) runs no more:
    # waiting for it to go would wait for its parent.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def log_tail(log: Path | None, lines: int = 30) -> str:
    if not log or not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def wait_until(check, what: str, log: Path | None = None, seconds: float = 30.0, pid: int | None = None) -> None:
    """Polls `check` until it is true; fails with the log's tail after
    `seconds`, or at once when the process `pid` has exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        if pid is not None and not pid_alive(pid):
            raise ProcessError(f"{what} exited (log: {log})\n{log_tail(log)}")
        time.sleep(0.1)
    raise ProcessError(f"{what} did not become ready within {seconds:.0f} s (log: {log})\n{log_tail(log)}")


# The server's parent while it runs: Envoy exits when its parent does, and the
# controller that starts it may exit first. SIGTERM to it is passed on to the
# server, which it then waits for and reaps (no zombie is left to init).
WRAPPER = 'trap \'kill -TERM "$child" 2>/dev/null\' TERM INT; "$@" & child=$!; wait "$child"; wait "$child"'


def spawn(command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
    """Starts a server in its own session under a `sh` that waits for it;
    returns the PID of that `sh`, which `stop` ends with the server."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(
            ["sh", "-c", WRAPPER, "sh", *command], stdout=output, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})}, start_new_session=True, cwd=cwd)
    return process.pid


def stop(pid: int | None, seconds: float = 10.0) -> None:
    """SIGTERM to a `spawn`ed server (through its `sh`), then SIGKILL to its
    whole process group after `seconds`."""
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + seconds
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        while pid_alive(pid):
            time.sleep(0.05)

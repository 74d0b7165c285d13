"""Starting, waiting for and stopping the servers of the stack, the tests and
the benchmarks: each in its own session, on 127.0.0.1, stopped by its PID.
Standard library only."""

from __future__ import annotations

import os
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


def free_port() -> int:
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

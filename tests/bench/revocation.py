#!/usr/bin/env python3
"""What revocation costs an authenticated read: the real stack (PostgreSQL,
PostgREST reading a table, Envoy with the wasm filter), three ways, side by
side in one run and in alternating order over ROUNDS rounds:

- no revocation check at all (the floor);
- PostgREST's db-pre-request auth.check_session (a query per request);
- the proxy's ended-sessions feed (revocation_uri), PostgREST without
  db-pre-request: the path that costs nothing per request.

The same wrk load through each: GET /rest/task with a valid access cookie.

    python3 tests/bench/revocation.py [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2] / "stack"), str(Path(__file__).resolve().parents[1])]

import json
import shutil
import tempfile

import fronts
from harness import alternate, arguments, median, warm_up, wrk

import stack as stack_controller
from processes import LOOPBACK, free_port, http_status, spawn, stop, wait_until
from support.flow import login

VARIANTS = ["no revocation check", "check_session (db-pre-request)", "proxy feed (revocation_uri)"]
FEED_KEYS = ("revocation_uri_env", "revocation_headers")


def start_postgrest(stack, workdir: Path, name: str, pre_request: bool) -> tuple[int, int]:
    """A PostgREST on the stack's database, with or without db-pre-request: (PID, port)."""
    conf = workdir / f"{name}.conf"
    # stack/postgrest.conf sets no db-pre-request (the proxies revoke): add it.
    text = stack_controller.POSTGREST_CONF.read_text()
    conf.write_text(text + ('db-pre-request = "auth.check_session"\n' if pre_request else ""))
    port, admin = free_port(), free_port()
    log = workdir / f"{name}.log"
    pid = spawn([str(stack_controller.POSTGREST), str(conf)], log, stack.postgrest_env(port, admin))
    wait_until(lambda: http_status(f"http://{LOOPBACK}:{admin}/ready") == 200, name, log, pid=pid)
    return pid, port


def start_envoy(stack, workdir: Path, name: str, postgrest_port: int, feed: bool) -> tuple[int, str]:
    config = json.loads(fronts.FILTER_CONFIGS[stack.signing].read_text())
    if not feed:
        config = {key: value for key, value in config.items() if key not in FEED_KEYS}
    port, admin = free_port(), free_port()
    rendered = stack_controller.render_envoy(proxy_port=port, admin_port=admin, postgrest_port=postgrest_port,
                                             filter_config=config)
    if rendered.returncode != 0:
        raise RuntimeError(rendered.stderr)
    path = workdir / f"{name}.yaml"
    path.write_text(rendered.stdout)
    log = workdir / f"{name}.log"
    pid = spawn([str(stack_controller.ENVOY), "-c", str(path), "--base-id", str(admin), "--concurrency", "1",
                 "--log-level", "error"], log, stack.envoy_env)
    wait_until(lambda: http_status(f"http://{LOOPBACK}:{admin}/ready") == 200, name, log, pid=pid)
    return pid, f"http://{LOOPBACK}:{port}"


def main() -> int:
    args = arguments(__doc__, connections=8)

    workdir = Path(tempfile.mkdtemp(prefix="revocation-bench-"))
    workdir.chmod(0o755)  # the postgres user reaches its data folder inside
    stack = stack_controller.Stack.create(workdir / "stack", stack_controller.new_secret())
    stack.start_postgres()
    stack.migrate()
    pids: list[int] = []
    try:
        strict_pid, strict_port = start_postgrest(stack, workdir, "postgrest-strict", pre_request=True)
        plain_pid, plain_port = start_postgrest(stack, workdir, "postgrest-plain", pre_request=False)
        pids += [strict_pid, plain_pid]
        fronts_by_variant = {}
        for name, port, feed in (("no revocation check", plain_port, False),
                                 ("check_session (db-pre-request)", strict_port, False),
                                 ("proxy feed (revocation_uri)", plain_port, True)):
            pid, url = start_envoy(stack, workdir, f"envoy-{len(pids)}", port, feed)
            pids.append(pid)
            fronts_by_variant[name] = url
        response = login(fronts_by_variant["no revocation check"])
        cookie = {"Cookie": f"access_token={response.cookie_value('access_token')}"}
        throughput = {v: [] for v in VARIANTS}
        for round_index, variant in alternate(VARIANTS, args.rounds):
            url = f"{fronts_by_variant[variant]}/rest/task"
            warm_up(url, cookie, args.seconds, args.connections)
            throughput[variant].append(wrk(url, cookie, args.seconds, args.connections))
            print(f"  round {round_index + 1}: {variant:<34} {throughput[variant][-1]['rps']:>8.0f} req/s", flush=True)
    finally:
        for pid in pids:
            stop(pid)
        stack.stop_postgres()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"\nwrk -t1 -c{args.connections}, {args.seconds} s per run, medians of {args.rounds} rounds: "
          "GET /rest/task through Envoy to PostgREST")
    for variant in VARIANTS:
        print(f"  {variant:<34} {median(throughput[variant], 'rps'):>8.0f} req/s "
              f"p50 {median(throughput[variant], 'p50'):>6.0f} µs")
    floor = median(throughput[VARIANTS[0]], "rps")
    print("\nratios (from this run)")
    print(f"  check_session / no check      {median(throughput[VARIANTS[1]], 'rps') / floor:>6.2f}")
    print(f"  proxy feed / no check         {median(throughput[VARIANTS[2]], 'rps') / floor:>6.2f}   target >= 0.95")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A flood of bad logins does not starve readers. Each login holds one of
PostgREST's 10 pool connections for a bcrypt hash: 200 bad logins, 40 at a
time, used to take the median authenticated read from 0.9 ms to 271 ms
(max 1.5 s). Every shipped proxy configuration caps the auth RPCs at 3 at
once; Envoy queues the rest, Caddy answers 503 at once; Envoy, nginx and
Traefik also rate-limit logins (10 a second, bursts of 20: 429)."""

import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.flow import login, read_tasks

# The bound this test holds reads to while wrk floods logins from the same
# 2 cores: with the cap, medians of 25-60 ms were measured (the cores are
# saturated by the flood itself); without it, reads took 50-1300 ms
# (median about 700 ms) and only a handful completed.
MEDIAN_READ_MS = 120
P90_READ_MS = 300
FLOOD_SECONDS = 4
FLOODERS = 40

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"user_": "demo", "pass": "not the password"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Content-Profile"] = "auth"
"""


def test_reads_stay_fast_during_a_login_flood(stack, front, tmp_path):
    """The flood comes from wrk (another process, FLOODERS connections for
    FLOOD_SECONDS); one client reads meanwhile and times each read."""
    access = login(front.url).cookie_value("access_token")
    assert read_tasks(front.url, access).status == 200
    script = tmp_path / "login.lua"
    script.write_text(WRK_SCRIPT)
    flood = subprocess.Popen(["wrk", "-t1", f"-c{FLOODERS}", f"-d{FLOOD_SECONDS}s", "-s", str(script),
                              f"{front.url}/rpc/login"], stdout=subprocess.PIPE, text=True)
    read_ms = []
    try:
        time.sleep(0.5)  # the flood is under way
        deadline = time.monotonic() + FLOOD_SECONDS - 1
        while time.monotonic() < deadline:
            started = time.perf_counter()
            assert read_tasks(front.url, access).status == 200
            read_ms.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
    finally:
        output = flood.communicate(timeout=FLOOD_SECONDS + 30)[0]
    logins = int(output.split(" requests in ")[0].split()[-1])
    assert logins >= 100, f"only {logins} logins: no flood\n{output}"
    assert len(read_ms) >= 20, f"only {len(read_ms)} reads: too few to judge"
    median = statistics.median(read_ms)
    p90 = statistics.quantiles(read_ms, n=10)[-1]
    assert median < MEDIAN_READ_MS and p90 < P90_READ_MS, (
        f"reads during the flood: median {median:.1f} ms, p90 {p90:.1f} ms, max {max(read_ms):.1f} ms; "
        f"{logins} logins through {front.name}")
    # Once the flood stops, logins go through again within seconds.
    deadline = time.monotonic() + 10
    while (status := login(front.url, patient=False).status) != 204 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status == 204


def test_a_login_burst_gets_429_with_retry_after(stack, front):
    if front.name.startswith("caddy"):
        pytest.skip("stock Caddy has no rate limit; its concurrency cap answers 503")
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda _: login(front.url, "demo", "wrong", patient=False), range(60)))
    limited = [r for r in responses if r.status == 429]
    assert limited, sorted({r.status for r in responses})
    assert all(r.header("retry-after") for r in limited), front.name

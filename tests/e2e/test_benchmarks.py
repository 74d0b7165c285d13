"""The on-demand benchmarks, run briefly so that they keep working: each
prints its ratios from one short run. Their figures mean nothing here (one
round, a second per run); docs/benchmarks.md has real runs."""

import re
import subprocess
import sys

import stack as stack_controller

ROOT = stack_controller.ROOT
BRIEFLY = ("--seconds", "1", "--rounds", "1")


def run_benchmark(name: str, *args: str) -> str:
    """tests/bench/`name`.py, briefly: what it printed."""
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / f"{name}.py"), *BRIEFLY, *args],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


def ratios_of(output: str) -> dict[str, float]:
    """The section `ratios (from this run)`: label -> the first number after it."""
    section = output.split("ratios (from this run)\n", 1)[1].split("\n\n", 1)[0]
    found = re.findall(r"^  (.+?)\s{2,}(-?[0-9]+(?:\.[0-9]+)?)\b", section, re.MULTILINE)
    return {label.strip(): float(value) for label, value in found}


def test_the_read_path_benchmark_runs_every_front():
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / "read_path.py"),
                          "--seconds", "1", "--rounds", "1", "--connections", "2"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ratios = dict(re.findall(r"^  (.+, shipped): ([0-9.]+)$", run.stdout, re.MULTILINE))
    assert set(ratios) == {"Envoy + filter + feed, shipped", "Caddy 2.6 + gate, shipped",
                           "Caddy 2.11 + gate, shipped", "nginx + gate, shipped", "Traefik + gate, shipped"}
    assert all(float(ratio) > 0 for ratio in ratios.values()), ratios


def test_the_es256_speed_example_agrees_with_p256():
    run = subprocess.run(["cargo", "run", "-q", "--release", "-p", "jwt_core", "--example", "verify_speed",
                          "--", "50", "1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"ES256 jwt_core \(whole JWS\): [0-9.]+ µs per verification", run.stdout), run.stdout


def test_the_policy_speed_example_times_each_half():
    run = subprocess.run(["cargo", "run", "-q", "--release", "-p", "proxy_filter", "--example", "decide_speed",
                          "--", "2000"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"read_request: [0-9]+ ns, decide \(cached token\): [0-9]+ ns, together [0-9]+ ns",
                     run.stdout), run.stdout


def test_the_accounts_benchmark_measures_each_call_and_the_mailer():
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / "accounts.py"),
                          "--seconds", "1", "--rounds", "1", "--connections", "2", "--mails", "40"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ratios = dict(re.findall(r"^  (sign-ups|reset requests) / logins: ([0-9.]+)$", run.stdout, re.MULTILINE))
    assert set(ratios) == {"sign-ups", "reset requests"} and all(float(r) > 0 for r in ratios.values()), run.stdout
    drains = re.findall(r"^  ([12]) mailers?: ([0-9]+) messages/s$", run.stdout, re.MULTILINE)
    assert [mailers for mailers, _ in drains] == ["1", "2"] and all(int(rate) > 0 for _, rate in drains), run.stdout


def test_the_proxy_benchmark_compares_with_cached_jwt_authn_and_the_floor():
    wasm = ROOT / "target" / "wasm32-wasip1" / "wasm" / "proxy_filter.wasm"
    ratios = ratios_of(run_benchmark("proxy", "--connections", "2", "--baseline-wasm", str(wasm)))
    for label in ("proxy_filter / jwt_authn (cached)", "proxy_filter / jwt_authn (no cache)",
                  "proxy_filter / no filter throughput", "no-op wasm filter / no filter",
                  "host-call floor / jwt_authn (cached)", "proxy_filter / host-call floor",
                  "proxy_filter / build proxy_filter.wasm"):
        assert ratios.get(label, 0) > 0, (label, ratios)


def test_the_proxy_benchmark_refuses_two_builds_of_one_file_name(tmp_path):
    """Rows are named after the file: a second build of the same name would
    silently replace the first."""
    paths = []
    for folder in ("before", "after"):
        (tmp_path / folder).mkdir()
        paths += ["--baseline-wasm", str(tmp_path / folder / "proxy_filter.wasm")]
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / "proxy.py"), *BRIEFLY, *paths],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "its own file name" in run.stderr, run.stdout[-2000:] + run.stderr[-2000:]


def test_the_keys_benchmark_prints_each_algorithm_and_the_es256_cost():
    output = run_benchmark("keys", "--connections", "2")
    ratios = ratios_of(output)
    for algorithm in ("HS256", "ES256", "EdDSA"):
        assert ratios.get(f"proxy_filter / jwt_authn (cached), {algorithm}  same token", 0) > 0, ratios
    assert re.search(r"~[0-9]+ µs per verification", output), output


def test_the_hosts_benchmark_measures_every_host_and_the_gate_alone():
    output = run_benchmark("hosts", "--connections", "2")
    ratios = ratios_of(output)
    for label in ("Caddy + gate / Caddy copy-only", "nginx + gate / Caddy copy-only",
                  "Envoy + wasm filter / Envoy no filter"):
        assert ratios.get(label, 0) > 0, (label, ratios)
    assert re.search(r"the gate alone, one worker thread: +[0-9]+ decisions/s", output), output


def test_the_revocation_benchmark_compares_the_feed_with_check_session():
    ratios = ratios_of(run_benchmark("revocation", "--connections", "2"))
    assert ratios.get("check_session / no check", 0) > 0 and ratios.get("proxy feed / no check", 0) > 0, ratios


def test_the_extension_benchmark_compares_with_the_plpgsql():
    ratios = ratios_of(run_benchmark("extension"))
    for label in ("plpgsql / native sign_raw, cost per call", "pgcrypto / native bcrypt verify, cost 10",
                  "bcrypt verify (cost 10) / passkey assertion check, cost", "native sign_raw / select 1, calls/s"):
        assert ratios.get(label, 0) > 0, (label, ratios)

"""The on-demand benchmarks, run briefly so that they keep working: each
prints its ratios from one short run. Their figures mean nothing here (one
round, a second per run); docs/benchmarks.md has real runs."""

import re
import subprocess
import sys

import stack as stack_controller

ROOT = stack_controller.ROOT


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


def test_the_accounts_benchmark_measures_each_call_and_the_mailer():
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / "accounts.py"),
                          "--seconds", "1", "--rounds", "1", "--connections", "2", "--mails", "40"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ratios = dict(re.findall(r"^  (sign-ups|reset requests) / logins: ([0-9.]+)$", run.stdout, re.MULTILINE))
    assert set(ratios) == {"sign-ups", "reset requests"} and all(float(r) > 0 for r in ratios.values()), run.stdout
    drains = re.findall(r"^  ([12]) mailers?: ([0-9]+) messages/s$", run.stdout, re.MULTILINE)
    assert [mailers for mailers, _ in drains] == ["1", "2"] and all(int(rate) > 0 for _, rate in drains), run.stdout

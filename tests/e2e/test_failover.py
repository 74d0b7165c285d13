"""tests/scale/failover.py, briefly: the cluster, started and stopped with
docs/scaling.md's commands (stack/cluster.py up/down), through proxy stops,
a key rotation, a revocation across proxies and a failover, with its zeros
asserted on what it printed."""

import re
import subprocess
import sys

import stack as stack_controller
from processes import http_status

SCRIPT = stack_controller.ROOT / "tests" / "scale" / "failover.py"


def test_the_failover_script_runs_and_loses_nothing(tmp_path):
    # Output to a file, not a pipe: a server the script starts must never hold
    # this test's pipe open.
    log = tmp_path / "failover.log"
    with log.open("w") as out:
        result = subprocess.run([sys.executable, str(SCRIPT), "--users", "3", "--steady", "1"],
                                stdout=out, stderr=subprocess.STDOUT, text=True, timeout=600)
    result.stdout = output = log.read_text()
    assert result.returncode == 0, output
    figures = dict(re.findall(r"^([a-z][^:\n]*): (.*)$", result.stdout, re.MULTILINE))
    assert figures["sessions lost"] == "0", output
    assert figures["refresh tokens used twice"] == "0", output
    assert figures["ended sessions reaching data after the bound"].startswith("0 "), output
    assert int(figures["users"].split(";")[0]) == 3
    requests = int(re.search(r"requests: (\d+)", result.stdout).group(1))
    assert requests > 100, output
    assert figures["client addresses in the users' login audit"].startswith("3 "), output
    assert figures["a client forging tokens through the balancer"].startswith("refused after"), output
    for name in ("failover", "key rotation across proxies", "revocation across proxies"):
        assert re.match(r"\d+\.\d s", figures[name]), (name, output)
    balancer = re.search(r"load balancer (http://127\.0\.0\.1:\d+)", result.stdout).group(1)
    assert http_status(f"{balancer}/") is None, "stack/cluster.py down left the load balancer running"

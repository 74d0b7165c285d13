"""The soak, briefly (20 users, 6 s phases, 300 bad requests per front):
the invariants must hold through a PostgREST, an Envoy and a PostgreSQL
restart. The full run is on demand: python3 tests/soak/soak.py."""

import soak


def test_a_short_soak_keeps_every_invariant():
    result = soak.run(users=20, phase_seconds=6, bad_requests=300, bad_rate=100)
    assert soak.report(result) == 0, result["violations"]
    requests = sum(sum(phase.outcomes.values()) for phase in result["phases"])
    assert requests > 200, "the users did work"
    assert all(seconds < 60 for seconds in result["recovery"].values()), result["recovery"]
    assert sum(sum(outcomes.values()) for outcomes in result["bad"].values()) == 600

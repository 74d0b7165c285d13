"""The filter configuration the tests give the proxies: stack/filter.json
with the JWKS fetched every 2 s (60 s by default), so that key rotations and
revocations reach the proxies within a test's patience."""

import json
from pathlib import Path

import fronts

FILTER_OVERRIDES = {"jwks_refresh_seconds": 2}


def filter_config(workdir: Path, **changes) -> Path:
    """stack/filter.json with the tests' overrides and `changes`, as a file."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "filter.json"
    config.write_text(json.dumps({**json.loads(fronts.FILTER_CONFIG.read_text()), **FILTER_OVERRIDES, **changes}))
    return config

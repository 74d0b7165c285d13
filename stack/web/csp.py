#!/usr/bin/env python3
"""The Content-Security-Policy of the demo page, which every front sends with
it: its one inline script and one inline style by hash, images from data:
URLs (the QR code of a new second factor: an SVG in an <img> runs nothing),
nothing else, no framing. The fronts' configurations carry it written out;
after an edit to index.html, rewrite them:

    python3 stack/web/csp.py --write
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# The files that carry the policy: the fronts that serve the page, and the
# docs' quote of the Caddyfile.
CARRIERS = ["stack/caddy/Caddyfile", "stack/nginx/nginx.conf.template", "stack/envoy/envoy.yaml", "docs/proxies.md"]
PATTERN = re.compile(r"default-src 'none'; script-src '[^']*'; style-src '[^']*'; [^\"]*frame-ancestors 'none'")


def digest(page: str, tag: str) -> str:
    (body,) = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
    return "sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()


def policy() -> str:
    page = (HERE / "index.html").read_text()
    return (f"default-src 'none'; script-src '{digest(page, 'script')}'; style-src '{digest(page, 'style')}'; "
            "connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def write() -> None:
    wanted = policy()
    for name in CARRIERS:
        path = ROOT / name
        text = path.read_text()
        if len(PATTERN.findall(text)) != 1:
            raise SystemExit(f"csp.py: {name} should carry the policy exactly once")
        path.write_text(PATTERN.sub(lambda _: wanted, text))


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write()
    print(policy())

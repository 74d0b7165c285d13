"""JWTs minted by an implementation of their own (Python's hmac), with the
real key, so that negative tests fail for the stated reason; and the test
key the Rust and Python tests share."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

TEST_SECRET = (Path(__file__).resolve().parents[1] / "keys" / "jwt_secret.b64").read_text().strip()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret_b64: str, claims: dict, header: dict | None = None, algorithm=hashlib.sha256) -> str:
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(base64.b64decode(secret_b64), signing_input.encode(), algorithm).digest()
    return f"{signing_input}.{b64url(signature)}"


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def now() -> int:
    return int(time.time())


def header_of(token: str) -> dict:
    """A token's JOSE header, unverified."""
    segment = token.split(".", maxsplit=1)[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))

"""A small HTTP client with exact control over headers (no cookie jar, no
redirects), and JWT minting with the real key by an implementation of its
own (Python's hmac), so that negative tests fail for the stated reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    def cookies(self) -> dict[str, str]:
        """name -> full Set-Cookie value."""
        return {value.split("=", 1)[0]: value for value in self.header_values("set-cookie")}

    def cookie_value(self, name: str) -> str:
        return self.cookies()[name].split(";", 1)[0].split("=", 1)[1]

    @property
    def reached_upstream(self) -> bool:
        """Envoy adds this header only to responses that came from the upstream."""
        return self.header("x-envoy-upstream-service-time") is not None


def request(method: str, url: str, headers: dict[str, str] | None = None, body: bytes | str | None = None,
            timeout: float = 10.0) -> Response:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if isinstance(body, str):
            body = body.encode()
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Response(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


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

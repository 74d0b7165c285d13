"""A small HTTP client with exact control over headers (no cookie jar, no
redirects)."""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

# Sent with every request; see Response.reached_upstream.
TRACE_ID = "pg-auth-test"


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

    def cookie_attributes(self, name: str) -> list[str]:
        """The attributes of cookie `name`'s Set-Cookie, in order."""
        return [part.strip() for part in self.cookies()[name].split(";")[1:]]

    @property
    def reached_upstream(self) -> bool:
        """PostgREST echoes X-Request-Id (stack/postgrest.conf); the proxies'
        own answers carry none."""
        return self.header("x-request-id") is not None


def request(method: str, url: str, headers: dict[str, str] | None = None, body: bytes | str | None = None,
            timeout: float = 10.0, *, tls: ssl.SSLContext | None = None, source: str | None = None) -> Response:
    """`tls`: for https URLs, the context that trusts the server's certificate;
    `source`: the local address to connect from (another client, e.g. 127.0.0.2)."""
    parts = urlsplit(url)
    bind = (source, 0) if source else None
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=tls,
                                                 source_address=bind)
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout, source_address=bind)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if isinstance(body, str):
            body = body.encode()
        connection.request(method, path, body=body, headers={"X-Request-Id": TRACE_ID, **(headers or {})})
        response = connection.getresponse()
        return Response(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def raw_request(url: str, method: str, target: str, headers: list[tuple[str, str]], timeout: float = 10.0) -> Response:
    """Sends `target` exactly as given (dot segments, encoded slashes, absolute
    form) with `headers` in order, repeated names included."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", parts.netloc)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return Response(response.status, response.getheaders(), response.read())
    finally:
        connection.close()

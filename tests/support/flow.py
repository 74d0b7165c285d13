"""The RPC calls of the curl flow, through the proxy."""

from __future__ import annotations

import json

from support.http import Response, request

AUTH = {"Content-Profile": "auth", "Content-Type": "application/json"}


def login(stack, user: str = "demo", password: str = "demo", headers: dict | None = None) -> Response:
    body = json.dumps({"user_": user, "pass": password})
    return request("POST", f"{stack.proxy_url}/rpc/login", {**AUTH, **(headers or {})}, body)


def refresh(stack, token: str, headers: dict | None = None) -> Response:
    return request("POST", f"{stack.proxy_url}/rpc/refresh_token",
                   {"Content-Profile": "auth", "Cookie": f"refresh_token={token}", **(headers or {})})


def logout(stack, cookie: str) -> Response:
    return request("POST", f"{stack.proxy_url}/rpc/logout", {**AUTH, "Cookie": cookie})


def read_tasks(stack, access: str) -> Response:
    return request("GET", f"{stack.proxy_url}/rest/task", {"Cookie": f"access_token={access}"})

"""Greets the caller and reports what it would send to a downstream service.

The request is prepared, not sent: the function shows a typical dependency without making
network calls.
"""

from __future__ import annotations

from typing import Any

import requests

GREETING_SERVICE = "https://greetings.example.com/v1/greetings"


def build_request(name: str) -> requests.PreparedRequest:
    return requests.Request(
        "POST",
        GREETING_SERVICE,
        json={"name": name},
        headers={"User-Agent": f"hello-lambda requests/{requests.__version__}"},
    ).prepare()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    name = event.get("name") or "world"
    request = build_request(name)
    return {
        "statusCode": 200,
        "body": {
            "message": f"Hello, {name}!",
            "would_send": {"method": request.method, "url": request.url},
        },
    }

"""Corpus case collision-jwt: the handler imports every top-level module the set ships."""

from __future__ import annotations

import jwt

MODULES = (jwt,)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    return {"ok": True, "checks": {"jwt": hasattr(jwt, "encode")}}

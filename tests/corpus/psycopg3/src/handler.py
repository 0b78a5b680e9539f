"""Corpus case psycopg3: the handler imports every top-level module the set ships."""

from __future__ import annotations

import psycopg
import psycopg.conninfo
import psycopg.pq
import psycopg_binary

MODULES = (
    psycopg,
    psycopg_binary,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    return {
        "ok": True,
        "checks": {
            "binary": psycopg.pq.__impl__ == "binary",
            "libpq": psycopg.pq.version() > 100000,
            "conninfo": psycopg.conninfo.make_conninfo(host="db", dbname="x") == "host=db dbname=x",
        },
    }

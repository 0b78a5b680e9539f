"""Corpus case pymongo: the handler imports every top-level module the set ships."""

from __future__ import annotations

import bson
import dns
import dns.name
import gridfs
import pymongo

MODULES = (
    bson,
    dns,
    gridfs,
    pymongo,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    client = pymongo.MongoClient("mongodb://127.0.0.1:9/", connect=False)
    encoded = bson.encode({"a": 1})
    return {
        "ok": True,
        "checks": {
            "bson_c": bson.has_c(),
            "pymongo_c": pymongo.has_c(),
            "roundtrip": bson.decode(encoded) == {"a": 1},
            "client": client.options.pool_options.max_pool_size == 100,
            "dns": str(dns.name.from_text("example.com")) == "example.com.",
        },
    }

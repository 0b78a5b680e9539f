"""Corpus case orjson: the handler imports every top-level module the set ships."""

from __future__ import annotations

import fastjsonschema
import orjson

MODULES = (
    fastjsonschema,
    orjson,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    validate = fastjsonschema.compile({"type": "object", "required": ["a"]})
    data = orjson.loads(orjson.dumps({"a": [1, 2]}))
    return {
        "ok": True,
        "checks": {
            "orjson": orjson.dumps(data) == b'{"a":[1,2]}',
            "fastjsonschema": validate(data) == data,
        },
    }

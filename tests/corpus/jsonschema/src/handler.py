"""Corpus case jsonschema: the handler imports every top-level module the set ships."""

from __future__ import annotations

import importlib.metadata

import attr
import attrs
import jsonschema
import jsonschema_specifications
import referencing
import rpds


@attr.s(auto_attribs=True)
class Point:
    x: int
    y: int


MODULES = (
    attr,
    attrs,
    jsonschema,
    jsonschema_specifications,
    referencing,
    rpds,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    jsonschema.validate({"n": 1}, schema)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors({}))
    trie = rpds.HashTrieMap({"a": 1}).insert("b", 2)
    return {
        "ok": True,
        "checks": {
            "errors": len(errors) == 1,
            "rpds": dict(trie) == {"a": 1, "b": 2},
            "version": importlib.metadata.version("jsonschema") == "4.23.0",
            "specifications": "https://json-schema.org/draft/2020-12/schema"
            in jsonschema_specifications.REGISTRY,
            "attrs": attrs.asdict(Point(1, 2)) == {"x": 1, "y": 2},
        },
    }

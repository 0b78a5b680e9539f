"""Corpus case sdist-only: the handler imports every top-level module the set ships."""

from __future__ import annotations

import decorator
import docopt
import jsonpath_rw
import ply
import six

MODULES = (
    decorator,
    docopt,
    jsonpath_rw,
    ply,
    six,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    found = jsonpath_rw.parse("$.orders[*].id").find({"orders": [{"id": 1}, {"id": 2}]})
    arguments = docopt.docopt("Usage: tool <name>", argv=["corpus"])
    return {
        "ok": True,
        "checks": {
            "jsonpath": [match.value for match in found] == [1, 2],
            "docopt": arguments == {"<name>": "corpus"},
            "decorator": callable(decorator.decorator),
            "six": six.PY3,
        },
    }

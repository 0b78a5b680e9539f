"""ujson 1.35 is C only and has no wheel at all: packaging this project must fail, clearly."""

import json
from importlib.metadata import version
from pathlib import Path

import ujson

CONFIG = json.loads((Path(__file__).parent / "data" / "config.json").read_text())


def handler(event, context):
    return {
        "ok": True,
        "name": CONFIG["name"],
        "echo": ujson.loads(ujson.dumps(event)),
        "versions": {"ujson": version("ujson")},
    }

import json
from importlib.metadata import version
from pathlib import Path

import idna

CONFIG = json.loads((Path(__file__).parent / "data" / "config.json").read_text())


def handler(event, context):
    host = event.get("host", "bücher.example")
    return {
        "ok": True,
        "name": CONFIG["name"],
        "host": idna.encode(host).decode("ascii"),
        "versions": {"idna": version("idna")},
    }

"""docopt is published only as an sdist: the package holds the wheel built from it."""

import json
from importlib.metadata import version
from pathlib import Path

from docopt import docopt

CONFIG = json.loads((Path(__file__).parent / "data" / "config.json").read_text())

USAGE = """Usage: app greet <name> [--loud]"""


def handler(event, context):
    arguments = docopt(USAGE, argv=["greet", event.get("name", "world"), "--loud"])
    return {
        "ok": True,
        "name": CONFIG["name"],
        "arguments": arguments,
        "versions": {"docopt": version("docopt")},
    }

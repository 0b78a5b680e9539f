import json
import sys
from importlib.metadata import version
from pathlib import Path

import dateutil.parser
import markupsafe

CONFIG = json.loads((Path(__file__).parent / "data" / "config.json").read_text())


def handler(event, context):
    when = dateutil.parser.isoparse(event.get("when", "2024-02-29T12:00:00+00:00"))
    return {
        "ok": True,
        "name": CONFIG["name"],
        "greeting": str(markupsafe.escape(CONFIG["greeting"])),
        "when": when.isoformat(),
        # True only when the manylinux wheel's compiled module loaded, not the pure fallback.
        "speedups": "markupsafe._speedups" in sys.modules,
        "versions": {name: version(name) for name in ("markupsafe", "python-dateutil", "six")},
    }

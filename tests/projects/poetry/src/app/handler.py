import json
import sys
from importlib.metadata import version
from pathlib import Path

import dateutil.parser
import markupsafe

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

CONFIG = json.loads((Path(__file__).parent / "data" / "config.json").read_text())


def handler(event, context):
    when = dateutil.parser.isoparse(event.get("when", "2024-02-29T12:00:00+00:00"))
    distributions = ["markupsafe", "python-dateutil", "six"]
    if sys.version_info < (3, 11):
        distributions.append("tomli")
    return {
        "ok": True,
        "name": CONFIG["name"],
        "greeting": str(markupsafe.escape(CONFIG["greeting"])),
        "when": when.isoformat(),
        "toml": tomllib.loads("answer = 42")["answer"],
        "toml_module": tomllib.__name__,
        "speedups": "markupsafe._speedups" in sys.modules,
        "versions": {name: version(name) for name in distributions},
    }

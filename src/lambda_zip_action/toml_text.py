"""TOML the project controls (pyproject.toml, uv.lock, poetry.lock), read with one kind of failure.

tomllib recurses once per array or inline table inside another: `a = [[[...]]]` nested 100,000
deep raised RecursionError, which no reader expected, and the build ended in a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class TomlError(ValueError):
    """Text that is not TOML this tool can read; str() says why, in a few words."""


def parse_toml(text: str) -> dict[str, Any]:
    try:
        document: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlError(str(exc)) from exc
    except RecursionError:
        raise TomlError("its arrays or inline tables are nested too deeply to read") from None
    return document


def table(document: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The table at `keys` (`table(d, "tool", "poetry")` is `[tool.poetry]`), or an empty one
    when a step is missing or is not a table: `project = 5` declares no project."""
    found: object = document
    for key in keys:
        found = found.get(key) if isinstance(found, Mapping) else None
    return dict(found) if isinstance(found, Mapping) else {}

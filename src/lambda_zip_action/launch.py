"""How this tool starts a copy of itself: isolated from the current directory and PYTHON* variables.

`python -m lambda_zip_action` puts the current directory first on `sys.path`, so a
`lambda_zip_action/` or `requests.py` in whatever directory the process starts from would be
imported instead of ours. `-I` (isolated mode, every Python 3) leaves out the current
directory, PYTHONPATH and the user site; the one directory added back is the one this package
was imported from. action.yml starts the tool the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import lambda_zip_action

BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from lambda_zip_action.cli import main; raise SystemExit(main(sys.argv[1:]))"
)


def package_root() -> Path:
    """The directory holding the `lambda_zip_action` package that is running now."""
    return Path(lambda_zip_action.__file__).resolve().parent.parent


def self_command(python: str | None = None) -> list[str]:
    """argv prefix that runs this tool's CLI in a fresh, isolated interpreter."""
    return [python or sys.executable, "-I", "-c", BOOTSTRAP, str(package_root())]

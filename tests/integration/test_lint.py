"""The code passes the linters CI runs, so `bash scripts/test` alone keeps main clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import REPO_ROOT

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=600
    )


def test_ruff_check() -> None:
    completed = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_ruff_format() -> None:
    completed = run(str(BIN / "ruff"), "format", "--no-cache", "--check", ".")
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_mypy_strict() -> None:
    completed = run(str(BIN / "mypy"), "--no-incremental")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    # pyproject.toml's [tool.mypy] covers the tests and benchmarks too, not the fixture projects
    # (mypy skips hidden directories itself).
    fixtures = ("tests/projects/", "tests/corpus/", "tests/realworld/", "benchmarks/projects/")
    relative = [
        path.relative_to(REPO_ROOT)
        for top in ("src", "tests", "benchmarks")
        for path in (REPO_ROOT / top).rglob("*.py")
    ]
    checked = [
        path
        for path in relative
        if not path.as_posix().startswith(fixtures)
        and not any(part.startswith(".") for part in path.parts)
    ]
    assert f"no issues found in {len(checked)} source files" in completed.stdout, completed.stdout

"""The bytecode cache: same bytes with or without it, and verify never trusts it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from support import PROJECTS, interpreter, tool_env


def build(project: Path, output: Path, cache: Path | None, command: str = "build"):  # type: ignore[no-untyped-def]
    argv = [
        sys.executable, "-m", "lambda_zip_action", command, "--project", str(project),
        "--python-version", "3.12", "--python", str(interpreter("3.12")),
        "--output", str(output), "--json",
    ]  # fmt: skip
    argv += ["--cache-dir", str(cache)] if cache is not None else ["--no-cache"]
    return subprocess.run(
        argv, env=tool_env(LAMBDA_ZIP_NO_CACHE=None), capture_output=True, text=True, check=False
    )


def sha(completed: subprocess.CompletedProcess[str]) -> str:
    assert completed.returncode == 0, completed.stderr
    return str(json.loads(completed.stdout)["sha256"])


def test_cached_and_uncached_builds_give_the_same_bytes(tmp_path: Path) -> None:
    project = PROJECTS / "uvlock"
    cache = tmp_path / "cache"
    uncached = sha(build(project, tmp_path / "none.zip", None))
    first = build(project, tmp_path / "first.zip", cache)
    assert "from the bytecode cache" not in first.stderr
    stored = sorted(cache.rglob("*.pyc"))
    assert stored
    second = build(project, tmp_path / "second.zip", cache)
    assert "from the bytecode cache" in second.stderr
    assert sha(first) == sha(second) == uncached
    assert sorted(cache.rglob("*.pyc")) == stored


def test_a_wrong_cache_entry_is_caught_by_verify(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "uvlock", project)
    cache = tmp_path / "cache"
    clean = sha(build(project, tmp_path / "clean.zip", cache))
    # Damage one cached .pyc the way a broken cache would: its code object, not its header.
    victim = sorted(cache.rglob("*.pyc"))[0]
    data = bytearray(victim.read_bytes())
    data[-2] ^= 0x01
    victim.write_bytes(bytes(data))

    # A plain build trusts the cache, so its bytes change...
    assert sha(build(project, tmp_path / "trusting.zip", cache)) != clean
    # ...and verify, whose rebuild never reads the cache, says so and names the entry.
    verified = build(project, tmp_path / "verified.zip", cache, command="verify")
    assert verified.returncode == 1, verified.stderr
    assert "NOT reproducible" in verified.stderr
    assert ".pyc: bytecode: header is equal; the code object differs" in verified.stderr

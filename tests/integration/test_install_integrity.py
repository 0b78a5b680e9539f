"""Installed files are checked against their wheels' RECORD: a modified cache cannot ship."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lambda_zip_action.installers import uv_binary

from support import PROJECTS, interpreter, tool_env


def build(cache: Path, output: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--project",
         str(PROJECTS / "uvlock"), "--python-version", "3.12",
         "--python", str(interpreter("3.12")), "--output", str(output)],
        env=tool_env(UV_CACHE_DIR=str(cache)), capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_a_file_modified_in_the_installer_cache_is_refused(tmp_path: Path) -> None:
    cache = tmp_path / "uv-cache"
    assert build(cache, tmp_path / "good.zip").returncode == 0
    previous = (tmp_path / "good.zip").read_bytes()

    # What a process editing an installed copy does to every hard-linked copy: the cache.
    for cached in cache.glob("archive-v*/*/six.py"):
        with cached.open("a") as stream:
            stream.write("PATCHED = True\n")

    # Naive: uv installs the edited file without a word.
    target = tmp_path / "naive"
    subprocess.run(
        [uv_binary(), "pip", "install", "-q", "--target", str(target), "--python",
         str(interpreter("3.12")), "--no-deps", "six==1.17.0"],
        env=tool_env(UV_CACHE_DIR=str(cache)), check=True,
    )  # fmt: skip
    assert "PATCHED" in (target / "six.py").read_text()

    refused = build(cache, tmp_path / "good.zip")
    assert refused.returncode == 2
    assert "six.py" in refused.stderr and "RECORD" in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith("lambda-zip: install error:")
    assert (tmp_path / "good.zip").read_bytes() == previous

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from support import ARCHIVE_TOOLS, have, interpreter, require_tools, tool_env


@pytest.mark.parametrize("version", ["3.10", "3.11", "3.12", "3.13"])
def test_interpreter_reports_the_version_asked_for(version: str) -> None:
    python = interpreter(version)
    reported = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert reported == version


def test_interpreter_fails_rather_than_skips_when_absent() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"no working CPython 3\.99"):
        interpreter("3.99")


def test_tool_env_forbids_downloads_and_shares_the_session_cache(shared_uv_cache: Path) -> None:
    env = tool_env()
    assert env["UV_PYTHON_DOWNLOADS"] == "never"
    assert env["UV_CACHE_DIR"] == str(shared_uv_cache)
    assert tool_env()["UV_CACHE_DIR"] == env["UV_CACHE_DIR"]


def test_tool_env_applies_overrides_to_a_copy() -> None:
    env = tool_env(LAMBDA_ZIP_TEST_VAR="set", PATH=None)
    assert env["LAMBDA_ZIP_TEST_VAR"] == "set"
    assert "PATH" not in env
    assert "LAMBDA_ZIP_TEST_VAR" not in os.environ
    assert "PATH" in os.environ


def test_require_tools_fails_with_the_fix() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"scripts/test"):
        require_tools("lambda-zip-no-such-tool")


def test_archive_tools_are_installed() -> None:
    require_tools()
    assert all(have(tool) for tool in ARCHIVE_TOOLS)

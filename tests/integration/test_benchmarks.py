"""The benchmark harness runs end to end (quick mode, small fixture), so it cannot rot.

Nothing here asserts a time: the machine running the tests says nothing about performance.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import support

METHOD_LABELS = {
    "a": "pip install -t + zip -r",
    "b": "pip -t + touch + compileall + touch + zip -r",
    "c": "uv pip install --target + zip -r",
    "d": "lambda-zip build",
    "e": "lambda-zip build --verify",
}


def test_quick_run_writes_report_and_chart(tmp_path: Path) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        pytest.fail(
            "matplotlib is missing: install the bench extra (uv pip install -e '.[bench]').",
            pytrace=False,
        )
    support.require_tools("zip")
    report, chart = tmp_path / "bench.md", tmp_path / "bench.png"
    completed = subprocess.run(
        [
            sys.executable, "-m", "benchmarks.run", "--quick", "--fixtures", "small",
            "--python", str(support.interpreter("3.12")),
            "--out", str(report), "--work", str(tmp_path / "work"),
        ],
        cwd=support.REPO_ROOT,
        env=support.tool_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]

    assert chart.is_file() and chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    text = report.read_text(encoding="utf-8")
    assert "](bench.png)" in text
    for key, label in METHOD_LABELS.items():
        assert f"| small | ({key}) {label} |" in text, f"no build-time row for ({key})"
    assert "| small | " in text.split("## Cold start")[1], "no import-time row"
    assert "## Targets" in text and "| (d) lambda-zip vs (c) uv + zip, medium, warm |" in text
    # The fresh-runner scenario ran through the action's run step, cold and cache restored.
    fresh = text.split("## A fresh runner")[1]
    for kind in ("seed recipe", "action, cold", "action, cache restored"):
        assert f"| small | {kind} | " in fresh, f"no fresh-runner row for {kind}"

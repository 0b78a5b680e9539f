"""The command line as a user meets it: help for every argument, the GitHub layer kept apart."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from lambda_zip_action.cli import make_parser

import support

# A CLI-only install: the GitHub layer's HTTP client and toolkit cannot be imported.
WITHOUT_GITHUB = """
import sys
for name in ("requests", "actions_toolkit", "github", "lambda_zip_action.github"):
    sys.modules[name] = None
from lambda_zip_action.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_argument_of_every_command_has_help() -> None:
    missing = [
        f"{name} {action.dest}"
        for name, sub in _subparsers(make_parser()).items()
        for action in sub._actions
        if action.help is None and not isinstance(action, argparse._HelpAction)
    ]
    assert missing == []


def test_build_and_inspect_work_without_the_github_layer(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "src").mkdir(parents=True)
    (project / "src" / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    output = tmp_path / "out.zip"
    argv = [sys.executable, "-c", WITHOUT_GITHUB]
    built = subprocess.run(
        [*argv, "build", "--project", str(project), "--python-version", "3.12",
         "--python", str(support.interpreter("3.12")), "--output", str(output)],
        env=support.tool_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    inspected = subprocess.run(
        [*argv, "inspect", str(output)], capture_output=True, text=True, check=False
    )
    assert inspected.returncode == 0, inspected.stdout + inspected.stderr
    # The Action's commands need it, and say so.
    action = subprocess.run([*argv, "action"], capture_output=True, text=True, check=False)
    assert action.returncode == 2 and "Traceback" not in action.stderr
    assert "needs the GitHub packages" in action.stderr

"""The GitHub layer without act: inputs, comparisons, outputs, summary and comments.

Real builds of the uvlock fixture, and the loopback fake of GitHub's API.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_zip_action import cli
from lambda_zip_action.config import make_config
from lambda_zip_action.errors import ConfigError, InterpreterError
from lambda_zip_action.github.baseline import parse_sha256
from lambda_zip_action.github.comments import marker_for
from lambda_zip_action.github.inputs import read_inputs
from lambda_zip_action.github.pipeline import ensure_interpreter
from lambda_zip_action.proof.drift_data import NOTICE

import support
from fake_github import BOT_LOGIN, BOT_TOKEN, READ_ONLY_TOKEN, FakeGitHub, fake_github

REPO = "octo/app"
PR = 7


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with fake_github() as server:
        server.add_repository(REPO, issues=(PR,))
        yield server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "workspace" / "fn"
    shutil.copytree(support.PROJECTS / "uvlock", target)
    return target


def action_env(tmp_path: Path, **inputs: str) -> dict[str, str]:
    env = support.tool_env(GITHUB_TOKEN=None)
    env.update(
        GITHUB_WORKSPACE=str(tmp_path / "workspace"),
        RUNNER_TEMP=str(tmp_path),
        GITHUB_OUTPUT=str(tmp_path / "output.txt"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        GITHUB_REPOSITORY=REPO,
        GITHUB_ACTIONS="true",
    )
    for name, value in inputs.items():
        env["INPUT_" + name.upper()] = value
    return env


# Inputs


def test_inputs_default_and_validate() -> None:
    inputs = read_inputs({"INPUT_WORKING_DIRECTORY": "services/billing"})
    assert inputs.name == "billing"
    assert inputs.verify is True
    assert inputs.comment == "auto"
    assert inputs.build == {"no_build": True}  # nothing else given: the project decides
    assert read_inputs({}).name == "lambda"
    assert "token=<redacted>" in repr(read_inputs({"INPUT_GITHUB_TOKEN": BOT_TOKEN}))

    with pytest.raises(ConfigError) as raised:
        read_inputs(
            {
                "INPUT_VERIFY": "yes",
                "INPUT_COMMENT": "always",
                "INPUT_COMPARE_TO": "abc",
                "INPUT_BASELINE_REF": "main",
            }
        )
    message = raised.value.message
    assert "verify" in message and "comment" in message and "not both" in message


def test_sha256_in_hex_or_lambda_base64() -> None:
    digest = "ab" * 32
    as_base64 = base64.b64encode(bytes.fromhex(digest)).decode()
    assert parse_sha256(digest.upper()) == digest
    assert parse_sha256(as_base64) == digest
    assert parse_sha256("dist/lambda.zip") is None
    assert parse_sha256(base64.b64encode(b"short").decode()) is None


def test_missing_interpreter_says_what_to_do(project: Path, tmp_path: Path) -> None:
    env = support.tool_env(PATH="/usr/bin:/bin", HOME=str(tmp_path), PYENV_ROOT=str(tmp_path))
    config = make_config(project, {"python_version": "3.14"})
    with pytest.raises(InterpreterError) as raised:
        ensure_interpreter(config, env)
    message = raised.value.message
    assert "uv python install 3.14" in message
    assert "actions/setup-python" in message


# The action on a pull request, without act


def test_action_on_pull_request_builds_compares_and_comments(
    project: Path, tmp_path: Path, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = tmp_path / "deployed.zip"
    env = action_env(tmp_path, working_directory="fn", python_version="3.12", verify="false")
    assert cli.main(["build", "--project", str(project), "--python-version", "3.12",
                     "--output", str(deployed)], env) == 0  # fmt: skip
    (project / "src" / "app" / "handler.py").write_text(
        "def handler(event, context):\n    return 2\n"
    )
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": PR, "pull_request": {"number": PR}}))
    env.update(
        INPUT_COMPARE_TO=str(deployed),
        INPUT_GITHUB_TOKEN=BOT_TOKEN,
        INPUT_NAME="fn",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_EVENT_PATH=str(event),
        GITHUB_API_URL=fake.url,
    )
    fake.seed(REPO, PR, "mallory", f"{marker_for('fn')}\nlook-alike")
    capsys.readouterr()

    assert cli.main(["action"], env) == 0

    outputs = support.read_action_outputs(tmp_path / "output.txt")
    assert outputs["changed"] == "true"
    assert outputs["reproducible"] == ""
    assert len(outputs["baseline-sha256"]) == 64
    assert outputs["baseline-sha256"] != outputs["sha256"]
    summary = (tmp_path / "summary.md").read_text()
    assert "### Lambda package fn: changed" in summary
    assert "`app/handler.py`" in summary
    assert Path(outputs["report"]).read_text() == summary
    [ours] = [c for c in fake.comments(REPO, PR) if c.login == BOT_LOGIN]
    assert ours.body == f"{marker_for('fn')}\n{summary}"
    printed = capsys.readouterr().out
    assert f"::add-mask::{BOT_TOKEN}" in printed  # masked first, never printed otherwise
    assert printed.count(BOT_TOKEN) == 1
    assert "::group::Build" in printed


def test_read_only_token_is_a_warning(
    project: Path, tmp_path: Path, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": PR}}))
    env = action_env(
        tmp_path,
        working_directory="fn",
        python_version="3.12",
        verify="false",
        compare_to="00" * 32,
        github_token=READ_ONLY_TOKEN,
    )
    env.update(
        GITHUB_EVENT_NAME="pull_request", GITHUB_EVENT_PATH=str(event), GITHUB_API_URL=fake.url
    )
    assert cli.main(["action"], env) == 0
    printed = capsys.readouterr().out
    assert "::warning::" in printed and "read-only" in printed
    assert fake.comments(REPO, PR) == []
    assert "fn: changed" in (tmp_path / "summary.md").read_text()


# The comment subcommand (the workflow_run half of the fork pattern)


def test_comment_command_creates_then_updates(
    tmp_path: Path, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    arguments = ["comment", "--report", str(report), "--pr", str(PR), "--repo", REPO,
                 "--name", "fn", "--api-url", fake.url]  # fmt: skip
    env = {"GITHUB_TOKEN": BOT_TOKEN}
    old = {"app/handler.py": b"X = 1\n"}
    support.drift_data(report, "fn", old, old)
    assert cli.main(arguments, env) == 0
    support.drift_data(report, "fn", {"app/handler.py": b"X = 2\n"}, old)
    assert cli.main(arguments, env) == 0
    [comment] = fake.comments(REPO, PR)
    assert comment.body.startswith(
        f"{marker_for('fn')}\n{NOTICE}\n\n### Lambda package fn: changed"
    )
    assert "1 of your files changed" in comment.body and "`app/handler.py`" in comment.body
    out = capsys.readouterr().out
    assert "created comment" in out and "updated comment" in out
    assert BOT_TOKEN not in out.replace(f"::add-mask::{BOT_TOKEN}", "")


def test_comment_command_with_read_only_token_fails_clearly(
    tmp_path: Path, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    report = support.drift_data(tmp_path / "report.json", "fn", {"a.py": b""}, None)
    code = cli.main(
        ["comment", "--report", str(report), "--pr", str(PR), "--repo", REPO,
         "--api-url", fake.url],
        {"GITHUB_TOKEN": READ_ONLY_TOKEN},
    )  # fmt: skip
    assert code == 2
    out = capsys.readouterr().out
    assert "::error::" in out and "read-only" in out
    assert READ_ONLY_TOKEN not in out.replace(f"::add-mask::{READ_ONLY_TOKEN}", "")

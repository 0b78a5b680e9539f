"""The Action on a project whose deploy configuration declares several functions.

examples/sam-app in a workspace, the Action run in process with the loopback fake of GitHub's
API: every function built, one JSON output keyed by function, the index, one sticky comment
with a row per function; compare-to, which names one package, is refused for two.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_zip_action import cli
from lambda_zip_action.github.comments import marker_for

import support
from fake_github import BOT_LOGIN, BOT_TOKEN, FakeGitHub, fake_github

REPO = "octo/app"
PR = 7
EXAMPLE = Path(__file__).parents[2] / "examples" / "sam-app"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with fake_github() as server:
        server.add_repository(REPO, issues=(PR,))
        yield server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "workspace" / "sam-app")
    return tmp_path / "workspace"


def _env(tmp_path: Path, workspace: Path, **inputs: str) -> dict[str, str]:
    env = support.tool_env(GITHUB_TOKEN=None)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": PR, "pull_request": {"number": PR}}))
    env.update(
        GITHUB_WORKSPACE=str(workspace),
        RUNNER_TEMP=str(tmp_path),
        GITHUB_OUTPUT=str(tmp_path / "output.txt"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        GITHUB_REPOSITORY=REPO,
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_EVENT_PATH=str(event),
        INPUT_WORKING_DIRECTORY="sam-app",
    )
    for name, value in inputs.items():
        env["INPUT_" + name.upper()] = value
    return env


def test_the_action_builds_every_declared_function_and_comments_once(
    tmp_path: Path, workspace: Path, fake: FakeGitHub
) -> None:
    env = _env(tmp_path, workspace, verify="true", github_token=BOT_TOKEN, name="orders")
    env["GITHUB_API_URL"] = fake.url

    assert cli.main(["action"], env) == 0

    outputs = support.read_action_outputs(tmp_path / "output.txt")
    functions = json.loads(outputs["functions"])
    assert sorted(functions) == ["HelloFunction", "OrdersFunction"]
    index = json.loads(Path(outputs["index"]).read_text())
    for row in index["functions"]:
        one = functions[row["name"]]
        assert one["sha256"] == row["sha256"] and Path(one["path"]).is_file()
        assert one["reproducible"] == "true"
    assert outputs["reproducible"] == "true"
    assert outputs["sha256"] == ""  # several functions: the one-package outputs stay empty
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("### Lambda functions orders: 0 of 2 functions changed, 2 ")
    assert "| OrdersFunction | python3.12 arm64 | new |" in summary
    [ours] = [c for c in fake.comments(REPO, PR) if c.login == BOT_LOGIN]
    assert ours.body == f"{marker_for('orders')}\n{summary}"


def test_compare_to_names_one_package_and_is_refused_for_several(
    tmp_path: Path, workspace: Path
) -> None:
    env = _env(tmp_path, workspace, verify="false", compare_to="0" * 64, comment="false")
    assert cli.main(["action"], env) == 2
    assert not (workspace / "sam-app" / "dist").exists()
    env["INPUT_FUNCTION"] = "HelloFunction"
    assert cli.main(["action"], env) == 0
    outputs = support.read_action_outputs(tmp_path / "output.txt")
    assert outputs["changed"] == "true" and len(outputs["sha256"]) == 64
    assert sorted(json.loads(outputs["functions"])) == ["HelloFunction"]


LAYER = """
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: shared/
      CompatibleRuntimes:
        - python3.12
    Metadata:
      BuildMethod: python3.12
"""


def _git(workspace: Path, *args: str) -> str:
    import subprocess

    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=workspace,
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def test_a_function_new_in_the_pull_request_and_a_layer_compare_with_the_base(
    tmp_path: Path, workspace: Path
) -> None:
    """With baseline-ref, each function and layer is built at the base as the base declares
    it; one the base does not declare is new (nothing to compare), not a failed run."""
    project = workspace / "sam-app"
    template = project / "template.yaml"
    declared = template.read_text()
    (project / "shared" / "python").mkdir(parents=True)
    (project / "shared" / "python" / "common.py").write_text("VALUE = 1\n")
    (project / "shared" / "requirements.txt").write_text("")
    # The base: HelloFunction and the layer; the pull request adds OrdersFunction.
    start = declared.index("  OrdersFunction:")
    end = declared.index("  OrdersTable:")
    resources = declared[:start] + declared[end:]
    template.write_text(resources.replace("Outputs:", LAYER.lstrip("\n") + "\nOutputs:"))
    _git(workspace, "init", "-q", "-b", "main")
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-q", "-m", "base")
    base = _git(workspace, "rev-parse", "HEAD")
    template.write_text(declared.replace("Outputs:", LAYER.lstrip("\n") + "\nOutputs:"))
    _git(workspace, "commit", "-q", "-am", "orders")

    env = _env(tmp_path, workspace, verify="false", comment="false", baseline_ref=base)
    assert cli.main(["action"], env) == 0
    outputs = support.read_action_outputs(tmp_path / "output.txt")
    functions = json.loads(outputs["functions"])
    assert functions["HelloFunction"]["changed"] == "false"
    assert "changed" not in functions["OrdersFunction"]  # unknown: nothing to compare with
    assert functions["SharedLayer"]["changed"] == "false"
    summary = (tmp_path / "summary.md").read_text()
    assert "| OrdersFunction | python3.12 arm64 | new |" in summary
    assert "SharedLayer" in summary and "| SharedLayer | python3.12 x86_64 | new |" not in summary


def test_the_action_verifies_a_layer_the_template_builds(tmp_path: Path, workspace: Path) -> None:
    """verify on a SAM LayerVersion: its rebuild lists it among the layers (it crashed with
    an IndexError looking among the functions)."""
    project = workspace / "sam-app"
    (project / "shared" / "python").mkdir(parents=True)
    (project / "shared" / "python" / "common.py").write_text("VALUE = 1\n")
    (project / "shared" / "requirements.txt").write_text("")
    template = project / "template.yaml"
    template.write_text(template.read_text().replace("Outputs:", LAYER.lstrip("\n") + "\nOutputs:"))
    env = _env(tmp_path, workspace, verify="true", comment="false", function="SharedLayer")
    assert cli.main(["action"], env) == 0
    outputs = support.read_action_outputs(tmp_path / "output.txt")
    assert json.loads(outputs["functions"])["SharedLayer"]["reproducible"] == "true"

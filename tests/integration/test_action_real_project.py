"""The Action on a real project: pydantic 2.10.6 (pydantic-core 2.27.2's compressed wheel tags),
greenlet's headers, jupyterlab-widgets' data files, PyYAML's empty .libs, protobuf's modes.

One workflow run by act builds it twice through `uses: ./`, with uv and with pip, each verified
by the Action's own rebuild: both must be reproducible and give the same bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import cast

import pytest
from test_action import CHECKOUT, REPO, Harness, _explain, copy_action, git, push

import support
from fake_github import fake_github

WORKFLOW = f"""\
name: lambda
on: [push]
permissions: {{}}
jobs:
  package:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT} # v4.2.2
        with:
          persist-credentials: false
      - id: uv
        uses: ./
        with:
          working-directory: fn
          installer: uv
          output: dist/uv.zip
          comment: "false"
      - id: pip
        uses: ./
        with:
          working-directory: fn
          installer: pip
          output: dist/pip.zip
          comment: "false"
      - name: Record outputs for the test
        env:
          OUTPUTS: ${{{{ toJSON(steps) }}}}
        run: printf '%s' "$OUTPUTS" > "$LZA_TEST_OUT/outputs.json"
"""


@pytest.mark.slow
def test_the_action_builds_a_real_project_the_same_with_uv_and_pip(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    copy_action(repo)
    shutil.copytree(support.PROJECTS / "wheel-layouts", repo / "fn")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "lambda.yml").write_text(WORKFLOW)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", f"https://github.com/{REPO}.git")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    commit = git(repo, "rev-parse", "HEAD")
    with fake_github() as fake:
        fake.add_repository(REPO, issues=())
        run = Harness(tmp_path, fake).run("push", commit, payload=push(commit))
    assert run.returncode == 0, _explain(run)
    # This workflow records toJSON(steps): step id -> {"outputs": {...}, ...}.
    steps = cast(dict[str, dict[str, dict[str, str]]], run.outputs)
    uv, pip = (steps[step]["outputs"] for step in ("uv", "pip"))
    assert uv["reproducible"] == "true" and pip["reproducible"] == "true", run.log[-3000:]
    assert uv["sha256"] == pip["sha256"]
    assert Path(uv["path"]).name == "uv.zip"

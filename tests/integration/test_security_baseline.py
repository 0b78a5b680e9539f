"""A pull request that commits a bare repository into the action's working directory.

`HEAD`, `config`, `objects/` and `refs/` in the project directory make git take it for a
repository of its own when git is run there. Building the base commit used to run git in the
project directory with the job's whole environment: the planted config's
`remote.origin.uploadpack` ran, and read the secrets. git is now run on the checkout's own
repository only (found by its `.git`), with an environment that holds no secret.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from lambda_zip_action import cli

import support

SECRET = "AKIA-planted-bare-repo-must-not-see-this"


def _git(*arguments: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    done = subprocess.run(["git", *arguments], cwd=cwd, env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout.strip()


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def attack(tmp_path: Path) -> tuple[Path, Path, str, Path]:
    """(workspace, marker, base commit, git log): a checkout whose pull request plants a bare
    repository in fn/, fetching from an origin that lacks nothing, and a `git` on PATH that
    records the environment of every git run."""
    origin = tmp_path / "origin"
    origin.mkdir()
    _git("init", "-q", "-b", "main", cwd=origin)
    shutil.copytree(support.PROJECTS / "uvlock", origin / "fn")
    _git("add", "-A", cwd=origin)
    _git("commit", "-q", "-m", "base", cwd=origin)
    base = _git("rev-parse", "HEAD", cwd=origin)
    workspace = tmp_path / "workspace"
    _git("clone", "-q", str(origin), str(workspace), cwd=tmp_path)
    marker = tmp_path / "pwned"
    project = workspace / "fn"
    # The pull request: an "upload-pack" that records what it can see, and the bare repository
    # that names it. Its objects lack the base commit, so finding the base means a fetch.
    evil = _executable(project / "tools.sh", f'#!/bin/sh\nenv > "{marker}"\n'
                       'exec git-upload-pack "$@"\n')  # fmt: skip
    (project / "HEAD").write_text("ref: refs/heads/main\n")
    (project / "objects").mkdir()
    (project / "objects" / "keep").write_text("")
    (project / "refs" / "heads").mkdir(parents=True)
    (project / "refs" / "heads" / "keep").write_text("")
    (project / "config").write_text(
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = .\n"
        f'[remote "origin"]\n\turl = {origin}\n\tuploadpack = {evil}\n'
        "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
    )
    _git("add", "-A", cwd=workspace)
    _git("commit", "-q", "-m", "pull request", cwd=workspace)
    log = tmp_path / "git-env.log"
    wrapper = tmp_path / "bin"
    wrapper.mkdir()
    real = shutil.which("git")
    assert real is not None
    _executable(wrapper / "git", f'#!/bin/sh\nenv >> "{log}"\necho ---- >> "{log}"\n'
                f'exec {real} "$@"\n')  # fmt: skip
    return workspace, marker, base, log


def _action_env(tmp_path: Path, workspace: Path, log: Path, base: str) -> dict[str, str]:
    env = support.tool_env(GITHUB_TOKEN=None)
    env.update(
        PATH=f"{log.parent / 'bin'}:{env['PATH']}",
        GITHUB_WORKSPACE=str(workspace), RUNNER_TEMP=str(tmp_path),
        GITHUB_OUTPUT=str(tmp_path / "output.txt"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"), GITHUB_ACTIONS="true",
        AWS_SECRET_ACCESS_KEY=SECRET, ACTIONS_RUNTIME_TOKEN=SECRET,
        INPUT_WORKING_DIRECTORY="fn", INPUT_PYTHON_VERSION="3.12", INPUT_VERIFY="false",
        INPUT_COMMENT="false", INPUT_BASELINE_REF=base,
    )  # fmt: skip
    return env


def test_the_planted_repository_runs_when_git_discovers_it(
    attack: tuple[Path, Path, str, Path],
) -> None:
    """The attack is real: git run in the project directory, as building the base did, takes
    the planted repository for the project's and runs its upload-pack with the caller's
    environment."""
    workspace, marker, base, _ = attack
    env = {**os.environ, "AWS_SECRET_ACCESS_KEY": SECRET}
    subprocess.run(["git", "fetch", "--no-tags", "--depth=1", "origin", base],
                   cwd=workspace / "fn", env=env, capture_output=True, check=False)  # fmt: skip
    assert marker.is_file() and SECRET in marker.read_text()


def test_the_base_build_runs_nothing_of_the_pull_requests_and_git_sees_no_secret(
    attack: tuple[Path, Path, str, Path], tmp_path: Path
) -> None:
    workspace, marker, base, log = attack
    env = _action_env(tmp_path, workspace, log, base)
    code = cli.main(["action"], env)
    assert not marker.exists()  # on the old code: written, with the secret in it
    assert code == 0
    outputs = support.read_action_outputs(tmp_path / "output.txt")
    assert outputs["baseline-sha256"] != ""  # the base was built, from the real repository
    runs = log.read_text()
    assert runs.count("----") >= 2  # git ran: rev-parse, worktree add and remove
    assert SECRET not in runs
    assert "INPUT_" not in runs and "GITHUB_" not in runs

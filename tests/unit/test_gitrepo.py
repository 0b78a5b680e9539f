"""gitrepo: the repository holding a directory, found without git's discovery, and git run on
it with nothing of the tree's configuration that runs programs. Real git, real repositories."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from lambda_zip_action.errors import ConfigError
from lambda_zip_action.gitrepo import checkout, find_repository, git_environment, run_git


def git(cwd: Path, *arguments: str) -> str:
    completed = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *arguments],
        cwd=cwd, env={"PATH": os.environ["PATH"], "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return completed.stdout


def repository(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    return root


def planted_bare_repository(directory: Path, marker: Path) -> None:
    """What a pull request can commit: a bare repository whose config runs a program."""
    (directory / "objects").mkdir(parents=True)
    (directory / "refs").mkdir()
    (directory / "HEAD").write_text("ref: refs/heads/main\n")
    (directory / "config").write_text(
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = ..\n"
        f'\tfsmonitor = "touch {marker}; false"\n'
    )


def test_ignored_untracked_and_tracked_files_under_a_subdirectory(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", {
        ".gitignore": "*.log\nbuild-output/\n", "app/handler.py": "", "app/lib/util.py": "",
        "other.py": "",
    })  # fmt: skip
    (root / "app" / "debug.log").write_text("")
    (root / "app" / "build-output").mkdir()
    (root / "app" / "build-output" / "x.py").write_text("")
    (root / "app" / "new.py").write_text("")
    view = checkout(root / "app", {"PATH": os.environ["PATH"]})
    assert view is not None and view.repository.work_tree == root.resolve()
    # Paths relative to the directory asked about; an ignored directory as one entry.
    assert view.tracked == {"handler.py", "lib/util.py"}
    assert view.ignored == {"debug.log", "build-output/"}
    assert view.is_ignored("build-output", True) and view.is_ignored("build-output/x.py", False)
    assert view.is_untracked("new.py") and not view.is_untracked("handler.py")
    assert not view.is_untracked("debug.log")
    assert checkout(tmp_path, {"PATH": os.environ["PATH"]}) is None  # no repository: no view


def test_a_worktree_and_a_submodule_are_found_through_their_gitfile(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", {"a.py": ""})
    git(root, "worktree", "add", "-q", str(tmp_path / "wt"))
    found = find_repository(tmp_path / "wt")
    assert found is not None and found.work_tree == (tmp_path / "wt").resolve()
    assert found.git_dir == (root / ".git" / "worktrees" / "wt").resolve()
    (tmp_path / "wt" / "b.py").write_text("")
    view = checkout(tmp_path / "wt", {"PATH": os.environ["PATH"]})
    assert view is not None and view.tracked == {"a.py"} and view.is_untracked("b.py")
    # Files of a submodule are another repository's: not "untracked" in this one.
    repository(tmp_path / "lib", {"m.py": ""})
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(tmp_path / "lib"),
        "vendor/lib")  # fmt: skip
    view = checkout(root, {"PATH": os.environ["PATH"]})
    assert view is not None and view.submodules == {"vendor/lib"}
    assert not view.is_untracked("vendor/lib/m.py")


def test_a_bare_repository_planted_in_the_project_never_runs_its_config(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", {"fn/handler.py": ""})
    marker = tmp_path / "PWNED"
    planted_bare_repository(root / "fn", marker)
    # The attack: git's own discovery from the project directory takes the planted files for
    # a repository, and even `git ls-files` runs what its config names.
    subprocess.run(["git", "ls-files"], cwd=root / "fn", env={"PATH": os.environ["PATH"]},
                   capture_output=True, check=False)  # fmt: skip
    assert marker.exists()
    marker.unlink()
    view = checkout(root / "fn", {"PATH": os.environ["PATH"]})
    assert not marker.exists()
    # The real repository is the one found, and the planted files are just untracked files.
    assert view is not None and view.repository.work_tree == root.resolve()
    assert view.tracked == {"handler.py"} and view.is_untracked("config")


def test_a_git_directory_made_after_checkout_cannot_run_programs_either(tmp_path: Path) -> None:
    """A `.git` a build script wrote into the project is taken for the repository (git refuses
    to commit one, so nothing else can put it there): its fsmonitor is still never run."""
    root = repository(tmp_path / "repo", {"fn/handler.py": ""})
    marker = tmp_path / "PWNED"
    git(root / "fn", "init", "-q")
    git(root / "fn", "config", "core.fsmonitor", f"touch {marker}; false")
    subprocess.run(["git", "ls-files"], cwd=root / "fn", env={"PATH": os.environ["PATH"]},
                   capture_output=True, check=False)  # fmt: skip
    assert marker.exists()  # what the config does when git honours it
    marker.unlink()
    view = checkout(root / "fn", {"PATH": os.environ["PATH"]})
    assert view is not None and view.repository.work_tree == (root / "fn").resolve()
    assert not marker.exists()


def test_git_gets_no_secret_from_the_environment(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": "ghs_FAKE", "INPUT_TOKEN": "x",
           "AWS_SECRET_ACCESS_KEY": "y", "ACTIONS_RUNTIME_TOKEN": "z", "HOME": "/root"}  # fmt: skip
    cleaned = git_environment(env)
    assert cleaned["PATH"] == env["PATH"]
    assert not {"GITHUB_TOKEN", "INPUT_TOKEN", "AWS_SECRET_ACCESS_KEY", "ACTIONS_RUNTIME_TOKEN",
                "HOME"} & set(cleaned)  # fmt: skip
    root = repository(tmp_path / "repo", {"a.py": ""})
    found = find_repository(root)
    assert found is not None
    # What a program git runs would see: nothing of the caller's but PATH.
    seen = run_git(found, ["-c", "alias.show-env=!env", "show-env"], env).decode()
    assert "ghs_FAKE" not in seen and "AWS_SECRET" not in seen and "HOME=" not in seen
    assert any(line.endswith(f":{env['PATH']}") for line in seen.splitlines())  # git's first
    # Its config has no system or global layer: only the repository's and ours.
    shown = run_git(found, ["config", "--show-origin", "--list"], env).decode()
    config = f"file:{found.git_dir / 'config'}"
    assert all(line.startswith((config, "command line:")) for line in shown.splitlines())
    assert "command line:\tcore.fsmonitor=false" in shown
    with pytest.raises(ConfigError, match="git rev-parse failed"):
        run_git(found, ["rev-parse", "--verify", "no-such-ref"], env)

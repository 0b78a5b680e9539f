"""Finding 8: staging judges links by what they point to, and escapes names in messages."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lambda_zip_action.errors import SourceError
from lambda_zip_action.stage import SourceRules, collect

import support


def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(
        '[remote "origin"]\n\turl = https://x-access-token:FAKEcredential@github.com/o/r\n'
    )
    (root / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    (root / "pyproject.toml").write_text('[project]\nname = "fn"\nversion = "1"\n')
    return root


def build(root: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(root),
         "--source", str(root), "--no-compile", "--output", str(tmp_path / "out" / "x.zip")],
        env=support.tool_env(), capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def test_a_symlink_into_git_is_judged_by_its_target(tmp_path: Path) -> None:
    root = repository(tmp_path)
    (root / "settings.ini").symlink_to(".git/config")
    # The attack: the link itself is named like any file; only its target is in .git.
    assert "FAKEcredential" in (root / "settings.ini").read_text()
    completed = build(root, tmp_path)
    assert completed.returncode == 2, completed.stdout
    assert "settings.ini is a symlink to .git/config" in completed.stderr
    assert not (tmp_path / "out" / "x.zip").exists()
    # A directory link into .git is refused the same way.
    (root / "settings.ini").unlink()
    (root / "vcs").symlink_to(".git")
    assert "inside .git" in build(root, tmp_path).stderr


def test_an_excluded_link_is_left_out(tmp_path: Path) -> None:
    root = repository(tmp_path)
    (root / "settings.ini").symlink_to(".git/config")
    entries = collect(root, "source", SourceRules(excludes=("settings.ini",)))
    assert [e.name for e in entries if not e.is_dir] == ["handler.py", "pyproject.toml"]


def test_a_hard_link_to_a_file_outside_the_sources_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "shadow"
    secret.parent.mkdir()
    secret.write_text("root:FAKEhash:19000:0:99999:7:::\n")
    root = repository(tmp_path)
    os.link(secret, root / "data.txt")
    # The attack: nothing in the tree points outside it, yet data.txt *is* the outside file.
    assert (root / "data.txt").stat().st_nlink == 2
    completed = build(root, tmp_path)
    assert completed.returncode == 2, completed.stdout
    assert "data.txt has 2 hard links" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "out" / "x.zip").exists()


def test_hard_links_within_the_sources_are_fine(tmp_path: Path) -> None:
    root = repository(tmp_path)
    os.link(root / "handler.py", root / "copy.py")
    completed = build(root, tmp_path)
    assert completed.returncode == 0, completed.stderr
    with zipfile.ZipFile(tmp_path / "out" / "x.zip") as archive:
        assert {"handler.py", "copy.py"} <= set(archive.namelist())
        assert ".git/config" not in archive.namelist()


def test_names_in_error_messages_are_escaped(tmp_path: Path) -> None:
    root = repository(tmp_path)
    hostile = "evil\x1b]0;owned\x07\x1b[2J.py"
    (root / hostile).symlink_to("/nonexistent/target")
    completed = build(root, tmp_path)
    assert completed.returncode == 2
    assert "\x1b" not in completed.stderr and "\x07" not in completed.stderr
    assert "evil\\x1b]0;owned\\x07\\x1b[2J.py" in completed.stderr
    with pytest.raises(SourceError) as caught:
        collect(root, "source")
    assert "\x1b" not in caught.value.message


@pytest.mark.parametrize("include", [".git", ".git/config", "*", "config"])
def test_git_is_never_shipped_whatever_is_included(tmp_path: Path, include: str) -> None:
    """#19 attack 8: `source = ["."]` with `include = [".git"]` shipped `.git/config`, which
    holds the token header actions/checkout persists. Run against the stage.py before this
    rule, the build put `.git/config` (and `.hg/hgrc`) in the zip for `.git` and `*`."""
    root = repository(tmp_path)
    (root / ".hg").mkdir()
    (root / ".hg" / "hgrc").write_text("[auth]\nx.password = FAKEsecret\n")
    completed = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(root),
         "--source", str(root), "--include", include, "--no-compile", "--output",
         str(tmp_path / "out" / "x.zip")],
        env=support.tool_env(), capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    with zipfile.ZipFile(tmp_path / "out" / "x.zip") as archive:
        shipped = archive.namelist()
    assert "handler.py" in shipped
    assert not [name for name in shipped if name.startswith((".git", ".hg"))], shipped


def test_a_bare_repository_planted_in_the_project_runs_nothing_in_a_build(
    tmp_path: Path,
) -> None:
    """A pull request commits `HEAD`, `config`, `objects/`, `refs/` in the project directory:
    git's discovery would take them for the repository and run the config's fsmonitor. The
    build finds the real repository itself and turns fsmonitor off."""
    root = tmp_path / "repo"
    project = root / "fn"
    project.mkdir(parents=True)
    (project / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    marker = tmp_path / "PWNED"
    (project / "objects").mkdir()
    (project / "refs").mkdir()
    (project / "objects" / "keep").write_text("")
    (project / "refs" / "keep").write_text("")
    (project / "HEAD").write_text("ref: refs/heads/main\n")
    (project / "config").write_text(
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = ..\n"
        f'\tfsmonitor = "touch {marker}; false"\n'
    )
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    for arguments in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "pr"],
    ):
        subprocess.run(["git", *arguments], cwd=root, env=env, check=True)  # fmt: skip
    # The planted config is live: git run from the project directory executes it.
    subprocess.run(["git", "status"], cwd=project, env=env, capture_output=True, check=False)
    assert marker.exists()
    marker.unlink()
    completed = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(project),
         "--source", str(project), "--no-compile", "--output", str(tmp_path / "out" / "x.zip")],
        env=support.tool_env(), capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert not marker.exists()
    assert "does not track" not in completed.stderr  # the real repository's view was used

"""What ships is what the commit holds: files git ignores stay out, untracked files are named.

A laptop build then equals the CI build of the same commit, which checks out tracked files
only. Real git repositories, real builds through the command line.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

from lambda_zip_action.stage import SourceRules, collect

import support


def git(cwd: Path, *arguments: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *arguments],
        cwd=cwd, env={"PATH": os.environ["PATH"], "HOME": str(cwd)}, capture_output=True,
        check=True,
    )  # fmt: skip


def project(tmp_path: Path) -> Path:
    """A src-layout project, committed, with what a laptop accumulates beside the commit."""
    root = tmp_path / "repo"
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "src" / "app" / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    (root / ".gitignore").write_text("src/app/schema_gen.py\n*.log\ncoverage/\n")
    (root / "pyproject.toml").write_text('[project]\nname = "fn"\nversion = "1"\n')
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    (root / "src" / "app" / "schema_gen.py").write_text("SCHEMA = 'generated'\n")
    (root / "src" / "app" / "debug.log").write_text("a local run\n")
    (root / "src" / "coverage").mkdir()
    (root / "src" / "coverage" / "index.html").write_text("<html/>\n")
    (root / "src" / "app" / "scratch.py").write_text("print('trying something')\n")
    return root


def build(root: Path, tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return support.run_cli("build", "--project", str(root), "--no-compile", "--output",
                           str(tmp_path / "out" / "x.zip"), *options)  # fmt: skip


def names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def test_ignored_files_are_left_out_and_untracked_ones_packed_with_a_warning(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    # Without git's view, the walk packs everything on disk: what this build used to ship.
    naive = [e.name for e in collect(root / "src", "source", SourceRules()) if not e.is_dir]
    assert {"app/schema_gen.py", "app/debug.log", "coverage/index.html"} <= set(naive)
    completed = build(root, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert names(tmp_path / "out" / "x.zip") == [
        "app/", "app/__init__.py", "app/handler.py", "app/scratch.py",
    ]  # fmt: skip
    message = " ".join(completed.stderr.split())
    assert (
        "1 file(s) in " in message
        and "that git does not track are packed (app/scratch.py): "
        "a CI build of the commit would not have them"
        in message
    )
    assert "3 path(s) in " in message and "that git ignores left out (app/debug.log, " in message


def test_include_ships_a_file_git_ignores_that_a_step_generates(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "src" / "app" / "scratch.py").unlink()
    completed = build(root, tmp_path, "--include", "schema_gen.py", "--include", "coverage")
    assert completed.returncode == 0, completed.stderr
    assert names(tmp_path / "out" / "x.zip") == [
        "app/", "app/__init__.py", "app/handler.py", "app/schema_gen.py", "coverage/",
        "coverage/index.html",
    ]  # fmt: skip
    assert "does not track" not in completed.stderr


def test_outside_a_repository_nothing_is_filtered(tmp_path: Path) -> None:
    root = project(tmp_path)
    subprocess.run(["rm", "-rf", str(root / ".git")], check=True)
    completed = build(root, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "app/schema_gen.py" in names(tmp_path / "out" / "x.zip")
    assert "git" not in completed.stderr

"""A pull request commits `.venv/bin/python`: the search for CPython X.Y must never run it.

With no python3.12 on PATH or under pyenv, `lambda-zip build` asked `uv python find`, which
takes the virtual environment in the working directory first and runs its python to learn its
version: the project's script ran, and the build went on with it as the compiler.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import support


def hostile_project(tmp_path: Path) -> tuple[Path, Path]:
    """A function project with a committed venv whose python leaves a marker, then works."""
    project, marker = tmp_path / "fn", tmp_path / "venv-python-ran"
    (project / "src" / "app").mkdir(parents=True)
    (project / "src" / "app" / "handler.py").write_text("def handler(event, context):\n    pass\n")
    real = support.interpreter("3.12")
    venv = project / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = {real.parent}\n")
    for name in ("python", "python3", "python3.12"):
        planted = venv / "bin" / name
        planted.write_text(f'#!/bin/sh\n{shutil.which("touch")} "{marker}"\nexec "{real}" "$@"\n')
        planted.chmod(0o755)
    return project, marker


def build(project: Path, tmp_path: Path, **env: str | None) -> subprocess.CompletedProcess[str]:
    """`lambda-zip build` run from the project, as a developer runs it, with no 3.12 installed."""
    nothing = tmp_path / "nothing"
    nothing.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--python-version", "3.12",
         "--output", str(tmp_path / "out" / "lambda.zip")],
        cwd=project,
        env=support.tool_env(**{
            "PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "PYENV_ROOT": str(nothing),
            "UV_PYTHON_INSTALL_DIR": str(nothing), "VIRTUAL_ENV": None, **env,
        }),
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip


def test_a_committed_venv_python_is_never_run(tmp_path: Path) -> None:
    project, marker = hostile_project(tmp_path)
    completed = build(project, tmp_path)
    assert not marker.exists(), "the project's .venv/bin/python ran"
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stderr.splitlines()[-1].startswith(
        "lambda-zip: interpreter error: No CPython 3.12 interpreter found"
    )
    assert not (tmp_path / "out").exists()


def test_nor_when_virtual_env_points_at_it(tmp_path: Path) -> None:
    project, marker = hostile_project(tmp_path)
    completed = build(project, tmp_path, VIRTUAL_ENV=str(project / ".venv"))
    assert not marker.exists(), "the project's .venv/bin/python ran"
    assert completed.returncode == 2, completed.stdout + completed.stderr


def test_a_real_interpreter_elsewhere_is_still_found(tmp_path: Path) -> None:
    """The control: the same project builds with the machine's 3.12, found under pyenv."""
    project, marker = hostile_project(tmp_path)
    pyenv = tmp_path / "pyenv"
    link = pyenv / "versions" / "3.12.1" / "bin" / "python3.12"
    link.parent.mkdir(parents=True)
    link.symlink_to(support.interpreter("3.12"))
    completed = build(project, tmp_path, PYENV_ROOT=str(pyenv))
    assert completed.returncode == 0, completed.stderr
    assert not marker.exists()
    assert (tmp_path / "out" / "lambda.zip").is_file()

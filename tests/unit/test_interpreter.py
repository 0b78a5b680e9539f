"""interpreter: the CPython that compiles bytecode is exactly the target's minor version.

Real interpreters (pyenv's builds on this machine) run every probe; the places the search looks
(PATH, a pyenv root) are real directories in tmp_path holding links to them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lambda_zip_action.errors import InterpreterError
from lambda_zip_action.interpreter import Interpreter, find_interpreter, probe

from support import interpreter

NO_PROJECT = Path("/nonexistent/project")


def reported(python: Path) -> tuple[str, str]:
    """(full version, zlib runtime version) as the interpreter itself prints them."""
    out = subprocess.run(
        [str(python), "-c", "import platform, zlib; "
         "print(platform.python_version(), zlib.ZLIB_RUNTIME_VERSION)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return out[0], out[1]


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **extra: str) -> dict[str, str]:
    """An environment in which nothing is found unless the test puts it there.

    uv's `python find` also looks at a .venv in the current directory: the test runs elsewhere.
    """
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    monkeypatch.chdir(empty)
    return {
        "PATH": str(empty),
        "HOME": str(tmp_path / "home"),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
        "UV_PYTHON_INSTALL_DIR": str(empty),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        **extra,
    }


def pyenv_version(root: Path, version: str, target: Path) -> Path:
    link = root / "versions" / version / "bin" / f"python{'.'.join(version.split('.')[:2])}"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    return link


def test_probe_reports_the_version_and_zlib_the_interpreter_runs_with() -> None:
    python = interpreter("3.12")
    found = probe(python, {"PATH": "/usr/bin:/bin"})
    version, zlib_version = reported(python)
    assert found is not None
    assert (found.path, found.version, found.zlib_version) == (python, version, zlib_version)
    assert found.minor == "3.12"
    assert version.startswith("3.12.")
    # The build the bytecode cache is keyed by: sys.version and the executable it resolves to.
    build, executable = found.build.split("\0")
    assert build.startswith(version + " (") and "[" in build  # "3.12.1 (main, date) [compiler]"
    assert Path(executable) == python.resolve()
    assert found.identity == f"{version}\0{found.build}"


def test_minor_is_major_dot_minor() -> None:
    assert Interpreter(Path("/x"), "3.13.0", "1.3").minor == "3.13"
    assert Interpreter(Path("/x"), "3.10.13", "1.3").minor == "3.10"


def test_probe_refuses_what_is_not_a_working_cpython(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin"}
    assert probe(tmp_path / "missing", env) is None
    assert probe(script(tmp_path / "fails", "exit 1"), env) is None
    assert probe(script(tmp_path / "garbage", "echo not json"), env) is None
    pypy = script(
        tmp_path / "pypy",
        """echo '{"implementation": "pypy", "version": [3, 12, 0], "zlib": "1.3"}'""",
    )
    assert probe(pypy, env) is None
    cpython = script(
        tmp_path / "cpython",
        """echo '{"implementation": "cpython", "version": [3, 12, 7], "zlib": "1.3.1"}'""",
    )
    assert probe(cpython, env) == Interpreter(cpython, "3.12.7", "1.3.1", f"\0{cpython.resolve()}")


def test_a_given_interpreter_of_another_minor_version_is_an_error() -> None:
    python = interpreter("3.11")
    version, _ = reported(python)
    with pytest.raises(InterpreterError) as raised:
        find_interpreter("3.12", python, {"PATH": "/usr/bin:/bin"}, project=NO_PROJECT)
    assert raised.value.message.startswith(
        f"--python {python} is CPython {version}, but the target runtime is python3.12: "
    )


def test_a_given_path_that_is_not_an_interpreter_is_an_error(tmp_path: Path) -> None:
    fake = script(tmp_path / "python3.12", "echo hello")
    with pytest.raises(InterpreterError, match="is not a CPython interpreter that runs here"):
        find_interpreter("3.12", fake, {"PATH": "/usr/bin:/bin"}, project=NO_PROJECT)


def test_a_given_interpreter_of_the_target_version_is_used() -> None:
    python = interpreter("3.13")
    found = find_interpreter("3.13", python, {"PATH": "/usr/bin:/bin"}, project=NO_PROJECT)
    assert found.path == python and found.minor == "3.13"


def test_python_x_y_on_path_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.12").symlink_to(interpreter("3.12"))
    env = isolated(tmp_path, monkeypatch, PATH=str(bin_dir))
    pyenv_version(Path(env["PYENV_ROOT"]), "3.12.1", interpreter("3.12"))
    found = find_interpreter("3.12", None, env, project=tmp_path / "project")
    assert found.path == bin_dir / "python3.12"


def test_pyenv_shims_on_path_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shims = tmp_path / "pyenv" / "shims"
    shims.mkdir(parents=True)
    # A shim that would even work here: skipped by its place, not because it fails.
    (shims / "python3.12").symlink_to(interpreter("3.12"))
    env = isolated(tmp_path, monkeypatch, PATH=str(shims), PYENV_ROOT=str(tmp_path / "pyenv"))
    real = pyenv_version(tmp_path / "pyenv", "3.12.1", interpreter("3.12"))
    assert find_interpreter("3.12", None, env, project=tmp_path / "project").path == real


def test_pyenv_versions_newest_first_by_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = isolated(tmp_path, monkeypatch)
    root = Path(env["PYENV_ROOT"])
    pyenv_version(root, "3.12.9", interpreter("3.12"))
    newest = pyenv_version(root, "3.12.10", interpreter("3.12"))  # after 3.12.9 as text
    pyenv_version(root, "3.13.0", interpreter("3.13"))
    assert find_interpreter("3.12", None, env, project=tmp_path / "project").path == newest


def test_a_candidate_of_another_version_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pyenv directory named 3.12.x that holds another CPython is not taken at its word."""
    env = isolated(tmp_path, monkeypatch)
    root = Path(env["PYENV_ROOT"])
    pyenv_version(root, "3.12.99", interpreter("3.11"))
    right = pyenv_version(root, "3.12.1", interpreter("3.12"))
    assert find_interpreter("3.12", None, env, project=tmp_path / "project").path == right


def test_nothing_found_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = isolated(tmp_path, monkeypatch)
    with pytest.raises(InterpreterError) as raised:
        find_interpreter("3.12", None, env, project=tmp_path / "project")
    assert raised.value.message.startswith(
        "No CPython 3.12 interpreter found (looked for python3.12 on PATH, under pyenv, and "
        "with uv)."
    )
    assert "uv python install 3.12" in raised.value.message


def planted_python(project: Path, relative: str, marker: Path) -> Path:
    """A script committed to the project that says it is CPython 3.12 and leaves a marker.

    It runs the real 3.12 after writing the marker, so whatever runs it takes it for a good
    interpreter: only the marker tells that it ran.
    """
    touch = shutil.which("touch")  # the search may run it with a PATH that has no touch
    return script(project / relative, f'{touch} "{marker}"\nexec "{interpreter("3.12")}" "$@"')


def committed_venv(project: Path, marker: Path) -> Path:
    (project / ".venv").mkdir(parents=True, exist_ok=True)
    (project / ".venv" / "pyvenv.cfg").write_text(f"home = {interpreter('3.12').parent}\n")
    for name in ("python", "python3", "python3.12"):
        planted_python(project, f".venv/bin/{name}", marker)
    return project / ".venv"


def test_a_venv_committed_to_the_project_is_never_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uv's `python find` takes a .venv in the working directory (or a parent) first.

    Before, with no python3.12 on PATH or under pyenv, uv ran the project's .venv/bin/python
    and the build went on with it.
    """
    env = isolated(tmp_path, monkeypatch)
    project, marker = tmp_path / "project", tmp_path / "ran"
    committed_venv(project, marker)
    (project / "sub").mkdir()
    for cwd in (project, project / "sub"):
        monkeypatch.chdir(cwd)
        with pytest.raises(InterpreterError, match=r"No CPython 3\.12 interpreter found"):
            find_interpreter("3.12", None, env, project=project)
    assert not marker.exists()


def test_virtual_env_pointing_into_the_project_is_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, marker = tmp_path / "project", tmp_path / "ran"
    venv = committed_venv(project, marker)
    env = isolated(tmp_path, monkeypatch, VIRTUAL_ENV=str(venv), UV_PROJECT=str(project))
    with pytest.raises(InterpreterError, match=r"No CPython 3\.12 interpreter found"):
        find_interpreter("3.12", None, env, project=project)
    assert not marker.exists()


def test_a_python_of_the_project_found_on_path_is_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `.` (or the project's bin) on PATH finds the project's python3.12 first."""
    project, marker = tmp_path / "project", tmp_path / "ran"
    planted_python(project, "python3.12", marker)
    planted_python(project, "bin/python3.12", marker)
    for path in (".", str(project / "bin")):
        env = isolated(tmp_path, monkeypatch, PATH=path)
        monkeypatch.chdir(project)
        with pytest.raises(InterpreterError, match=r"No CPython 3\.12 interpreter found"):
            find_interpreter("3.12", None, env, project=project)
    assert not marker.exists()


def test_an_activated_venv_of_the_project_still_finds_its_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A venv made on this machine links to an interpreter outside the project: that one runs."""
    project = tmp_path / "project"
    subprocess.run([str(interpreter("3.12")), "-m", "venv", "--without-pip",
                    str(project / ".venv")], check=True)  # fmt: skip
    env = isolated(tmp_path, monkeypatch, PATH=str(project / ".venv" / "bin"))
    monkeypatch.chdir(project)
    found = find_interpreter("3.12", None, env, project=project)
    assert found.path == project / ".venv" / "bin" / "python3.12"
    assert found.minor == "3.12"

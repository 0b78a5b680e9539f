"""Find the interpreter that compiles bytecode: exactly the target's minor version of CPython.

A .pyc from another minor version carries another magic number, and Lambda ignores it without
a word, so a near miss is an error, never a fallback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from lambda_zip_action.errors import InterpreterError
from lambda_zip_action.installers import uv_binary

_PROBE = (
    "import json, sys, zlib; print(json.dumps({'implementation': sys.implementation.name, "
    "'version': list(sys.version_info[:3]), 'zlib': zlib.ZLIB_RUNTIME_VERSION, "
    "'build': sys.version, 'executable': sys.executable}))"
)


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: str  # full, e.g. "3.12.1"
    zlib_version: str
    build: str = ""  # sys.version (build date and compiler) and the executable it runs

    @property
    def identity(self) -> str:
        """What decides the bytes this interpreter compiles: its version and its very build."""
        return f"{self.version}\0{self.build}"

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


def probe(path: Path, env: Mapping[str, str]) -> Interpreter | None:
    try:
        completed = subprocess.run(
            [str(path), "-I", "-S", "-c", _PROBE],
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    try:
        info = json.loads(completed.stdout)
    except ValueError:
        return None
    if info.get("implementation") != "cpython":
        return None
    build = f"{info.get('build', '')}\0{Path(str(info.get('executable', path))).resolve()}"
    return Interpreter(path, ".".join(str(p) for p in info["version"]), str(info["zlib"]), build)


def find_interpreter(
    python_version: str, given: Path | None, env: Mapping[str, str], *, project: Path
) -> Interpreter:
    """The interpreter named by --python, else the first CPython X.Y found on this machine.

    The search never runs a file of `project`: a pull request can commit a `.venv/bin/python`
    (or a `python3.12` for a `.` on PATH), and running it would run its code before anything
    else is checked. Only --python, which the user names, may point into the project.
    """
    if given is not None:
        found = probe(given, env)
        if found is None:
            raise InterpreterError(
                f"--python {given} is not a CPython interpreter that runs here. Give the path "
                f"of a CPython {python_version} executable."
            )
        if found.minor != python_version:
            raise InterpreterError(
                f"--python {given} is CPython {found.version}, but the target runtime is "
                f"python{python_version}: Lambda ignores bytecode of another minor version. Give "
                f"a CPython {python_version} interpreter, or change --python-version."
            )
        return found
    for candidate in _candidates(python_version, env, project):
        if _is_within(candidate, project):
            continue
        found = probe(candidate, env)
        if found is not None and found.minor == python_version:
            return found
    raise InterpreterError(
        f"No CPython {python_version} interpreter found (looked for python{python_version} "
        "on PATH, under pyenv, and with uv). Bytecode must be compiled by the runtime's own "
        f"minor version. Install one (for example `uv python install {python_version}`) and "
        "pass it with "
        f"--python, or build without bytecode using --no-compile."
    )


def _candidates(python_version: str, env: Mapping[str, str], project: Path) -> Iterator[Path]:
    """Cheapest first: pythonX.Y on PATH (as setup-python provides), pyenv's versions, then uv.

    pyenv's shims are skipped: they are shell scripts that fail for versions not selected.
    """
    on_path = shutil.which(f"python{python_version}", path=env.get("PATH", os.defpath))
    if on_path and "/shims/" not in on_path:
        yield Path(on_path)
    pyenv_root = Path(env.get("PYENV_ROOT") or Path(env.get("HOME", "~")).expanduser() / ".pyenv")
    versions = sorted(
        (pyenv_root / "versions").glob(f"{python_version}.*"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.name.split(".")],
        reverse=True,
    )
    for version_dir in versions:
        yield version_dir / "bin" / f"python{python_version}"
    found = _uv_python_find(python_version, env, project)
    if found is not None:
        yield found


def _uv_python_find(python_version: str, env: Mapping[str, str], project: Path) -> Path | None:
    """What `uv python find` answers, asked so that it runs no interpreter of a project.

    uv runs every interpreter it considers. Left to itself it considers the virtual
    environment of VIRTUAL_ENV or CONDA_PREFIX, a `.venv` in the working directory or any
    parent, and the Python a `uv.toml` or `pyproject.toml` there asks for: all of which a
    pull request can commit. `--system` skips virtual environments, `--no-config` and
    `--no-project` the configuration, and an empty working directory leaves nothing to find
    (a relative setting now means a place in it). uv also runs every python on PATH: the
    directories of the project, and relative ones, are left out of its PATH, and a uv setting
    that names a place in the project is dropped.
    """
    uv_env = {
        name: value
        for name, value in env.items()
        if name not in ("VIRTUAL_ENV", "CONDA_PREFIX")
        and not (
            name.startswith("UV_")
            and Path(value).is_absolute()
            and _is_within(Path(value), project)
        )
    }
    uv_env["UV_PYTHON_DOWNLOADS"] = "never"
    uv_env["PATH"] = os.pathsep.join(
        directory
        for directory in env.get("PATH", os.defpath).split(os.pathsep)
        if Path(directory).is_absolute() and not _is_within(Path(directory), project)
    )
    try:
        with tempfile.TemporaryDirectory(prefix="lambda-zip-python-find-") as nowhere:
            completed = subprocess.run(
                [uv_binary(), "python", "find", "--system", "--no-project", "--no-config",
                 python_version],
                env=uv_env,
                cwd=nowhere,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    answer = completed.stdout.strip()
    return Path(answer) if completed.returncode == 0 and answer else None


def _is_within(candidate: Path, project: Path) -> bool:
    """Whether the file that would run (links followed) lies inside the project."""
    try:
        return candidate.resolve().is_relative_to(project.resolve())
    except (OSError, RuntimeError):
        return True

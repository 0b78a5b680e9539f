"""Find the interpreter that compiles bytecode: exactly the target's minor version of CPython.

A .pyc from another minor version carries another magic number, and Lambda ignores it without
a word, so a near miss is an error, never a fallback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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
    python_version: str, given: Path | None, env: Mapping[str, str]
) -> Interpreter:
    """The interpreter named by --python, else the first CPython X.Y found on this machine."""
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
    for candidate in _candidates(python_version, env):
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


def _candidates(python_version: str, env: Mapping[str, str]) -> Iterator[Path]:
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
    try:
        completed = subprocess.run(
            [uv_binary(), "python", "find", "--no-project", python_version],
            env={**env, "UV_PYTHON_DOWNLOADS": "never"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if completed.returncode == 0 and completed.stdout.strip():
            yield Path(completed.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass

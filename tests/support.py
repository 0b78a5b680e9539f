"""Helpers the tests share: the environment for real tool runs, interpreters, archive tools.

Integration tests run the real thing — `[sys.executable, "-m", "lambda_zip_action", ...]` with
`env=tool_env()` — so they see what a user sees. Missing tools or interpreters fail the run
instead of skipping it: a green run that tested nothing is worse than a red one.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent
PROJECTS = TESTS / "projects"
DATA = TESTS / "data"
EXAMPLES = REPO_ROOT / "examples"

# pyenv's builds (its shims do not resolve here): $PYENV_ROOT/versions, ~/.pyenv by default.
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"

ARCHIVE_TOOLS = ("zip", "unzip", "bsdtar", "7z")
_DEBIAN_PACKAGE = {
    "zip": "zip",
    "unzip": "unzip",
    "bsdtar": "libarchive-tools",
    "7z": "p7zip-full",
}


@functools.cache
def _fallback_uv_cache_dir() -> Path:
    # Only reached outside pytest, when neither scripts/test nor conftest set UV_CACHE_DIR.
    return Path(tempfile.mkdtemp(prefix="lambda-zip-uv-cache-"))


def tool_env(**overrides: str | None) -> dict[str, str]:
    """A copy of os.environ for running uv, pip or the CLI in a subprocess.

    Interpreter downloads are off (the tests must use the machine's CPythons) and every run
    shares one uv cache. The bytecode cache is off, so every test build really compiles (a hit
    would skip exactly what determinism tests exercise); tests of the cache turn it on.
    Keyword arguments set variables; None removes one.
    """
    env = dict(os.environ)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["LAMBDA_ZIP_NO_CACHE"] = "1"
    if "UV_CACHE_DIR" not in env:  # not setdefault: its default would make a directory each call
        env["UV_CACHE_DIR"] = str(_fallback_uv_cache_dir())
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def write_files(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """`files` (relative name -> text, dedented, or bytes) written under `root`; `root`."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content))
    return root


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def require_tools(*tools: str) -> None:
    """Fail the test unless every tool (default: all archive readers) is on PATH."""
    missing = [tool for tool in tools or ARCHIVE_TOOLS if not have(tool)]
    if missing:
        packages = " ".join(sorted({_DEBIAN_PACKAGE.get(tool, tool) for tool in missing}))
        pytest.fail(
            f"missing tools: {', '.join(missing)}. Run the tests with `bash scripts/test`, "
            f"which installs them as root, or `apt-get install {packages}`.",
            pytrace=False,
        )


def _version_key(path: Path) -> tuple[int, ...]:
    # /root/.pyenv/versions/3.12.1/bin/python3.12 -> (3, 12, 1); pre-releases sort first.
    release = path.parent.parent.name
    return tuple(int(part) if part.isdigit() else -1 for part in re.split(r"[.]", release))


def _reported_version(python: Path | str) -> str | None:
    try:
        result = subprocess.run(
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


@functools.cache
def interpreter(version: str) -> Path:
    """The path of a working CPython `version` ("3.12"), or fail the test.

    pyenv's own builds come first (its shims don't work here), then python3.X on PATH.
    """
    if not re.fullmatch(r"3\.\d+", version):
        raise ValueError(f"expected a version like '3.12', got {version!r}")
    candidates = sorted(
        PYENV_VERSIONS.glob(f"{version}.*/bin/python{version}"), key=_version_key, reverse=True
    )
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if _reported_version(candidate) == version:
            return candidate
    pytest.fail(
        f"no working CPython {version}: looked for {PYENV_VERSIONS}/{version}.*/bin/python{version}"
        f" and python{version} on PATH. These tests need CPython 3.10 to 3.13 installed"
        " (pyenv install, or the distribution's python3.X package).",
        pytrace=False,
    )


def build_project(
    project: Path, output: Path, *options: str, version: str = "3.12"
) -> dict[str, Any]:
    """`lambda-zip build --json` of `project` for CPython `version`; the test fails on an error."""
    completed = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(project),
         "--python-version", version, "--python", str(interpreter(version)),
         "--output", str(output), "--json", *options],
        env=tool_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    document: dict[str, Any] = json.loads(completed.stdout)
    return document


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m lambda_zip_action ARGS` as a user runs it; the caller checks the outcome."""
    return subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", *args],
        env=tool_env() if env is None else env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def read_action_outputs(path: Path) -> dict[str, str]:
    """The `name<<delimiter` blocks actions-toolkit writes to GITHUB_OUTPUT, as a dict."""
    outputs: dict[str, str] = {}
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        name, _, delimiter = lines[index].partition("<<")
        end = lines.index(delimiter, index + 1)
        outputs[name] = "\n".join(lines[index + 1 : end])
        index = end + 1
    return outputs


def explain(result: subprocess.CompletedProcess[str]) -> str:
    """A finished CLI run for an assertion message: exit code, stdout and stderr."""
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def differing_entries(stdout: str) -> dict[str, str]:
    """verify's "Entries whose content differs" block: archive name -> its explanation."""
    assert "Entries whose content differs:" in stdout, stdout
    block = stdout.split("Entries whose content differs:\n", 1)[1].split("\n\n", 1)[0]
    entries: dict[str, str] = {}
    name = ""
    for line in block.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            name, _, detail = line[2:].partition(": ")
            entries[name] = detail
        else:
            entries[name] += "\n" + line
    return entries


def drift_data(
    path: Path,
    name: str,
    new: dict[str, bytes],
    old: dict[str, bytes] | None,
    *,
    distributions: tuple[tuple[str, str], ...] = (),
    label: str = "1a2b3c4d5e6f",
) -> Path:
    """A report's data as the Action writes it (`<output>.report.json`), with manifests of
    files given by name and content; what a fork's run can upload, hostile names included."""
    import hashlib

    from lambda_zip_action.manifest import SCHEMA as MANIFEST_SCHEMA
    from lambda_zip_action.proof.drift_data import SCHEMA

    def manifest(files: dict[str, bytes], dists: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        entries = [{"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                   for name, data in sorted(files.items())]  # fmt: skip
        digest = hashlib.sha256(json.dumps(entries).encode()).hexdigest()
        return {"schema": MANIFEST_SCHEMA, "archive": {"sha256": digest, "size": 1000},
                "entries": entries,
                "distributions": [{"name": n, "version": v} for n, v in dists]}  # fmt: skip

    row = {"name": name, "old-label": label, "new": manifest(new, distributions),
           "old": None if old is None else manifest(old, ())}  # fmt: skip
    path.write_text(json.dumps({"schema": SCHEMA, "reports": [row]}))
    return path

"""A build script reading the secrets of its ancestors through /proc/<pid>/environ.

The installers get an allow-listed environment, but a dependency's build script can read the
environment every ancestor was started with (this tool, the CI step's shell, the runner) from
/proc. An install that may build now runs in a PID namespace of its own with its own /proc;
where that is impossible, a build with secrets in reach is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_zip_action.sandbox import exposure, isolation

import support

SECRET = "ghs_FAKEprocENVIRONsecret0000000000000"

BACKEND = """\
import base64, hashlib, json, os, pathlib, zipfile

def _scan():
    found = {{}}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                data = pathlib.Path("/proc", entry, "environ").read_bytes()
            except OSError:
                continue
            found[entry] = data.decode("utf-8", "replace")
    pathlib.Path({marker!r}).write_text(json.dumps(found))

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _scan()
    name = "spy-1.0-py3-none-any.whl"
    files = {{
        "spy/__init__.py": b"VALUE = 1\\n",
        "spy-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: spy\\nVersion: 1.0\\n",
        "spy-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: spy\\n"
        b"Root-Is-Purelib: true\\nTag: py3-none-any\\n",
    }}
    rows = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{{path}},sha256={{digest}},{{len(data)}}")
    rows.append("spy-1.0.dist-info/RECORD,,")
    files["spy-1.0.dist-info/RECORD"] = ("\\n".join(rows) + "\\n").encode()
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return name
"""


def _project(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "proc-environ.json"
    package = tmp_path / "spy"
    package.mkdir()
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "spy"\nversion = "1.0"\n'
    )
    (package / "backend.py").write_text(BACKEND.format(marker=str(marker)))
    project = tmp_path / "fn"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("import spy\n")
    (project / "requirements.txt").write_text(f"spy @ {package.as_uri()}\n")
    return project, marker


def _build(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(project),
         "--python-version", "3.12", "--python", str(support.interpreter("3.12")), "--json"],
        env=support.tool_env(GITHUB_TOKEN=SECRET, **env), capture_output=True, text=True,
        check=False, timeout=600,
    )  # fmt: skip


def test_the_ancestors_environ_is_readable_without_a_sandbox(tmp_path: Path) -> None:
    """The attack is real: a process started as an installer is, outside a PID namespace,
    reads the secret from the environ of the process that started it."""
    reader = "import pathlib,os; print(pathlib.Path(f'/proc/{os.getppid()}/environ').read_bytes())"
    child = f"import subprocess,sys; subprocess.run([sys.executable, '-c', {reader!r}], env={{}})"
    seen = subprocess.run(
        [sys.executable, "-c", child], env={**os.environ, "GITHUB_TOKEN": SECRET},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert SECRET in seen.stdout


def test_a_build_script_sees_no_ancestor_and_no_secret(tmp_path: Path) -> None:
    if isolation(os.environ) is None:
        pytest.fail("unshare cannot start a PID namespace here: the sandbox is untested",
                    pytrace=False)  # fmt: skip
    project, marker = _project(tmp_path)
    built = _build(project)
    assert built.returncode == 0, built.stderr
    environs = json.loads(marker.read_text())
    assert environs, "the build script ran and read /proc"
    assert all(SECRET not in text for text in environs.values())
    # Only the installer's own processes are in its /proc: none of this tool's ancestors.
    assert str(os.getpid()) not in environs or len(environs) < 20
    assert json.loads(built.stdout)["built-from-source"] == ["spy 1.0"]


def test_without_a_sandbox_a_build_with_secrets_in_reach_is_refused(tmp_path: Path) -> None:
    project, marker = _project(tmp_path)
    no_unshare = tmp_path / "bin"
    no_unshare.mkdir()
    for tool in ("git", "sh", "env"):
        found = [Path(d) / tool for d in os.environ["PATH"].split(":") if (Path(d) / tool).exists()]
        if found:
            (no_unshare / tool).symlink_to(found[0])
    refused = _build(project, PATH=str(no_unshare))
    assert refused.returncode == 2
    assert "GITHUB_TOKEN" in refused.stderr and "--no-build" in refused.stderr
    assert SECRET not in refused.stderr
    assert not marker.exists()  # the build script never ran


def test_exposure_names_secret_variables_and_the_runner() -> None:
    assert exposure({"PATH": "/bin", "AWS_SECRET_ACCESS_KEY": "x", "NPM_TOKEN": "y"}) == [
        "AWS_SECRET_ACCESS_KEY", "NPM_TOKEN"]  # fmt: skip
    assert exposure({"GITHUB_ACTIONS": "true"}) == ["the runner's (GitHub Actions)"]
    assert exposure({"PATH": "/bin", "HOME": "/root"}) == []


POISONER = """\
import json, os, pathlib
from backend_wheel import build_wheel as _wheel

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    results = {{}}
    for name, directory in {targets!r}.items():
        try:
            (pathlib.Path(directory) / "poisoned").write_text("forged entry")
            results[name] = "written"
        except OSError as exc:
            results[name] = exc.strerror
    pathlib.Path({marker!r}).write_text(json.dumps(results))
    return _wheel(wheel_directory, config_settings, metadata_directory)
"""


def test_a_build_script_cannot_write_the_caches_later_builds_and_verify_read(
    tmp_path: Path,
) -> None:
    """Code a build runs used to be able to rewrite a cached .pyc (and its proof) or a file
    in uv's cache, which later builds shipped and verify called reproducible. A build that has
    to run a build script now runs it where those caches are read-only."""
    if isolation(os.environ) is None:
        pytest.fail("unshare cannot start a PID namespace here", pytrace=False)
    project, _ = _project(tmp_path)
    tool_cache = tmp_path / "lambda-zip-cache"
    uv_cache = tmp_path / "uv-cache"  # its own: the attack writes into it
    tool_cache.mkdir()
    uv_cache.mkdir()
    marker = tmp_path / "poison.json"
    package = tmp_path / "spy"
    (package / "backend_wheel.py").write_text((package / "backend.py").read_text()
                                              .replace("    _scan()\n", "", 1))  # fmt: skip
    targets = {"lambda-zip cache": str(tool_cache), "uv cache": str(uv_cache)}
    (package / "backend.py").write_text(POISONER.format(targets=targets, marker=str(marker)))
    built = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(project),
         "--python-version", "3.12", "--python", str(support.interpreter("3.12")),
         "--cache-dir", str(tool_cache)],
        env=support.tool_env(LAMBDA_ZIP_NO_CACHE=None, UV_CACHE_DIR=str(uv_cache)),
        capture_output=True, text=True,
        check=False, timeout=600,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    results = json.loads(marker.read_text())
    assert results == {"lambda-zip cache": "Read-only file system",
                       "uv cache": "Read-only file system"}, results  # fmt: skip
    assert not (tool_cache / "poisoned").exists() and not (uv_cache / "poisoned").exists()

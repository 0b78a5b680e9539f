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

from lambda_zip_action.sandbox import TAINT_FILE, exposure, isolation

import support
from unprivileged import unprivileged

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


def _path_with(tmp_path: Path, *tools: str) -> str:
    """A PATH holding only `tools` (git, sh and env always): the sandbox programs left out
    are not there for this run."""
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    for tool in ("git", "sh", "env", *tools):
        found = [Path(d) / tool for d in os.environ["PATH"].split(":") if (Path(d) / tool).exists()]
        if not found:
            pytest.fail(f"{tool} is not installed (apt-get install bubblewrap for bwrap)",
                        pytrace=False)  # fmt: skip
        (directory / tool).symlink_to(found[0])
    return str(directory)


SANDBOXES = {"unshare": ("unshare", "mount", "setpriv"), "bwrap": ("bwrap",)}


def _build(project: Path, **env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(project),
         "--python-version", "3.12", "--python", str(support.interpreter("3.12")), "--json"],
        env=support.tool_env(**{"GITHUB_TOKEN": SECRET, **env}), capture_output=True, text=True,
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


@pytest.mark.parametrize("kind", sorted(SANDBOXES))
def test_a_build_script_sees_no_ancestor_and_no_secret(tmp_path: Path, kind: str) -> None:
    """With either sandbox (the other one off PATH), the script's /proc holds only the
    installer's processes; with none it read the secret (see the refusal test below)."""
    project, marker = _project(tmp_path)
    path = _path_with(tmp_path, *SANDBOXES[kind])
    if isolation({"PATH": path}) is None:
        pytest.fail(f"{kind} cannot start a PID namespace here: that sandbox is untested",
                    pytrace=False)  # fmt: skip
    built = _build(project, PATH=path)
    assert built.returncode == 0, built.stderr
    environs = json.loads(marker.read_text())
    assert environs, "the build script ran and read /proc"
    assert all(SECRET not in text for text in environs.values())
    # Only the installer's own processes are in its /proc: none of this tool's ancestors.
    assert str(os.getpid()) not in environs and len(environs) < 20
    assert json.loads(built.stdout)["built-from-source"] == ["spy 1.0"]


def test_without_a_sandbox_a_build_from_source_is_refused(tmp_path: Path) -> None:
    """Neither unshare nor bwrap on PATH: refused (exit 2), the script never runs; the same
    build with the opt-in runs it outside any sandbox, where it reads the secret from /proc.
    The opt-in marks the tool's cache, and a later build neither reads nor writes it."""
    project, marker = _project(tmp_path)
    path = _path_with(tmp_path)
    refused = _build(project, PATH=path)
    assert refused.returncode == 2
    assert "GITHUB_TOKEN" in refused.stderr and "--no-build" in refused.stderr
    assert "LAMBDA_ZIP_UNSANDBOXED_BUILDS=1" in refused.stderr
    assert "Traceback" not in refused.stderr and SECRET not in refused.stderr
    assert not marker.exists()  # the build script never ran
    no_secret = _build(project, PATH=path, GITHUB_TOKEN=None)
    assert no_secret.returncode == 2, "refused whatever the variables' names"

    cache = tmp_path / "tool-cache"
    opted = _build(project, PATH=path, LAMBDA_ZIP_UNSANDBOXED_BUILDS="1",
                   LAMBDA_ZIP_NO_CACHE=None, LAMBDA_ZIP_CACHE_DIR=str(cache))  # fmt: skip
    assert opted.returncode == 0, opted.stderr
    assert any(SECRET in text for text in json.loads(marker.read_text()).values())
    assert (cache / TAINT_FILE).exists()
    later = _build(project, PATH=path, LAMBDA_ZIP_UNSANDBOXED_BUILDS="1",
                   LAMBDA_ZIP_NO_CACHE=None, LAMBDA_ZIP_CACHE_DIR=str(cache))  # fmt: skip
    assert later.returncode == 0, later.stderr
    assert "is not read or written" in later.stderr
    assert sorted(p.name for p in cache.iterdir()) == [TAINT_FILE]


def test_where_namespaces_are_not_allowed_a_build_from_source_is_refused(
    tmp_path: Path,
) -> None:
    """unshare and bwrap both installed, but this process may not create namespaces (root
    without capabilities, as on a host that restricts user namespaces): refused."""
    project, marker = _project(tmp_path)
    python = str(support.interpreter("3.12"))
    command = [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(project),
               "--python-version", "3.12", "--python", python]  # fmt: skip
    refused = subprocess.run(
        unprivileged(command), env=support.tool_env(GITHUB_TOKEN=SECRET),
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "no sandbox can start here" in refused.stderr
    assert not marker.exists()


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


@pytest.mark.parametrize("kind", sorted(SANDBOXES))
def test_a_build_script_cannot_write_the_caches_the_home_or_git(tmp_path: Path, kind: str) -> None:
    """Code a build runs used to be able to rewrite a cached .pyc (and its proof) or a file in
    uv's cache, which later builds shipped and verify called reproducible; to plant a program
    or a setting in the home directory (a shell profile, ~/.local/bin, uv.toml) or a hook in the
    repository's .git, which run later with secrets in reach; and to make and fill a cache
    directory that did not exist yet. In the sandbox each of those is read-only, while the
    project and the install's own directories stay writable."""
    path = _path_with(tmp_path, *SANDBOXES[kind])
    if isolation({"PATH": path}) is None:
        pytest.fail(f"{kind} cannot start here: that sandbox is untested", pytrace=False)
    project, _ = _project(tmp_path)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    home = tmp_path / "home"
    tool_cache = tmp_path / "lambda-zip-cache"
    for directory in (home / ".local" / "bin", tool_cache):
        directory.mkdir(parents=True)
    uv_cache = tmp_path / "uv-cache"  # its own, not made yet: the attack writes into it
    marker = tmp_path / "poison.json"
    package = tmp_path / "spy"
    (package / "backend_wheel.py").write_text((package / "backend.py").read_text()
                                              .replace("    _scan()\n", "", 1))  # fmt: skip
    targets = {"lambda-zip cache": str(tool_cache), "uv cache": str(uv_cache),
               "home": str(home), "PATH in home": str(home / ".local" / "bin"),
               ".git": str(project / ".git" / "hooks"), "project": str(project)}  # fmt: skip
    (package / "backend.py").write_text(POISONER.format(targets=targets, marker=str(marker)))
    built = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(project),
         "--python-version", "3.12", "--python", str(support.interpreter("3.12")),
         "--cache-dir", str(tool_cache)],
        env=support.tool_env(LAMBDA_ZIP_NO_CACHE=None, UV_CACHE_DIR=str(uv_cache),
                             HOME=str(home), PATH=path),
        capture_output=True, text=True,
        check=False, timeout=600,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    results = json.loads(marker.read_text())
    read_only = "Read-only file system"
    assert results == {"lambda-zip cache": read_only, "uv cache": read_only, "home": read_only,
                       "PATH in home": read_only, ".git": read_only,
                       "project": "written"}, results  # fmt: skip
    for name in ("lambda-zip cache", "uv cache", "home", "PATH in home", ".git"):
        assert not (Path(targets[name]) / "poisoned").exists()


ESCAPER = """\
import json, os, pathlib, subprocess
from backend_wheel import build_wheel as _wheel

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    results = {{}}
    # The sandbox's /proc lies over the host's, its read-only binds were made in its own mount
    # namespace: with the capabilities to, the script takes both away.
    for name, command in (("umount /proc", ["umount", "-l", "/proc"]),
                          ("remount home", ["mount", "-o", "remount,bind,rw", {home!r}])):
        results[name] = subprocess.run(command, capture_output=True).returncode
    try:
        pathlib.Path({home!r}, "planted").write_text("x")
        results["home"] = "written"
    except OSError as exc:
        results["home"] = exc.strerror
    seen = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                data = pathlib.Path("/proc", entry, "environ").read_bytes()
                seen.append(data.decode("utf-8", "replace"))
            except OSError:
                pass
    results["secret"] = any({secret!r} in text for text in seen)
    pathlib.Path({marker!r}).write_text(json.dumps(results))
    return _wheel(wheel_directory, config_settings, metadata_directory)
"""


@pytest.mark.parametrize("kind", sorted(SANDBOXES))
def test_a_build_script_cannot_unmount_or_remount_its_way_out(tmp_path: Path, kind: str) -> None:
    """The script ran with the capabilities of its namespace (root in it): `umount /proc`
    showed every process of the host, the secret in this tool's environ among them, and a
    remount made the read-only home writable. Capabilities are dropped before it runs
    (setpriv after unshare's mounts, bwrap --cap-drop ALL): both fail, nothing leaks."""
    path = _path_with(tmp_path, *dict.fromkeys((*SANDBOXES[kind], "setpriv", "umount", "mount")))
    if isolation({"PATH": path}) is None:
        pytest.fail(f"{kind} cannot start here: that sandbox is untested", pytrace=False)
    project, marker = _project(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    package = tmp_path / "spy"
    (package / "backend_wheel.py").write_text((package / "backend.py").read_text()
                                              .replace("    _scan()\n", "", 1))  # fmt: skip
    (package / "backend.py").write_text(
        ESCAPER.format(home=str(home), secret=SECRET, marker=str(marker))
    )
    built = _build(project, PATH=path, HOME=str(home))
    assert built.returncode == 0, built.stderr
    results = json.loads(marker.read_text())
    assert results["umount /proc"] != 0 and results["remount home"] != 0, results
    assert results["home"] == "Read-only file system" and results["secret"] is False, results
    assert not (home / "planted").exists()

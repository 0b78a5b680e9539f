"""verify rebuilds every sdist for real, whatever its origin, with uv and with pip.

The dependency `stampy` has no wheel anywhere: its build backend (in the tree, no
setuptools needed) writes the time of the build into `stampy/_built.py`. It reaches the project
from each origin a project can name an sdist by: a local archive in requirements.txt (with and
without a hash), a local directory, a git commit, an sdist on a find-links index, a path
dependency of a uv.lock (directory and archive) and a directory dependency of a poetry.lock.
Installers cache the wheels they build (uv even for a local archive under --refresh, shown
below), so a rebuild that shares their cache would take the first build's wheel and say
"reproducible". verify must say "NOT reproducible", name the module and show both times.

Projects are marked as committed (a `.git` directory): local paths inside a repository are
pinned by the commit, so the hashed requirements.txt, uv.lock and poetry.lock cases are locks
and take verify's split install (wheels from the shared cache with builds refused, builds with
a fresh cache); the unhashed requirements.txt cases are resolved, and take one install with a
fresh cache.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

import support
from support import PROJECTS, interpreter, tool_env

NAME, VERSION = "stampy", "0.1.0"
SIX_WHEEL = "sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"
SIX_SDIST = "sha256:ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81"
SIX = f"six==1.17.0 --hash={SIX_WHEEL} --hash={SIX_SDIST}"

BACKEND = '''
"""A PEP 517 backend that writes the time of each build into the wheel."""
import base64, hashlib, os, time, zipfile

NAME, VERSION = "stampy", "0.1.0"
DIST_INFO = f"{NAME}-{VERSION}.dist-info"
METADATA = f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n"
WHEEL = (
    "Wheel-Version: 1.0\\nGenerator: stamp-backend\\nRoot-Is-Purelib: true\\n"
    "Tag: py3-none-any\\n"
)


def _row(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    os.makedirs(os.path.join(metadata_directory, DIST_INFO))
    for name, text in (("METADATA", METADATA), ("WHEEL", WHEEL)):
        with open(os.path.join(metadata_directory, DIST_INFO, name), "w") as stream:
            stream.write(text)
    return DIST_INFO


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {
        "stampy/__init__.py": b"from stampy._built import BUILD_TIME\\n",
        "stampy/_built.py": f'BUILD_TIME = "{time.time_ns()}"\\n'.encode(),
        f"{DIST_INFO}/METADATA": METADATA.encode(),
        f"{DIST_INFO}/WHEEL": WHEEL.encode(),
    }
    rows = [_row(name, data) for name, data in files.items()] + [f"{DIST_INFO}/RECORD,,"]
    files[f"{DIST_INFO}/RECORD"] = ("\\n".join(rows) + "\\n").encode()
    filename = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
    return filename
'''

PYPROJECT = """\
[build-system]
requires = []
build-backend = "stamp_backend"
backend-path = ["."]

[project]
name = "stampy"
version = "0.1.0"
"""


def write_package(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (directory / "stamp_backend.py").write_text(textwrap.dedent(BACKEND), encoding="utf-8")
    return directory


def write_sdist(directory: Path) -> Path:
    """stampy-0.1.0.tar.gz in `directory`, made here with fixed metadata."""
    directory.mkdir(parents=True, exist_ok=True)
    archive = directory / f"{NAME}-{VERSION}.tar.gz"
    members = {
        "pyproject.toml": PYPROJECT,
        "stamp_backend.py": textwrap.dedent(BACKEND),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n",
    }
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in sorted(members.items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"{NAME}-{VERSION}/{name}")
            info.size, info.mtime, info.mode = len(data), 315532800, 0o644
            tar.addfile(info, io.BytesIO(data))
    return archive


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def new_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "sdist" / "src", project / "src")
    (project / ".git").mkdir()  # committed: local paths inside it are pinned by the commit
    return project


def archive_project(tmp_path: Path) -> Path:
    project = new_project(tmp_path)
    write_sdist(project / "vendor")
    # The line from the report: a local archive, relative, no hash.
    (project / "requirements.txt").write_text(f"./vendor/{NAME}-{VERSION}.tar.gz\n", "utf-8")
    return project


def hashed_archive_project(tmp_path: Path) -> Path:
    project = new_project(tmp_path)
    archive = write_sdist(project / "vendor")
    (project / "requirements.txt").write_text(
        f"{SIX}\n./vendor/{archive.name} --hash=sha256:{sha256(archive)}\n", "utf-8"
    )
    return project


def directory_project(tmp_path: Path) -> Path:
    project = new_project(tmp_path)
    write_package(project / "vendor" / NAME)
    (project / "requirements.txt").write_text(f"./vendor/{NAME}\n", "utf-8")
    return project


def vcs_project(tmp_path: Path) -> Path:
    """A git checkout (a local repository, pinned to its commit): uv caches the wheel it built
    from a commit as it does for any sdist."""
    project = new_project(tmp_path)
    repository = write_package(tmp_path / "repository")
    git = ["git", "-C", str(repository), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "stampy"]):
        subprocess.run([*git, *command], check=True, capture_output=True)
    commit = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    (project / "requirements.txt").write_text(
        f"git+{repository.as_uri()}@{commit}#egg={NAME}\n", "utf-8"
    )
    return project


def index_project(tmp_path: Path) -> Path:
    """An sdist served by a find-links index: a pin, not a path, so only the first build's
    record of what it built from source tells verify to build it again."""
    project = new_project(tmp_path)
    index = tmp_path / "index"
    archive = write_sdist(index)
    (project / "requirements.txt").write_text(
        f"--no-index\n--find-links {index}\n{NAME}=={VERSION} --hash=sha256:{sha256(archive)}\n",
        "utf-8",
    )
    return project


def uvlock_project(tmp_path: Path, archive: bool = False) -> Path:
    project = new_project(tmp_path)
    if archive:
        location = f"libs/{write_sdist(project / 'libs').name}"
    else:
        write_package(project / "libs" / NAME)
        location = f"libs/{NAME}"
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "app"
            version = "1.0"
            requires-python = ">=3.9"
            dependencies = ["six==1.17.0", "{NAME}"]

            [tool.uv.sources]
            {NAME} = {{ path = "{location}" }}
            """
        ),
        "utf-8",
    )
    from lambda_zip_action.installers import uv_binary

    locked = subprocess.run(
        [uv_binary(), "lock", "--directory", str(project)],
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert locked.returncode == 0, locked.stderr
    kind = "path" if archive else "directory"
    assert f'source = {{ {kind} = "{location}" }}' in (project / "uv.lock").read_text("utf-8")
    return project


def poetry_project(tmp_path: Path) -> Path:
    project = new_project(tmp_path)
    write_package(project / "libs" / NAME)
    (project / "poetry.lock").write_text(
        textwrap.dedent(
            f"""\
            [[package]]
            name = "six"
            version = "1.17.0"
            description = "Python 2 and 3 compatibility utilities"
            optional = false
            python-versions = "!=3.0.*,!=3.1.*,!=3.2.*,>=2.7"
            groups = ["main"]
            files = [
                {{file = "six-1.17.0-py2.py3-none-any.whl", hash = "{SIX_WHEEL}"}},
                {{file = "six-1.17.0.tar.gz", hash = "{SIX_SDIST}"}},
            ]

            [[package]]
            name = "{NAME}"
            version = "{VERSION}"
            description = ""
            optional = false
            python-versions = "*"
            groups = ["main"]
            files = []
            develop = false

            [package.source]
            type = "directory"
            url = "libs/{NAME}"

            [metadata]
            lock-version = "2.1"
            python-versions = ">=3.9"
            content-hash = "0"
            """
        ),
        "utf-8",
    )
    return project


ORIGINS = {
    "local-archive": archive_project,
    "local-archive-hashed": hashed_archive_project,
    "local-directory": directory_project,
    "find-links-index": index_project,
    "vcs-git": vcs_project,
    "uv.lock-path-directory": uvlock_project,
    "uv.lock-path-archive": lambda tmp_path: uvlock_project(tmp_path, archive=True),
    "poetry.lock-directory": poetry_project,
}


def verify(project: Path, output: Path, installer: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "lambda_zip_action", "verify", "--project", str(project),
        "--python-version", "3.12", "--python", str(interpreter("3.12")),
        "--installer", installer, "--output", str(output),
    ]  # fmt: skip
    return subprocess.run(
        command,
        env=tool_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("installer", ["uv", "pip"])
@pytest.mark.parametrize("origin", list(ORIGINS))
def test_time_stamping_sdist_is_caught(origin: str, installer: str, tmp_path: Path) -> None:
    project = ORIGINS[origin](tmp_path)
    result = verify(project, tmp_path / "lambda.zip", installer)
    assert result.returncode == 1, support.explain(result)
    assert "NOT reproducible:" in result.stdout, support.explain(result)
    # The first build says what it built from source.
    assert f"running their build scripts: {NAME} {VERSION}" in result.stderr, support.explain(
        result
    )
    entries = support.differing_entries(result.stdout)
    module = entries.get(f"{NAME}/_built.py", "")
    assert module.startswith("text differs:"), entries
    removed = re.findall(r'^ +-BUILD_TIME = "(\d+)"$', module, re.M)
    added = re.findall(r'^ +\+BUILD_TIME = "(\d+)"$', module, re.M)
    assert len(removed) == 1 and len(added) == 1, module
    # The rebuild ran the build again, later: it did not take a wheel from a cache.
    assert int(added[0]) > int(removed[0])
    assert set(entries) == {
        f"{NAME}/_built.py",
        f"{NAME}/__pycache__/_built.cpython-312.pyc",
        f"{NAME}-{VERSION}.dist-info/RECORD",
    }, entries


def test_uv_refresh_reuses_the_wheel_built_from_a_local_archive(tmp_path: Path) -> None:
    """Why the rebuild needs a fresh cache: `--refresh` (the old way) installs the same build."""
    from lambda_zip_action.installers import uv_binary

    archive = write_sdist(tmp_path / "vendor")
    env = tool_env(UV_CACHE_DIR=str(tmp_path / "uv-cache"))
    stamps = []
    for run, extra in (("one", []), ("two", ["--refresh"]), ("three", ["--no-cache"])):
        target = tmp_path / run
        subprocess.run(
            [uv_binary(), "pip", "install", "--target", str(target), "--python",
             str(interpreter("3.12")), "--no-progress", str(archive), *extra],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        stamps.append((target / NAME / "_built.py").read_text("utf-8"))
    assert stamps[0] == stamps[1], "uv --refresh rebuilt the local archive: the note is stale"
    assert stamps[2] != stamps[0]

"""Bad input fails with one clear paragraph, exit code 2, no traceback, and nothing half-written.

Before each failing build a previous valid zip and manifest sit at the output path; afterwards
their bytes must be unchanged, no `.lambda.zip.*.tmp` may lie beside them, and the build's
TMPDIR (a directory of the test's own) must hold no `lambda-zip-*` directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import PROJECTS, interpreter, tool_env
from unprivileged import unprivileged

ERROR_LINE = re.compile(r"lambda-zip: (?P<kind>[a-z]+) error: (?P<message>\S.*)")


@dataclass(frozen=True)
class Previous:
    zip: bytes
    manifest: bytes


@pytest.fixture(scope="session")
def previous(tmp_path_factory: pytest.TempPathFactory) -> Previous:
    """A valid earlier build, put at the output path before each failing one."""
    directory = tmp_path_factory.mktemp("previous")
    completed = run(
        ["--project", str(PROJECTS / "uvlock"), "--output", str(directory / "x.zip")], directory
    )
    assert completed.returncode == 0, completed.stderr
    return Previous(
        (directory / "x.zip").read_bytes(), (directory / "x.zip.manifest.json").read_bytes()
    )


@dataclass
class Case:
    """One build's inputs and the places it must leave as they were."""

    tmp: Path
    previous: Previous

    @property
    def output(self) -> Path:
        return self.tmp / "dist" / "lambda.zip"

    @property
    def tmpdir(self) -> Path:
        return self.tmp / "tmpdir"

    def project(self, name: str = "uvlock") -> Path:
        destination = self.tmp / "project"
        if not destination.exists():
            shutil.copytree(PROJECTS / name, destination, symlinks=True)
        return destination

    def place_previous(self, output: Path | None = None) -> None:
        output = output or self.output
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(self.previous.zip)
        output.with_name(output.name + ".manifest.json").write_bytes(self.previous.manifest)

    def build(
        self,
        *options: str,
        project: Path | None = None,
        as_root: bool = True,
        output: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        self.tmpdir.mkdir(exist_ok=True)
        argv = ["--project", str(project or self.project()), "--output", str(output or self.output)]
        return run([*argv, *options], self.tmpdir, as_root=as_root)

    def fail(
        self,
        *options: str,
        kind: str,
        project: Path | None = None,
        as_root: bool = True,
        output: Path | None = None,
    ) -> str:
        """Run a build that must fail cleanly; return its error message."""
        output = output or self.output
        self.place_previous(output)
        completed = self.build(*options, project=project, as_root=as_root, output=output)
        message = assert_clean_error(completed, kind)
        assert output.read_bytes() == self.previous.zip
        assert (
            output.with_name(output.name + ".manifest.json").read_bytes() == self.previous.manifest
        )
        assert not [p.name for p in output.parent.iterdir() if p.name.endswith(".tmp")]
        assert not [p.name for p in self.tmpdir.iterdir() if p.name.startswith("lambda-zip-")]
        return message


@pytest.fixture
def case(tmp_path: Path, previous: Previous) -> Case:
    return Case(tmp_path, previous)


def run(
    options: Sequence[str], tmpdir: Path, as_root: bool = True, version: str = "3.12"
) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable,
        "-m",
        "lambda_zip_action",
        "build",
        "--python-version",
        version,
        "--architecture",
        "x86_64",
        "--json",
    ]
    if "--python" not in options:
        argv += ["--python", str(interpreter(version))]
    argv += options
    return subprocess.run(
        argv if as_root else unprivileged(argv),
        env=tool_env(TMPDIR=str(tmpdir)),
        capture_output=True,
        text=True,
        check=False,
    )


def assert_clean_error(completed: subprocess.CompletedProcess[str], kind: str) -> str:
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.splitlines()
    errors = [line for line in lines if line.startswith("lambda-zip:")]
    assert errors == [lines[-1]], completed.stderr
    match = ERROR_LINE.fullmatch(lines[-1])
    assert match is not None, lines[-1]
    assert match["kind"] == kind, lines[-1]
    return match["message"]


def test_missing_source_dir(case: Case) -> None:
    missing = case.tmp / "no-such-src"
    message = case.fail("--source", str(missing), kind="configuration")
    assert f"source directory {missing} does not exist" in message


def test_missing_requirements_file(case: Case) -> None:
    missing = case.tmp / "requirements-missing.txt"
    message = case.fail("--requirements", str(missing), kind="configuration")
    assert f"requirements file {missing} does not exist" in message


@pytest.mark.parametrize(
    ("fixture", "lock", "garbage", "expected"),
    [
        ("uvlock", "uv.lock", "version = [[[ not a lock\n", "Regenerate the lock with `uv lock`"),
        ("poetry", "poetry.lock", "[[package]\nname = \n", "is not valid TOML"),
        ("reqhash", "requirements.txt", "markupsafe=3.0.2 ;;; !!\n", "invalid requirement"),
        ("reqhash", "requirements.txt", "\x00\xff\xfe garbage\n", "invalid requirement"),
    ],
    ids=["uv.lock", "poetry.lock", "requirements.txt", "requirements.txt-binary"],
)
def test_malformed_lock(fixture: str, lock: str, garbage: str, expected: str, case: Case) -> None:
    project = case.project(fixture)
    (project / lock).write_text(garbage, encoding="utf-8", errors="surrogateescape")
    message = case.fail(kind="requirements")
    assert lock in message
    assert expected in message


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_dependency_without_a_wheel_for_the_platform(installer: str, case: Case) -> None:
    message = case.fail("--installer", installer, project=case.project("nowheel"), kind="install")
    assert "ujson" in message
    assert "1.35" in message
    assert "python3.12 on x86_64 (x86_64-manylinux_" in message


def test_python_of_another_version(case: Case) -> None:
    message = case.fail("--python", str(interpreter("3.11")), kind="interpreter")
    assert "3.11" in message
    assert "python3.12" in message


def test_python_that_does_not_exist(case: Case) -> None:
    message = case.fail("--python", "/nonexistent/python3.12", kind="interpreter")
    assert "/nonexistent/python3.12" in message
    assert "not a CPython interpreter" in message


def test_unreadable_source_file(case: Case) -> None:
    project = case.project()
    secret = project / "src" / "app" / "data" / "secret.json"
    secret.write_text("{}")
    secret.chmod(0)
    # Root reads any file; this build runs without capabilities, as an ordinary user would.
    message = case.fail(kind="source", as_root=False)
    assert f"{secret} is not readable by this user" in message


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda app: (app / "link").symlink_to("/etc/passwd"), "outside"),
        (lambda app: (app / "loop").symlink_to("loop"), "symlink loop"),
        (lambda app: (app / "up").symlink_to(".."), "symlink loop"),
        (lambda app: (app / "dangling").symlink_to("missing.txt"), "broken symlink"),
        (lambda app: os.mkfifo(app / "pipe"), "FIFO"),
    ],
    ids=["escaping-link", "self-loop", "directory-loop", "dangling-link", "fifo"],
)
def test_unpackable_source_entry(make: Callable[[Path], object], expected: str, case: Case) -> None:
    app = case.project() / "src" / "app"
    make(app)
    message = case.fail(kind="source")
    assert expected in message
    assert str(app) in message


def test_symlink_inside_the_sources_is_packed_as_its_target(case: Case) -> None:
    data = case.project() / "src" / "app" / "data"
    (data / "alias.json").symlink_to("config.json")
    (case.project() / "src" / "shared").symlink_to("app/data")
    completed = case.build()
    assert completed.returncode == 0, completed.stderr
    config = (data / "config.json").read_bytes()
    with zipfile.ZipFile(case.output) as archive:
        assert archive.read("app/data/alias.json") == config
        assert archive.read("shared/config.json") == config
        info = archive.getinfo("app/data/alias.json")
    assert info.external_attr >> 16 == 0o100644  # a regular file, not a link entry


def test_output_inside_a_source_dir_is_never_packed(case: Case) -> None:
    output = case.project() / "src" / "dist" / "lambda.zip"
    output.parent.mkdir(parents=True)
    (output.parent / "previous.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    for _ in range(2):  # the second build finds the first zip beside it
        completed = case.build(output=output)
        assert completed.returncode == 0, completed.stderr
    with zipfile.ZipFile(output) as archive:
        assert not [n for n in archive.namelist() if n.startswith("dist/")]


def test_unwritable_output_directory(case: Case) -> None:
    case.place_previous()
    case.output.parent.chmod(0o555)
    # Root writes anywhere; this build runs without capabilities, as an ordinary user would.
    message = case.fail(kind="output", as_root=False)
    assert str(case.output.parent) in message
    assert "Permission denied" in message


@pytest.mark.parametrize(
    ("option", "value"), [("--python-version", "3.8"), ("--architecture", "sparc")]
)
def test_invalid_choice_is_a_usage_error(option: str, value: str, case: Case) -> None:
    case.place_previous()
    completed = case.build(option, value)
    assert completed.returncode == 2
    assert completed.stderr.startswith("usage: lambda-zip build")
    assert f"argument {option}: invalid choice: '{value}'" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert case.output.read_bytes() == case.previous.zip


def big_project(case: Case) -> Path:
    project = case.project()
    (project / "src" / "app" / "data" / "blob.bin").write_bytes(os.urandom(60 * 1024 * 1024))
    return project


def test_size_limit_fails_when_asked(case: Case) -> None:
    big_project(case)
    message = case.fail("--fail-on-size-limit", kind="limits")
    assert "over Lambda's 50.0 MiB limit" in message
    assert "Nothing was written" in message


def test_size_limit_warns_by_default(case: Case) -> None:
    big_project(case)
    completed = case.build()
    assert completed.returncode == 0, completed.stderr
    warnings = [line for line in completed.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, completed.stderr
    assert "over Lambda's 50.0 MiB limit" in warnings[0]
    assert re.search(r"Largest: app 60\.\d MiB, python_dateutil \S+ MiB, MarkupSafe ", warnings[0])
    assert "__pycache__" not in warnings[0]  # six's bytecode counts as six
    assert json.loads(completed.stdout)["size"] > 60 * 1024 * 1024


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_pure_python_sdist_builds(installer: str, case: Case) -> None:
    completed = case.build("--installer", installer, project=case.project("sdist"))
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document["distributions"] == [{"name": "docopt", "version": "0.6.2"}]
    with zipfile.ZipFile(case.output) as archive:
        names = set(archive.namelist())
    assert "docopt.py" in names
    assert "__pycache__/docopt.cpython-312.pyc" in names
    assert any(n.startswith("docopt-0.6.2.dist-info/") for n in names)

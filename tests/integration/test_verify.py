"""`lambda-zip verify` end to end: it passes real projects and catches injected nondeterminism.

Every case runs the real CLI in a subprocess with `support.tool_env()`. Nondeterminism is
injected the way it happens in the wild, never by editing the tool:

- a dependency built locally from an sdist whose build writes the build time into a module;
- a source file that something in the build rewrites (start-up code that the tool's processes
  and verify's child run: a `.pth` line in the test interpreter's site-packages, which isolated
  mode (-I, how verify starts its child) still reads, runs it when LZ_TEST_INJECT names it);
- a compile step whose grouping depends on the CPU count (the same start-up code wraps
  `compile_entries` so the group size follows the number of workers; verify's second build runs
  with another --jobs).

The start-up code acts only in processes of this tool (`lambda_zip_action` in sys.orig_argv)
and only when a marker variable asks it to; the installers never see it (the tool passes them
no LZ_TEST_* variable) and the bytecode compiler runs with -S.
"""

from __future__ import annotations

import json
import py_compile
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import support
from support import PROJECTS, interpreter, tool_env

SHA256 = re.compile(r"\b[0-9a-f]{64}\b")

SITECUSTOMIZE = '''
"""Injected by tests/integration/test_verify.py: nondeterminism that verify must catch."""
import os
import sys

if any("lambda_zip_action" in arg for arg in getattr(sys, "orig_argv", ())):
    _project = os.environ.get("LZ_TEST_STAMP_PROJECT")
    if _project:
        # A build step that rewrites a source file with the time it ran.
        import pathlib
        import time

        pathlib.Path(_project, "src", "app", "stamp.py").write_text(
            f"STAMP = {time.time_ns()}\\n", encoding="utf-8"
        )

    if os.environ.get("LZ_TEST_GROUP_BY_CPU"):
        # A compile step that cuts the files into one group per worker.
        import functools
        import math

        import lambda_zip_action.build as _build
        import lambda_zip_action.compile as _compile

        _original = _compile.compile_entries

        @functools.wraps(_original)
        def _by_cpu(entries, *args, **kwargs):
            workers = kwargs["workers"] if "workers" in kwargs else args[6]
            count = sum(
                1
                for entry in entries
                if not entry.is_dir and entry.path is not None and entry.name.endswith(".py")
            )
            _compile.GROUP_SIZE = max(1, math.ceil(count / max(1, workers)))
            sys.stderr.write(
                f"injected: group size {_compile.GROUP_SIZE} for {count} files, "
                f"{workers} workers\\n"
            )
            return _original(entries, *args, **kwargs)

        def _flat(jobs):
            # All files in one sorted run, cut every GROUP_SIZE: with the size above, the
            # groups follow the worker count.
            ordered = sorted(jobs, key=lambda job: job.entry.name.encode("utf-8"))
            size = _compile.GROUP_SIZE
            return [ordered[i : i + size] for i in range(0, len(ordered), size)]

        _compile.group_jobs = _flat
        _compile.compile_entries = _by_cpu
        _build.compile_entries = _by_cpu

    if os.environ.get("LZ_TEST_FAIL_REBUILD") and "--rebuild-sdists" in sys.orig_argv:
        # Only verify's second build passes --rebuild-sdists: make it, and only it, fail.
        raise SystemExit("injected: the second build cannot start")
'''

# A dependency with no wheel anywhere: built locally, and its build writes the time it ran.
STAMP_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "stamp"
version = "1.0"
"""

STAMP_SETUP = """\
import time
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class StampBuild(build_py):
    def run(self):
        super().run()
        module = Path(self.build_lib, "stamp", "_built.py")
        module.parent.mkdir(parents=True, exist_ok=True)
        module.write_text(f'BUILD_TIME = "{time.time_ns()}"\\n', encoding="utf-8")


setup(packages=["stamp"], cmdclass={"build_py": StampBuild})
"""

# Enough dependency files (178 .py on 3.10) that compiling them in one process or in two
# changes some marshal output on CPython 3.10.
MANY_FILES = """\
attrs==24.2.0
certifi==2024.8.30
charset-normalizer==3.4.0
click==8.1.7
idna==3.10
jinja2==3.1.4
markupsafe==3.0.2
python-dateutil==2.9.0.post0
pyyaml==6.0.2
requests==2.32.3
six==1.17.0
urllib3==2.2.3
"""


def run_cli(*args: str | Path, **env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", *map(str, args)],
        env=tool_env(**env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def target(version: str) -> list[str]:
    return ["--python-version", version, "--python", str(interpreter(version))]


def verify(
    project: Path, version: str, output: Path, *extra: str | Path, **env: str | None
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "verify", "--project", project, *target(version), "--output", output, *extra, **env
    )


def assert_reproducible(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, support.explain(result)
    assert "NOT reproducible" not in result.stdout
    match = re.search(r"^reproducible: both builds are ([0-9a-f]{64})$", result.stdout, re.M)
    assert match, support.explain(result)
    sha = match.group(1)
    # Once on the build's sha256 line and once in the verdict.
    assert re.search(rf"^  sha256 +{sha}$", result.stdout, re.M), result.stdout
    assert result.stdout.count(sha) >= 2
    return sha


def assert_not_reproducible(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert result.returncode == 1, support.explain(result)
    assert "NOT reproducible:" in result.stdout, support.explain(result)
    first = re.search(r"^  first build +([0-9a-f]{64})$", result.stdout, re.M)
    second = re.search(r"^  second build +([0-9a-f]{64})$", result.stdout, re.M)
    assert first and second, result.stdout
    assert first.group(1) != second.group(1)
    return support.differing_entries(result.stdout)


def copy_project(name: str, destination: Path) -> Path:
    return Path(shutil.copytree(PROJECTS / name, destination / name))


# Once per process, even where site-packages is read twice.
INJECT_PTH = (
    "import os, sys; (setattr(sys, '_lz_test_injected', 1), exec(compile(open("
    "os.environ['LZ_TEST_INJECT']).read(), os.environ['LZ_TEST_INJECT'], 'exec'), "
    "{'__name__': 'lz_test_inject'})) if os.environ.get('LZ_TEST_INJECT') and not "
    "hasattr(sys, '_lz_test_injected') else None\n"
)


@pytest.fixture
def site_dir(tmp_path: Path) -> Iterator[str]:
    """The start-up code's path, for LZ_TEST_INJECT; a .pth runs it while the test lasts.

    PYTHONPATH would not do: verify starts its child isolated (-I), which ignores it.
    """
    code = tmp_path / "inject.py"
    code.write_text(textwrap.dedent(SITECUSTOMIZE), encoding="utf-8")
    pth = Path(sysconfig.get_paths()["purelib"]) / "lambda_zip_test_inject.pth"
    pth.write_text(INJECT_PTH, encoding="utf-8")
    try:
        yield str(code)
    finally:
        pth.unlink(missing_ok=True)


@pytest.fixture
def stamp_project(tmp_path: Path) -> Path:
    """A Lambda project whose only dependency is a local package that stamps its build time."""
    package = tmp_path / "stamp"
    (package / "stamp").mkdir(parents=True)
    (package / "pyproject.toml").write_text(STAMP_PYPROJECT, encoding="utf-8")
    (package / "setup.py").write_text(STAMP_SETUP, encoding="utf-8")
    (package / "stamp" / "__init__.py").write_text(
        "from stamp._built import BUILD_TIME\n", encoding="utf-8"
    )
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "sdist" / "src", project / "src")
    (project / "requirements.txt").write_text(f"stamp @ {package.as_uri()}\n", encoding="utf-8")
    return project


# 1. Real projects are reproducible.


def test_uvlock_is_reproducible(tmp_path: Path) -> None:
    result = verify(PROJECTS / "uvlock", "3.12", tmp_path / "lambda.zip")
    sha = assert_reproducible(result)
    manifest = json.loads((tmp_path / "lambda.zip.manifest.json").read_text(encoding="utf-8"))
    assert manifest["archive"]["sha256"] == sha


@pytest.mark.slow
def test_build_verify_json_says_reproducible(tmp_path: Path) -> None:
    result = run_cli(
        "build", "--verify", "--json", "--project", PROJECTS / "uvlock", *target("3.12"),
        "--architecture", "x86_64", "--output", tmp_path / "lambda.zip",
    )  # fmt: skip
    assert result.returncode == 0, support.explain(result)
    document = json.loads(result.stdout)
    assert document["reproducible"] is True
    assert document["rebuild-sha256"] == document["sha256"]
    assert SHA256.fullmatch(document["sha256"])
    assert "NOT reproducible" not in result.stderr


@pytest.mark.slow
def test_poetry_arm64_is_reproducible(tmp_path: Path) -> None:
    result = verify(PROJECTS / "poetry", "3.13", tmp_path / "lambda.zip", "--architecture", "arm64")
    assert_reproducible(result)


@pytest.mark.slow
def test_reqhash_with_pip_is_reproducible(tmp_path: Path) -> None:
    result = verify(PROJECTS / "reqhash", "3.11", tmp_path / "lambda.zip", "--installer", "pip")
    assert_reproducible(result)


# 2. A dependency whose sdist build embeds the build time.


def assert_build_time_caught(result: subprocess.CompletedProcess[str], cache_tag: str) -> None:
    entries = assert_not_reproducible(result)
    module = entries.get("stamp/_built.py", "")
    assert module.startswith("text differs:"), entries
    removed = re.findall(r'^ +-BUILD_TIME = "(\d+)"$', module, re.M)
    added = re.findall(r'^ +\+BUILD_TIME = "(\d+)"$', module, re.M)
    assert len(removed) == 1 and len(added) == 1, module
    # The second build ran the sdist's build again, later: it was not taken from a cache.
    assert int(added[0]) > int(removed[0])
    pyc = entries.get(f"stamp/__pycache__/_built.{cache_tag}.pyc", "")
    # Dependencies get unchecked-hash .pyc: the header holds the hash of the changed source.
    assert pyc.startswith("bytecode: header differs (source hash)"), entries
    assert "stamp-1.0.dist-info/RECORD" in entries, entries
    # Nothing else differs: the verdict is about the stamp, not noise.
    assert set(entries) == {
        "stamp/_built.py",
        f"stamp/__pycache__/_built.{cache_tag}.pyc",
        "stamp-1.0.dist-info/RECORD",
    }


def test_sdist_build_time_is_caught_with_uv(stamp_project: Path, tmp_path: Path) -> None:
    result = verify(stamp_project, "3.12", tmp_path / "lambda.zip")
    assert_build_time_caught(result, "cpython-312")


@pytest.mark.slow
def test_a_build_from_source_is_never_taken_from_a_shared_cache(
    stamp_project: Path, tmp_path: Path
) -> None:
    """Two plain builds used to agree here: uv reused the wheel it had built and cached, which
    hid the build time (the naive "build twice and compare" passed). A build that has to run a
    build script now runs with a fresh installer cache, in the sandbox where the shared caches
    are read-only: every build builds again, so the time shows even without verify; and
    verify, whose rebuild builds every sdist afresh anyway, catches it as before."""
    hashes = []
    for run in ("one", "two"):
        result = run_cli(
            "build", "--json", "--project", stamp_project, *target("3.12"),
            "--output", tmp_path / run / "lambda.zip",
        )  # fmt: skip
        assert result.returncode == 0, support.explain(result)
        hashes.append(json.loads(result.stdout)["sha256"])
    assert hashes[0] != hashes[1]
    assert_build_time_caught(verify(stamp_project, "3.12", tmp_path / "v.zip"), "cpython-312")


@pytest.mark.slow
def test_sdist_build_time_is_caught_with_pip(stamp_project: Path, tmp_path: Path) -> None:
    result = verify(stamp_project, "3.12", tmp_path / "lambda.zip", "--installer", "pip")
    assert_build_time_caught(result, "cpython-312")


# 3. A source file the build rewrites.


@pytest.mark.slow
def test_source_rewritten_during_the_build_is_caught(site_dir: str, tmp_path: Path) -> None:
    project = copy_project("uvlock", tmp_path)
    result = verify(
        project,
        "3.12",
        tmp_path / "lambda.zip",
        LZ_TEST_INJECT=site_dir,
        LZ_TEST_STAMP_PROJECT=str(project),
    )
    entries = assert_not_reproducible(result)
    source = entries.get("app/stamp.py", "")
    assert source.startswith("text differs:"), entries
    assert re.search(r"^ +-STAMP = \d+$", source, re.M), source
    assert re.search(r"^ +\+STAMP = \d+$", source, re.M), source
    pyc = entries.get("app/__pycache__/stamp.cpython-312.pyc", "")
    # The project's own code is checked-hash by default: the source hash in the header moves.
    assert pyc.startswith("bytecode: header differs (source hash)"), entries
    assert set(entries) == {"app/stamp.py", "app/__pycache__/stamp.cpython-312.pyc"}


# 4. A compile step whose grouping depends on the CPU count.


@pytest.mark.slow
def test_grouping_by_cpu_count_is_caught_on_310(site_dir: str, tmp_path: Path) -> None:
    project = tmp_path / "many"
    shutil.copytree(PROJECTS / "uvlock" / "src", project / "src")
    (project / "requirements.txt").write_text(MANY_FILES, encoding="utf-8")

    # Control: the tool's own grouping (a fixed count of files per process) is reproducible.
    control = verify(project, "3.10", tmp_path / "control.zip", "--jobs", "2",
                     LZ_TEST_INJECT=site_dir)  # fmt: skip
    assert_reproducible(control)

    # --jobs 2: two groups in the first build; verify's second build runs with --jobs 3.
    result = verify(project, "3.10", tmp_path / "lambda.zip", "--jobs", "2",
                    LZ_TEST_INJECT=site_dir, LZ_TEST_GROUP_BY_CPU="1")  # fmt: skip
    sizes = re.findall(r"injected: group size (\d+) for (\d+) files, (\d+) workers", result.stderr)
    assert len(sizes) == 2 and sizes[0][2] != sizes[1][2], result.stderr
    entries = assert_not_reproducible(result)
    assert entries, result.stdout
    for name, detail in entries.items():
        assert name.endswith(".cpython-310.pyc"), entries
        assert detail.startswith("bytecode: header is equal; the code object differs"), entries
        assert re.search(r"the code object differs at offset \d+", detail), detail


# 5. A build that fails.


def test_failed_build_exits_2_with_one_line(tmp_path: Path) -> None:
    result = verify(
        PROJECTS / "uvlock", "3.12", tmp_path / "lambda.zip", "--source", tmp_path / "missing"
    )
    assert result.returncode == 2, support.explain(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("lambda-zip:")]
    assert len(errors) == 1, result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1] == errors[0]
    assert "does not exist" in errors[0]
    assert "reproducible" not in result.stdout
    assert not (tmp_path / "lambda.zip").exists()


@pytest.mark.slow
def test_failed_rebuild_exits_2_with_one_line(site_dir: str, tmp_path: Path) -> None:
    result = verify(
        PROJECTS / "uvlock", "3.12", tmp_path / "lambda.zip",
        LZ_TEST_INJECT=site_dir, LZ_TEST_FAIL_REBUILD="1",
    )  # fmt: skip
    assert result.returncode == 2, support.explain(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("lambda-zip:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("lambda-zip: verify error: The first build succeeded but the ")
    assert "injected: the second build cannot start" in errors[0]
    assert "reproducible:" not in result.stdout


# The explanation itself, on small zips made here (no build).


def write_zip(path: Path, files: dict[str, bytes], mode: int = 0o644) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3
            archive.writestr(info, data)
    return path


def compiled(tmp_path: Path, source: str, name: str) -> bytes:
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    output = py_compile.compile(
        str(path),
        cfile=str(tmp_path / f"{name}.pyc"),
        dfile="/var/task/m.py",
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    assert output is not None  # doraise=True: a failure raises instead
    return Path(output).read_bytes()


def verdict(old: Path, new: Path) -> dict[str, str]:
    from lambda_zip_action.proof.diff import diff
    from lambda_zip_action.proof.explain import explain_entries

    differences = diff(old, new)
    entries = explain_entries(old, new, differences)
    return {entry.name: entry.detail for entry in entries}


def test_explains_text_mode_native_and_same_source_pyc(tmp_path: Path) -> None:
    pyc = compiled(tmp_path, "X = 'a'\n", "a")
    # Same source, one byte of the code object changed (as a FLAG_REF flip would).
    flipped = bytearray(pyc)
    flipped[-1] ^= 0x80
    old = write_zip(tmp_path / "old.zip", {
        "a.txt": b"one\ntwo\nthree\n", "m.pyc": pyc, "lib.so": b"\x7fELF" + b"\0" * 60,
        "run.sh": b"#!/bin/sh\n",
    })  # fmt: skip
    new = write_zip(tmp_path / "new.zip", {
        "a.txt": b"one\nTWO\nthree\n", "m.pyc": bytes(flipped),
        "lib.so": b"\x7fELF" + b"\1" * 61, "run.sh": b"#!/bin/sh\n",
    })  # fmt: skip
    details = verdict(old, new)
    assert "-two" in details["a.txt"] and "+TWO" in details["a.txt"]
    assert details["m.pyc"].startswith("bytecode: header is equal; the code object differs")
    assert f"offset {len(pyc) - 1}" in details["m.pyc"]
    assert details["lib.so"].startswith("native library: 64 bytes sha256 ")
    assert "-> 65 bytes sha256 " in details["lib.so"]
    assert "run.sh" not in details

    # A mode-only change is named with both modes.
    details = verdict(
        write_zip(tmp_path / "0644.zip", {"run.sh": b"#!/bin/sh\n"}),
        write_zip(tmp_path / "0755.zip", {"run.sh": b"#!/bin/sh\n"}, mode=0o755),
    )
    assert details == {"run.sh": "mode 0644 -> 0755"}


def test_pyc_of_a_changed_source_is_not_blamed_on_the_compiler(tmp_path: Path) -> None:
    old = write_zip(tmp_path / "old.zip", {"m.pyc": compiled(tmp_path, "X = 1\n", "a")})
    new = write_zip(tmp_path / "new.zip", {"m.pyc": compiled(tmp_path, "X = 2\n", "b")})
    details = verdict(old, new)
    assert "header differs (source hash)" in details["m.pyc"]
    assert "code object differs" in details["m.pyc"]
    assert "compiled differently" not in details["m.pyc"]


def test_every_changed_entry_is_named(tmp_path: Path) -> None:
    from lambda_zip_action.proof.diff import diff
    from lambda_zip_action.proof.explain import explain_entries

    names = [f"pkg/m{i:03}.py" for i in range(60)]
    old = write_zip(tmp_path / "old.zip", {name: b"X = 1\n" for name in names})
    new = write_zip(tmp_path / "new.zip", {name: b"X = 2\n" for name in names})
    entries = explain_entries(old, new, diff(old, new))
    assert [entry.name for entry in entries] == names

"""Byte-identical zips when one thing about the build machine changes at a time.

Every test builds real fixture projects with real uv and pip installs, and also shows that the
naive way (zip -r, zipfile, compileall, the installers' own output) differs under the same
variation: a determinism test that cannot fail proves nothing.
"""

from __future__ import annotations

import json
import locale
import os
import random
import shutil
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambda_zip_action.installers import uv_binary

from support import PROJECTS, interpreter, require_tools, tool_env

PYTHONS = ("3.10", "3.11", "3.12", "3.13")
ARCHITECTURES = ("x86_64", "arm64")
LOCKED_PROJECTS = ("uvlock", "poetry", "reqhash")
PROJECTS_BY_INPUT = (*LOCKED_PROJECTS, "unpinned")
# Run on every local run; the rest of the matrix runs with --run-slow and in CI.
QUICK_COMBINATIONS = {("uvlock", "x86_64", "3.12"), ("poetry", "arm64", "3.13")}
# The one combination the single-variable tests vary.
REFERENCE = ("uvlock", "x86_64", "3.12")
DOS_EPOCH_DATE = (1980, 1, 1, 0, 0, 0)
FAR_TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: the furthest from UTC, so local dates differ


@dataclass(frozen=True)
class Built:
    zip: Path
    report: dict[str, Any]
    stderr: str

    @property
    def sha256(self) -> str:
        return str(self.report["sha256"])

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.zip) as archive:
            return archive.namelist()


def copy_project(name: str, destination: Path) -> Path:
    shutil.copytree(PROJECTS / name, destination)
    return destination


def restrict_like_umask_077(root: Path) -> None:
    # What a checkout made under umask 077 looks like: copytree would copy the original modes
    # (copystat), so set them the way git would create them: 0700 executables and dirs, else 0600.
    for path in [root, *root.rglob("*")]:
        executable = path.is_dir() or path.stat().st_mode & 0o111
        path.chmod(0o700 if executable else 0o600)


def run_build(
    project: Path,
    output: Path,
    python_version: str = "3.12",
    architecture: str = "x86_64",
    *,
    installer: str = "uv",
    args: Sequence[str] = (),
    env: Mapping[str, str | None] | None = None,
    umask: int | None = None,
    wrapper: Sequence[str] = (),
) -> Built:
    command = [
        *wrapper,
        sys.executable, "-m", "lambda_zip_action", "build",
        "--project", str(project),
        "--python-version", python_version,
        "--architecture", architecture,
        "--installer", installer,
        "--python", str(interpreter(python_version)),
        "--output", str(output),
        "--json",
        *args,
    ]  # fmt: skip
    preexec: Callable[[], object] | None = None
    if umask is not None:
        mask = umask
        preexec = lambda: os.umask(mask)  # noqa: E731
    completed = subprocess.run(
        command,
        env=tool_env(**(env or {})),
        capture_output=True,
        text=True,
        preexec_fn=preexec,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, (
        f"build of {project} failed ({completed.returncode}):\n{completed.stderr}"
    )
    return Built(output, json.loads(completed.stdout), completed.stderr)


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str, str], Built]:
    """The normal build of (project, architecture, python), made once per session."""
    built: dict[tuple[str, str, str], Built] = {}

    def get(project: str, architecture: str, python_version: str) -> Built:
        key = (project, architecture, python_version)
        if key not in built:
            root = tmp_path_factory.mktemp(f"baseline-{project}-{architecture}-{python_version}")
            copy = copy_project(project, root / "a" / "p")
            built[key] = run_build(copy, root / "out.zip", python_version, architecture)
        return built[key]

    return get


@pytest.fixture
def reference(baseline: Callable[[str, str, str], Built]) -> Built:
    return baseline(*REFERENCE)


def matrix() -> list[Any]:
    combinations = []
    for project in PROJECTS_BY_INPUT:
        for architecture in ARCHITECTURES:
            for python_version in PYTHONS:
                combination = (project, architecture, python_version)
                marks = () if combination in QUICK_COMBINATIONS else (pytest.mark.slow,)
                combinations.append(
                    pytest.param(*combination, marks=marks, id="-".join(combination))
                )
    return combinations


# ---------------------------------------------------------------------------------------------
# What every build must look like


def target_magic(python_version: str) -> bytes:
    completed = subprocess.run(
        [str(interpreter(python_version)), "-c",
         "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return bytes.fromhex(completed.stdout)


def local_extra_length(raw: bytes, info: zipfile.ZipInfo) -> int:
    signature, *_, extra_length = struct.unpack_from("<IHHHHHIIIHH", raw, info.header_offset)
    assert signature == 0x04034B50, info.filename
    return int(extra_length)


def assert_follows_the_archive_rules(built: Built, python_version: str) -> None:
    raw = built.zip.read_bytes()
    magic = target_magic(python_version)
    manifest = json.loads(Path(built.report["manifest"]).read_text(encoding="utf-8"))
    with zipfile.ZipFile(built.zip) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        assert [entry["path"] for entry in manifest["entries"]] == names
        assert names == sorted(names, key=lambda name: name.encode("utf-8"))
        assert len(names) == built.report["entries"]
        for info in infos:
            mode = (info.external_attr >> 16) & 0o7777
            assert info.date_time == DOS_EPOCH_DATE, info.filename
            assert info.extra == b"", info.filename
            assert local_extra_length(raw, info) == 0, info.filename
            assert info.create_system == 3, info.filename
            assert mode in (0o644, 0o755), (info.filename, oct(mode))
            if info.is_dir():
                assert mode == 0o755, info.filename
            if info.filename.endswith(".pyc"):
                header = archive.read(info)[:16]
                flags = int.from_bytes(header[4:8], "little")
                # Checked hash for the project's own code (a source edited in place is noticed),
                # unchecked for dependencies; never a timestamp .pyc, which the zip's fixed
                # dates would make stale.
                expected = 3 if info.filename.startswith("app/") else 1
                assert header[:4] == magic, info.filename
                assert flags == expected, (info.filename, flags)
        assert (archive.getinfo("app/bin/tool.sh").external_attr >> 16) & 0o7777 == 0o755
        assert "app/handler.py" in names


def top_level_names(built: Built) -> set[str]:
    return {name.split("/", 1)[0] for name in built.names()}


@pytest.mark.parametrize(("project", "architecture", "python_version"), matrix())
def test_matrix_zip_follows_the_archive_rules(
    baseline: Callable[[str, str, str], Built],
    project: str,
    architecture: str,
    python_version: str,
) -> None:
    built = baseline(project, architecture, python_version)
    assert_follows_the_archive_rules(built, python_version)
    top = top_level_names(built)
    assert not {"pytest", "_pytest", "pluggy", "iniconfig"} & top, "dev group packaged"
    if project == "poetry":
        assert not {"win32ctypes", "pywin32_ctypes"} & top
        assert ("tomli" in top) == (python_version == "3.10")
    if project == "unpinned":
        assert "idna" in top
        assert any("not pinned" in warning for warning in built.report["warnings"])
        assert "not pinned" in built.stderr


@pytest.mark.parametrize(("project", "architecture", "python_version"), matrix())
def test_matrix_zip_is_unchanged_by_many_variations_at_once(
    baseline: Callable[[str, str, str], Built],
    tmp_path: Path,
    project: str,
    architecture: str,
    python_version: str,
) -> None:
    # Each variation is shown one at a time below, with the naive way that differs under it;
    # here they are combined for every lock format, architecture and Python.
    copy = copy_project(project, tmp_path / "b" / "c" / "d" / "e" / "p")
    restrict_like_umask_077(copy)
    varied = run_build(
        copy,
        tmp_path / "out.zip",
        python_version,
        architecture,
        installer="pip",
        args=["--jobs", "1"],
        env={"TZ": FAR_TIME_ZONE, "PYTHONHASHSEED": "12345", "LC_ALL": "C"},
        umask=0o077,
    )
    normal = baseline(project, architecture, python_version)
    assert varied.sha256 == normal.sha256
    assert varied.report["content-digest"] == normal.report["content-digest"]


def test_poetry_packages_tomli_only_for_python_3_10(
    baseline: Callable[[str, str, str], Built],
) -> None:
    assert "tomli" in top_level_names(baseline("poetry", "x86_64", "3.10"))
    assert "tomli" not in top_level_names(baseline("poetry", "x86_64", "3.12"))


def test_unpinned_build_warns_that_the_package_can_drift(
    baseline: Callable[[str, str, str], Built],
) -> None:
    built = baseline("unpinned", "x86_64", "3.12")
    assert any("not pinned" in warning for warning in built.report["warnings"])


def test_source_date_epoch_dates_every_entry_in_utc(reference: Built, tmp_path: Path) -> None:
    copy = copy_project(REFERENCE[0], tmp_path / "a" / "p")
    # A far time zone proves the date is converted in UTC, not local time.
    dated = run_build(
        copy, tmp_path / "out.zip", env={"SOURCE_DATE_EPOCH": "1700000000", "TZ": FAR_TIME_ZONE}
    )
    with zipfile.ZipFile(dated.zip) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    assert dated.sha256 != reference.sha256
    assert dated.report["content-digest"] == reference.report["content-digest"]


# ---------------------------------------------------------------------------------------------
# One variation at a time, each with the naive way that differs under it


def naive_zip_r(source: Path, output: Path, env: Mapping[str, str | None] | None = None) -> bytes:
    # -X drops Info-ZIP's extra fields (atime, uid), so only mtimes, modes and order remain.
    require_tools("zip")
    subprocess.run(
        ["zip", "-q", "-X", "-r", str(output), "."],
        cwd=source,
        env=tool_env(**(env or {})),
        check=True,
    )
    return output.read_bytes()


def naive_zipfile(
    source: Path,
    output: Path,
    env: Mapping[str, str | None] | None = None,
    wrapper: Sequence[str] = (),
    stamp: bool = False,
) -> bytes:
    # Python's zipfile the obvious way: walk order, ZipInfo.from_file (local-time mtime, mode);
    # `stamp` adds a file with writestr, which dates it with the clock.
    script = (
        "import os, sys, zipfile\n"
        "root, out = sys.argv[1:3]\n"
        "with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:\n"
        "    for d, _, files in os.walk(root):\n"
        "        for f in files:\n"
        "            p = os.path.join(d, f)\n"
        "            z.write(p, os.path.relpath(p, root))\n"
        "    if sys.argv[3:]:\n"
        "        z.writestr('BUILD_INFO', 'built')\n"
    )
    subprocess.run(
        [*wrapper, sys.executable, "-c", script, str(source), str(output), *(["stamp"] * stamp)],
        env=tool_env(**(env or {})),
        check=True,
    )
    return output.read_bytes()


def test_build_directory_and_its_depth_do_not_change_the_zip(
    reference: Built, tmp_path: Path
) -> None:
    shallow = copy_project(REFERENCE[0], tmp_path / "a" / "p")
    deep = copy_project(REFERENCE[0], tmp_path / "b" / "c" / "d" / "e" / "p")
    assert run_build(deep, tmp_path / "deep.zip").sha256 == reference.sha256

    # Naive: compileall without -d embeds the absolute source path in co_filename.
    python = str(interpreter("3.12"))
    for copy in (shallow, deep):
        subprocess.run(
            [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
             str(copy / "src")],
            check=True, env=tool_env(),
        )  # fmt: skip
    pyc = "src/app/__pycache__/handler.cpython-312.pyc"
    assert (shallow / pyc).read_bytes() != (deep / pyc).read_bytes()


def test_umask_077_does_not_change_the_zip(reference: Built, tmp_path: Path) -> None:
    loose = copy_project(REFERENCE[0], tmp_path / "a" / "p")
    tight = copy_project(REFERENCE[0], tmp_path / "b" / "p")
    restrict_like_umask_077(tight)
    built = run_build(tight, tmp_path / "out.zip", umask=0o077)
    assert built.sha256 == reference.sha256
    # Also what the installers wrote under umask 077 (0600 files) comes out 0644.
    assert_follows_the_archive_rules(built, "3.12")

    # Naive: zipfile records the mode each file has on disk.
    assert naive_zipfile(loose / "src", tmp_path / "loose.zip") != naive_zipfile(
        tight / "src", tmp_path / "tight.zip"
    )


def test_time_zone_does_not_change_the_zip(reference: Built, tmp_path: Path) -> None:
    copy = copy_project(REFERENCE[0], tmp_path / "a" / "p")
    for zone in ("UTC", FAR_TIME_ZONE):
        assert run_build(
            copy, tmp_path / f"{zone}.zip".replace("/", "-"), env={"TZ": zone}
        ).sha256 == (reference.sha256)

    # Naive: zipfile turns each mtime into a DOS date through localtime.
    in_utc = naive_zipfile(copy / "src", tmp_path / "utc.zip", env={"TZ": "UTC"})
    far = naive_zipfile(copy / "src", tmp_path / "far.zip", env={"TZ": FAR_TIME_ZONE})
    assert in_utc != far


def available_locales() -> set[str]:
    listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=True).stdout
    return {name.lower().replace("-", "") for name in listed.split()}


def test_locale_does_not_change_the_zip(reference: Built, tmp_path: Path) -> None:
    assert "c.utf8" in available_locales(), "this test needs the C.UTF-8 locale (locale -a)"
    copy = copy_project(REFERENCE[0], tmp_path / "a" / "p")
    builds = {
        name: run_build(copy, tmp_path / f"{name}.zip", env={"LC_ALL": name, "LANG": name})
        for name in ("C", "C.UTF-8")
    }
    assert {built.sha256 for built in builds.values()} == {reference.sha256}

    # A non-ASCII file name is where an encoding would show: stored as UTF-8 either way.
    (copy / "src" / "app" / "data" / "café.txt").write_text("ok\n", encoding="utf-8")
    accented = [
        run_build(copy, tmp_path / f"accented-{name}.zip", env={"LC_ALL": name, "LANG": name})
        for name in ("C", "C.UTF-8")
    ]
    assert accented[0].sha256 == accented[1].sha256
    with zipfile.ZipFile(accented[0].zip) as archive:
        info = archive.getinfo("app/data/café.txt")
        assert info.flag_bits & 0x800

    # Naive: no archiver here changes bytes between C and C.UTF-8 (Python coerces the C locale
    # to UTF-8, Info-ZIP and zipfile write the same bytes, and both locales collate by code
    # point), and no other locale is installed. What does differ is the text encoding a
    # build step gets by default once UTF-8 mode is off, which is what a naive script writing
    # RECORD or a manifest with open(..., "w") would use.
    probe = "import locale, sys; sys.stdout.write(locale.getpreferredencoding(False))"
    encodings = {
        subprocess.run(
            [sys.executable, "-X", "utf8=0", "-c", probe],
            env=tool_env(LC_ALL=name, LANG=name, PYTHONUTF8=None),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for name in ("C", "C.UTF-8")
    }
    assert len(encodings) == 2, encodings
    assert locale.getpreferredencoding(False)  # the test process itself is unaffected


FROZENSET_SOURCE = (
    "def is_greek(word):\n"
    '    return word in {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}\n'
)


@pytest.mark.parametrize("python_version", ["3.10", "3.12"])
def test_hash_seed_does_not_change_the_zip(
    baseline: Callable[[str, str, str], Built], tmp_path: Path, python_version: str
) -> None:
    normal = baseline(REFERENCE[0], REFERENCE[1], python_version)
    copy = copy_project(REFERENCE[0], tmp_path / "a" / "p")
    for seed in ("0", "random", "12345"):
        built = run_build(
            copy, tmp_path / f"{seed}.zip", python_version, env={"PYTHONHASHSEED": seed}
        )
        assert built.sha256 == normal.sha256, seed

    # Naive: on 3.10 a frozenset constant is marshalled in string-hash order (bpo-37596), so
    # py_compile under two seeds gives two .pyc; 3.11 fixed that, so only 3.10 shows it.
    source = tmp_path / "greek.py"
    source.write_text(FROZENSET_SOURCE, encoding="utf-8")
    compiled = set()
    for seed in ("1", "2"):
        output = tmp_path / f"greek-{seed}.pyc"
        subprocess.run(
            [str(interpreter(python_version)), "-c",
             "import py_compile as p, sys; p.compile(sys.argv[1], cfile=sys.argv[2], "
             "dfile='greek.py', doraise=True, "
             "invalidation_mode=p.PycInvalidationMode.UNCHECKED_HASH)",
             str(source), str(output)],
            env=tool_env(PYTHONHASHSEED=seed), check=True,
        )  # fmt: skip
        compiled.add(output.read_bytes())
    assert len(compiled) == (2 if python_version == "3.10" else 1)


def require_faketime() -> None:
    require_tools("faketime")


def test_clock_does_not_change_the_zip(reference: Built, tmp_path: Path) -> None:
    require_faketime()
    copy = copy_project(REFERENCE[0], tmp_path / "a" / "p")
    future = ["faketime", "2031-05-06 07:08:09"]
    # In 2031 the index's TLS certificate has expired, so uv must use the cache the reference
    # build filled (UV_OFFLINE). libfaketime's monotonic clock is left on: with
    # FAKETIME_DONT_FAKE_MONOTONIC=1, Python's subprocess timeouts fail with EINVAL.
    built = run_build(copy, tmp_path / "future.zip", env={"UV_OFFLINE": "1"}, wrapper=future)
    assert built.sha256 == reference.sha256

    # Naive: zipfile's writestr stamps entries with the current time.
    now = naive_zipfile(copy / "src", tmp_path / "now.zip", stamp=True)
    later = naive_zipfile(copy / "src", tmp_path / "later.zip", wrapper=future, stamp=True)
    assert now != later
    with zipfile.ZipFile(tmp_path / "later.zip") as archive:
        assert archive.getinfo("BUILD_INFO").date_time[0] == 2031  # faketime took effect


def test_file_mtimes_do_not_change_the_zip(reference: Built, tmp_path: Path) -> None:
    original = copy_project(REFERENCE[0], tmp_path / "a" / "p")
    touched = copy_project(REFERENCE[0], tmp_path / "b" / "p")
    chance = random.Random(20240607)
    for path in [touched, *touched.rglob("*")]:
        moment = chance.randint(631152000, 1893456000)  # 1990 to 2030
        os.utime(path, (moment, moment))
    assert run_build(touched, tmp_path / "touched.zip").sha256 == reference.sha256

    # Naive: zip -r stores every file's mtime.
    assert naive_zip_r(original / "src", tmp_path / "original-naive.zip") != naive_zip_r(
        touched / "src", tmp_path / "touched-naive.zip"
    )


def ensure_fuse() -> None:
    require_tools("disorderfs", "fusermount")
    if not Path("/dev/fuse").exists():
        subprocess.run(["modprobe", "fuse"], capture_output=True, check=False)
    if not Path("/dev/fuse").exists():
        pytest.fail(
            "/dev/fuse is missing and `modprobe fuse` did not create it: the directory-order "
            "test needs FUSE for disorderfs. Run the tests where FUSE is available (a VM, or a "
            "container started with --device /dev/fuse --cap-add SYS_ADMIN).",
            pytrace=False,
        )


@pytest.fixture
def reversed_listing(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(project copy, the same copy through disorderfs listing every directory in reverse)."""
    ensure_fuse()
    copy = copy_project(REFERENCE[0], tmp_path / "a" / "p")
    mount = tmp_path / "reversed" / "p"
    mount.mkdir(parents=True)
    mounted = subprocess.run(
        ["disorderfs", "--reverse-dirents=yes", "--quiet", str(copy), str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.fail(
            f"disorderfs could not mount {copy}: {mounted.stderr.strip()}. The directory-order "
            "test needs a working FUSE (/dev/fuse and permission to mount).",
            pytrace=False,
        )
    try:
        yield copy, mount
    finally:
        subprocess.run(["fusermount", "-u", str(mount)], check=False)


def test_directory_listing_order_does_not_change_the_zip(
    reference: Built, reversed_listing: tuple[Path, Path], tmp_path: Path
) -> None:
    copy, mount = reversed_listing
    plain_order = [entry.name for entry in os.scandir(copy / "src" / "app")]
    reversed_order = [entry.name for entry in os.scandir(mount / "src" / "app")]
    assert reversed_order == plain_order[::-1] and len(plain_order) > 1
    assert run_build(mount, tmp_path / "reversed.zip").sha256 == reference.sha256

    # Naive: zip -r adds files in readdir order.
    assert naive_zip_r(copy / "src", tmp_path / "plain.zip") != naive_zip_r(
        mount / "src", tmp_path / "reversed-naive.zip"
    )


def exported_requirements(project: str, destination: Path) -> Path:
    subprocess.run(
        [uv_binary(), "export", "--directory", str(PROJECTS / project), "--frozen", "--no-dev",
         "--no-emit-project", "--format", "requirements-txt", "-o", str(destination), "-q"],
        env=tool_env(), check=True,
    )  # fmt: skip
    return destination


def raw_uv_install(requirements: Path, target: Path, cache: str | None = None) -> Path:
    # What people do by hand: uv pip install --target, bytecode included.
    subprocess.run(
        [uv_binary(), "pip", "install", "-q", "--target", str(target),
         "--python", str(interpreter("3.12")), "--python-platform", "x86_64-manylinux_2_17",
         "--python-version", "3.12", "--no-deps", "--compile-bytecode",
         "-r", str(requirements)],
        env=tool_env(**({"UV_CACHE_DIR": cache} if cache else {})), check=True,
    )  # fmt: skip
    return target


def pyc_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.pyc"))}


def test_cold_and_warm_cache_give_the_same_zip(reference: Built, tmp_path: Path) -> None:
    copy = copy_project(REFERENCE[0], tmp_path / "a" / "p")
    cold = str(tmp_path / "cold-cache")
    assert run_build(copy, tmp_path / "cold.zip", env={"UV_CACHE_DIR": cold}).sha256 == (
        reference.sha256
    )

    # Naive: uv's own bytecode records each source's mtime, which is when the wheel was
    # unpacked into the cache, so a warm cache and a cold one give other .pyc headers.
    requirements = exported_requirements(REFERENCE[0], tmp_path / "requirements.txt")
    warm_tree = raw_uv_install(requirements, tmp_path / "warm-target")
    cold_tree = raw_uv_install(requirements, tmp_path / "cold-target", str(tmp_path / "cold-2"))
    warm_pyc, cold_pyc = pyc_files(warm_tree), pyc_files(cold_tree)
    assert warm_pyc.keys() == cold_pyc.keys() and warm_pyc
    assert warm_pyc != cold_pyc


def test_cpu_count_does_not_change_the_zip(
    baseline: Callable[[str, str, str], Built], tmp_path: Path
) -> None:
    require_tools("taskset")
    # 3.10 is where the grouping of files into compiler processes changes marshal output.
    normal = baseline(REFERENCE[0], REFERENCE[1], "3.10")
    copy = copy_project(REFERENCE[0], tmp_path / "a" / "p")
    for jobs in ("1", "2", "7"):
        built = run_build(copy, tmp_path / f"jobs-{jobs}.zip", "3.10", args=["--jobs", jobs])
        assert built.sha256 == normal.sha256, jobs
    one_cpu = run_build(copy, tmp_path / "one-cpu.zip", "3.10", wrapper=["taskset", "-c", "0"])
    assert one_cpu.sha256 == normal.sha256

    # Naive: compileall serially versus with two workers, the seed fixed so that only the
    # grouping differs: FLAG_REF on strings depends on what the same process compiled before.
    python = str(interpreter("3.10"))
    target = tmp_path / "dependencies"
    subprocess.run(
        [uv_binary(), "pip", "install", "-q", "--target", str(target), "--python", python,
         "--python-platform", "x86_64-manylinux_2_17", "--python-version", "3.10", "--no-deps",
         "-r", str(exported_requirements(REFERENCE[0], tmp_path / "requirements.txt"))],
        env=tool_env(), check=True,
    )  # fmt: skip
    trees = {}
    for workers in ("1", "2"):
        tree = tmp_path / f"compiled-{workers}"
        shutil.copytree(target, tree)
        subprocess.run(
            [python, "-m", "compileall", "-q", "-j", workers, "-d", "/var/task",
             "--invalidation-mode", "unchecked-hash", str(tree)],
            env=tool_env(PYTHONHASHSEED="0"), check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        trees[workers] = pyc_files(tree)
    assert trees["1"].keys() == trees["2"].keys()
    assert trees["1"] != trees["2"]


@pytest.mark.parametrize("project", LOCKED_PROJECTS)
def test_uv_and_pip_give_the_same_zip(
    baseline: Callable[[str, str, str], Built], tmp_path: Path, project: str
) -> None:
    copy = copy_project(project, tmp_path / "a" / "p")
    with_pip = run_build(copy, tmp_path / "pip.zip", installer="pip")
    assert with_pip.sha256 == baseline(project, "x86_64", "3.12").sha256

    # Naive: the installers' own trees differ (INSTALLER, RECORD's script and .pyc rows).
    requirements = PROJECTS / "reqhash" / "requirements.txt"
    uv_tree = tmp_path / "uv-target"
    pip_tree = tmp_path / "pip-target"
    python = str(interpreter("3.12"))
    subprocess.run(
        [uv_binary(), "pip", "install", "-q", "--target", str(uv_tree), "--python", python,
         "--python-platform", "x86_64-manylinux_2_17", "--python-version", "3.12",
         "--no-deps", "--require-hashes", "-r", str(requirements)],
        env=tool_env(), check=True,
    )  # fmt: skip
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--target", str(pip_tree), "--no-deps",
         "--require-hashes", "--disable-pip-version-check", "--platform",
         "manylinux2014_x86_64", "--only-binary=:all:", "-r", str(requirements)],
        env=tool_env(), check=True,
    )  # fmt: skip
    dist_info = "six-1.17.0.dist-info"
    assert (uv_tree / dist_info / "INSTALLER").read_text() != (
        pip_tree / dist_info / "INSTALLER"
    ).read_text()
    assert (uv_tree / dist_info / "RECORD").read_bytes() != (
        pip_tree / dist_info / "RECORD"
    ).read_bytes()


def test_local_path_dependency_gives_the_same_zip_with_uv_and_pip(tmp_path: Path) -> None:
    project = tmp_path / "project"
    package = project / "lib" / "tinylib"
    package.mkdir(parents=True)
    (project / "lib" / "pyproject.toml").write_text(
        '[project]\nname = "tinylib"\nversion = "1.0"\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    (package / "__init__.py").write_text("X = 1\n")
    (project / "src").mkdir()
    (project / "src" / "handler.py").write_text("import tinylib\n")
    # Relative to the requirements file, not to where the build runs.
    (project / "requirements.txt").write_text("./lib\n")
    with_uv = run_build(project, tmp_path / "uv.zip")
    with_pip = run_build(project, tmp_path / "pip.zip", installer="pip")
    assert with_uv.sha256 == with_pip.sha256
    assert "tinylib/__init__.py" in with_uv.names()

    # Naive: uv records cache keys with timestamps beside a package it built from a directory.
    target = tmp_path / "uv-target"
    subprocess.run(
        [uv_binary(), "pip", "install", "-q", "--target", str(target),
         "--python", str(interpreter("3.12")), "./lib"],
        cwd=project, env=tool_env(), check=True,
    )  # fmt: skip
    assert (target / "tinylib-1.0.dist-info" / "uv_cache.json").is_file()

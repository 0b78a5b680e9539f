"""Every zip the tool writes is read the same way by independent implementations.

Info-ZIP (`unzip -t`, `zipinfo`, extraction), libarchive (`bsdtar -tvf`, `bsdtar -xf`), 7-Zip
(`7z t`, `7z x`) and Python's zipfile must each accept the archive, list the same names and
extract the same bytes, and the project's source files must come out as they are on disk.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambda_zip_action.archive import write_zip
from lambda_zip_action.stage import StagedFile, merge

from support import PROJECTS, build_project, interpreter, require_tools, tool_env

NON_ASCII_NAME = "app/data/naïve-日本.txt"
# Readers print and write names in the locale's encoding: make it UTF-8 whatever the host says.
READER_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}


def build(project: Path, output: Path, *options: str) -> dict[str, Any]:
    return build_project(project, output, "--architecture", "x86_64", *options)


def copy_project(name: str, destination: Path) -> Path:
    shutil.copytree(PROJECTS / name, destination)
    return destination


def run_reader(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=READER_ENV, cwd=cwd, capture_output=True, text=True, check=False
    )


def tree_files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def read_with_every_reader(archive: Path, scratch: Path, extract: bool = True) -> dict[str, bytes]:
    """Assert every reader accepts `archive` and they agree; return its files' contents.

    With `extract`, each external reader also extracts it and must produce the same tree.
    """
    require_tools("unzip", "zipinfo", "bsdtar", "7z")
    with zipfile.ZipFile(archive) as reader:
        assert reader.testzip() is None
        names = reader.namelist()
        files = {i.filename: reader.read(i) for i in reader.infolist() if not i.is_dir()}
    assert len(names) == len(set(names))

    tested = run_reader("unzip", "-t", str(archive))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "No errors detected in compressed data" in tested.stdout

    listed = run_reader("zipinfo", "-1", str(archive))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == names
    verbose = run_reader("zipinfo", str(archive))
    assert verbose.returncode == 0, verbose.stderr
    assert f"number of entries: {len(names)}" in verbose.stdout

    listed = run_reader("bsdtar", "-tf", str(archive))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == names
    verbose = run_reader("bsdtar", "-tvf", str(archive))
    assert verbose.returncode == 0, verbose.stderr
    assert len(verbose.stdout.splitlines()) == len(names)

    tested = run_reader("7z", "t", str(archive))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "Everything is Ok" in tested.stdout

    if not extract:
        return files
    extractions = {
        "unzip": ["unzip", "-q", str(archive), "-d", "{}"],
        "bsdtar": ["bsdtar", "-xf", str(archive), "-C", "{}"],
        "7z": ["7z", "x", "-y", "-bd", str(archive), "-o{}"],
    }
    for reader_name, argv in extractions.items():
        target = scratch / reader_name
        target.mkdir(parents=True)
        extracted = run_reader(*(a.replace("{}", str(target)) for a in argv))
        assert extracted.returncode == 0, f"{reader_name}: {extracted.stdout}{extracted.stderr}"
        assert tree_files(target) == files, f"{reader_name} extracted other files or bytes"
        directories = {n.rstrip("/") for n in names if n.endswith("/")}
        found = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_dir()}
        assert found == directories, reader_name
    return files


def assert_sources_packed(files: dict[str, bytes], source: Path, prefix: str = "") -> None:
    on_disk = tree_files(source)
    assert on_disk
    for name, data in on_disk.items():
        assert files[prefix + name] == data, name


BUILD_OPTIONS = [
    (),
    ("--layout", "layer"),
    ("--compression-level", "0"),
    ("--compression-level", "9"),
]


@pytest.mark.parametrize("options", BUILD_OPTIONS, ids=lambda o: "-".join(o) or "default")
def test_builds_are_read_alike(options: tuple[str, ...], tmp_path: Path) -> None:
    document = build(PROJECTS / "uvlock", tmp_path / "lambda.zip", *options)

    files = read_with_every_reader(tmp_path / "lambda.zip", tmp_path / "readers")

    prefix = "python/" if "layer" in options else ""
    assert_sources_packed(files, PROJECTS / "uvlock" / "src", prefix)
    assert f"{prefix}markupsafe/__init__.py" in files
    assert f"{prefix}app/__pycache__/handler.cpython-312.pyc" in files
    with zipfile.ZipFile(tmp_path / "lambda.zip") as archive:
        assert len(archive.infolist()) == document["entries"]
        methods = {i.compress_type for i in archive.infolist() if i.file_size}
    if "0" in options:
        assert methods == {zipfile.ZIP_STORED}
    else:
        assert methods == {zipfile.ZIP_DEFLATED}


def test_sources_only_non_ascii_and_empty_files(tmp_path: Path) -> None:
    project = tmp_path / "project"
    source = project / "src"
    (source / "app" / "data").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "plain"\nversion = "1"\n')
    (source / "app" / "__init__.py").write_text("")
    (source / "app" / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (source / NON_ASCII_NAME).write_text("naïve\n", encoding="utf-8")
    (source / "app" / "data" / "empty.bin").write_bytes(b"")
    document = build(project, tmp_path / "lambda.zip")
    assert document["distributions"] == []

    files = read_with_every_reader(tmp_path / "lambda.zip", tmp_path / "readers")

    assert_sources_packed(files, source)
    assert files["app/data/empty.bin"] == b""
    assert files[NON_ASCII_NAME] == "naïve\n".encode()
    with zipfile.ZipFile(tmp_path / "lambda.zip") as archive:
        infos = {i.filename: i for i in archive.infolist()}
    # The UTF-8 flag (bit 11) is set exactly where the name needs it.
    assert infos[NON_ASCII_NAME].flag_bits & 0x800
    assert not any(i.flag_bits & 0x800 for n, i in infos.items() if n.isascii())
    assert infos["app/data/empty.bin"].compress_type == zipfile.ZIP_STORED
    assert infos["app/data/empty.bin"].compress_size == 0


def test_nothing_to_pack_is_refused_and_an_empty_zip_is_what_readers_call_empty(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "nothing"\nversion = "1"\n')
    completed = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(project),
         "--python-version", "3.12", "--python", str(interpreter("3.12")),
         "--output", str(tmp_path / "lambda.zip")],
        env=tool_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "Nothing to package" in completed.stderr
    assert not (tmp_path / "lambda.zip").exists()

    # What the build refuses to ship: Info-ZIP calls it empty (exit code 1, a warning).
    archive = tmp_path / "empty.zip"
    with archive.open("wb") as stream:
        write_zip([], stream, 6, None)
    assert archive.read_bytes() == b"PK\x05\x06" + bytes(18)
    with zipfile.ZipFile(archive) as reader:
        assert reader.testzip() is None
        assert reader.namelist() == []
    for argv in (["unzip", "-t", str(archive)], ["zipinfo", str(archive)]):
        checked = run_reader(*argv)
        assert checked.returncode == 1
        assert "empty" in (checked.stdout + checked.stderr).lower()
    assert run_reader("bsdtar", "-tvf", str(archive)).stdout == ""


def test_more_than_65535_entries_use_zip64_end_records(tmp_path: Path) -> None:
    count = 70_000
    payload = tmp_path / "payload.txt"
    payload.write_bytes(b"x\n")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    files = [
        StagedFile(
            f"d{i // 1000:02d}/f{i:05d}.txt", empty if i % 7 == 0 else payload, 0o644, "source"
        )
        for i in range(count)
    ]
    entries = merge(files, layer=False)
    with (tmp_path / "many.zip").open("wb") as out:
        result = write_zip(entries, out, 6, None, workers=2)
    assert len(result.entries) == len(entries) == count + 70

    data = (tmp_path / "many.zip").read_bytes()
    end = data[-22:]
    assert end[:4] == b"PK\x05\x06"
    assert struct.unpack("<HH", end[8:12]) == (0xFFFF, 0xFFFF)
    locator = data[-42:-22]
    assert locator[:4] == b"PK\x06\x07"
    (zip64_end,) = struct.unpack("<Q", locator[8:16])
    assert data[zip64_end : zip64_end + 4] == b"PK\x06\x06"
    assert struct.unpack("<QQ", data[zip64_end + 24 : zip64_end + 40]) == (len(entries),) * 2

    # Extracting 70,000 files three times costs minutes; testing and listing read every record.
    extracted = read_with_every_reader(tmp_path / "many.zip", tmp_path / "readers", extract=False)
    assert len(extracted) == count
    assert extracted["d00/f00000.txt"] == b""
    assert extracted["d69/f69999.txt"] == b"x\n"

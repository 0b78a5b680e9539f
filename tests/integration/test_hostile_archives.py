"""Hostile archives through `lambda-zip diff` and `lambda-zip inspect`, as a user runs them.

test_zipread.py and test_inspection.py cover the reader's findings one by one (traversal names,
encrypted entries, lying sizes, overlapping and honest bombs, 100,000 entries, truncation).
Here: what those leave out (nesting, a 200,000-entry directory, 65,535-byte names, lying zip64
fields) and, for every hostile archive, the command line's contract: exit 0, 1 or 2, at most
one `lambda-zip: ... error:` line, never a traceback, and nothing written (the commands run in
an empty directory that must stay empty).
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_zip_action.archive import write_zip
from lambda_zip_action.errors import ArchiveReadError
from lambda_zip_action.proof.inspect import inspect_zip
from lambda_zip_action.stage import StagedFile
from lambda_zip_action.zip.budget import ReadLimits
from lambda_zip_action.zip.reader import read_archive

import zipcraft
from support import tool_env
from zipcraft import Member

ERROR_PREFIX = "lambda-zip: archive error: "


def cli(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in an empty directory; assert the contract every hostile input must keep."""
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    before = sorted(p.name for p in tmp_path.iterdir())
    completed = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", *argv],
        cwd=cwd,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode in (0, 1, 2), completed.stderr
    assert "Traceback" not in completed.stderr, completed.stderr
    errors = [line for line in completed.stderr.splitlines() if line.startswith("lambda-zip:")]
    if completed.returncode == 2:
        assert completed.stderr.count("\n") == 1, completed.stderr
        assert errors == [completed.stderr.rstrip("\n")]
        assert completed.stderr.startswith(ERROR_PREFIX), completed.stderr
    else:
        assert errors == [], completed.stderr
    assert list(cwd.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    return completed


def diff_and_inspect(tmp_path: Path, archive: Path) -> tuple[int, int]:
    clean = zipcraft.deterministic(tmp_path / "clean.zip", {"a.py": b"a"})
    diffed = cli(tmp_path, "diff", str(clean), str(archive))
    inspected = cli(tmp_path, "inspect", str(archive), "--format", "json")
    return diffed.returncode, inspected.returncode


# --- nesting ---------------------------------------------------------------------------------


def test_zips_nested_three_deep_are_not_opened(tmp_path: Path) -> None:
    inner = zipcraft.deterministic(tmp_path / "inner.zip", {"bomb.txt": b"\0" * (1 << 20)})
    middle = zipcraft.deterministic(tmp_path / "middle.zip", {"inner.zip": inner.read_bytes()})
    outer = zipcraft.deterministic(tmp_path / "outer.zip", {"middle.zip": middle.read_bytes()})
    result = inspect_zip(outer, None, None)
    assert result.summary.entries == 1
    assert result.summary.unzipped_size == middle.stat().st_size
    assert diff_and_inspect(tmp_path, outer) == (1, 0)


def test_a_zip_that_contains_itself(tmp_path: Path) -> None:
    """A quine-like zip: one stored entry whose data span is the whole file, headers included."""
    path = tmp_path / "quine.zip"
    name = b"quine.zip"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 33, 0, 0, 0, len(name), 0)
    head = local + name
    central_size = 46 + len(name)
    total = len(head) + central_size + 22
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 0x314, 20, 0, 0, 0, 33, 0, total, total,
        len(name), 0, 0, 0, 0, 0o100644 << 16, 0,
    )  # fmt: skip
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, central_size, len(head), 0)
    path.write_bytes(head + central + name + eocd)
    codes = {f.code for f in read_archive(path).findings}
    assert "data-out-of-bounds" in codes
    assert diff_and_inspect(tmp_path, path) == (2, 1)


def test_overlapping_bomb_through_the_command_line(tmp_path: Path) -> None:
    data = b"\0" * (4 << 20)
    members = [Member(b"kernel", data, method=8)] + [
        Member(f"c{i}".encode(), data, method=8, offset=0) for i in range(60)
    ]
    path = zipcraft.craft(tmp_path / "fifield.zip", members)
    diffed, inspected = diff_and_inspect(tmp_path, path)
    assert (diffed, inspected) == (2, 1)


# --- size of the directory and of names ----------------------------------------------------


def many_entries(path: Path, count: int) -> Path:
    entries = [StagedFile(f"d{i:06d}/", None, 0o755, "source") for i in range(count)]
    with path.open("wb") as stream:
        write_zip(entries, stream, 6, None)
    return path


@pytest.mark.slow  # about a minute and a half: tracemalloc slows the parse several times over
def test_two_hundred_thousand_entries_in_bounded_memory(tmp_path: Path) -> None:
    """Past the entry limit (ReadLimits.max_entries, 100,000) the tools refuse the zip at once
    with a clear error; a reader allowed more parses it in memory that follows the entries."""
    count = 200_000
    path = many_entries(tmp_path / "many.zip", count)
    tracemalloc.start()
    try:
        archive = read_archive(path, ReadLimits(max_entries=count))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(archive.entries) == count and archive.zip64
    # The parsed directory: about 1 KiB an entry (the raw directory is ~55 bytes an entry).
    assert peak < count * 1024, peak
    with pytest.raises(ArchiveReadError, match="claims 200000 entries, more than the 100000"):
        read_archive(path)
    assert diff_and_inspect(tmp_path, path) == (2, 2)


def test_a_count_that_claims_more_than_the_directory_holds(tmp_path: Path) -> None:
    data = bytearray(many_entries(tmp_path / "many.zip", 70_000).read_bytes())
    # The zip64 end record's two counts: claim 2**40 entries.
    record = data.rfind(struct.pack("<I", 0x06064B50))
    struct.pack_into("<QQ", data, record + 24, 1 << 40, 1 << 40)
    lying = tmp_path / "lying.zip"
    lying.write_bytes(bytes(data))
    with pytest.raises(ArchiveReadError, match="claims 1099511627776 entries"):
        read_archive(lying)
    assert diff_and_inspect(tmp_path, lying) == (2, 2)


def test_names_of_65535_bytes(tmp_path: Path) -> None:
    long_name = b"d/" * 1000 + b"x" * (65_535 - 2000)
    unicode_name = ("é" * 32_767).encode()  # 65,534 bytes of two-byte characters
    path = zipcraft.craft(
        tmp_path / "long.zip",
        [Member(long_name, b"a"), Member(unicode_name, b"b", flags=0x800)],
    )
    archive = read_archive(path)
    assert [len(e.name_bytes) for e in archive.entries] == [65_535, 65_534]
    with zipfile.ZipFile(path) as zf:
        assert zf.read(long_name.decode()) == b"a"
    assert diff_and_inspect(tmp_path, path) == (1, 0)


def with_peak_memory(tmp_path: Path, *argv: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """cli(), run under a parent of its own that reports the peak RSS of its one child (MiB).

    RUSAGE_CHILDREN holds the largest child a process ever waited for, so pytest's own would
    mix this run with every earlier one.
    """
    parent = (
        "import json, resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(json.dumps([done.returncode, done.stdout, done.stderr,\n"
        "                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
    )
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    measured = subprocess.run(
        [sys.executable, "-c", parent, sys.executable, "-m", "lambda_zip_action", *argv],
        cwd=cwd, env=tool_env(), capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    returncode, stdout, stderr, peak_kib = json.loads(measured.stdout)
    assert list(cwd.iterdir()) == []
    return subprocess.CompletedProcess(argv, returncode, stdout, stderr), peak_kib // 1024


def long_names(path: Path, count: int, length: int) -> Path:
    """`count` directory entries written by the tool's own writer, each name `length` long."""
    pad = "n" * (length - 7)
    entries = [StagedFile(f"{i:06d}{pad}/", None, 0o755, "source") for i in range(count)]
    with path.open("wb") as stream:
        write_zip(entries, stream, 6, None)
    return path


def test_99000_long_names_are_refused_at_once_in_bounded_memory(tmp_path: Path) -> None:
    """Under the entry limit, names of 4 KiB took `diff` to 1.8 GiB; 400 bytes here (a 45 MB
    directory) took it to 230 MiB and exit 1 before the directory had a size limit."""
    clean = zipcraft.deterministic(tmp_path / "clean.zip", {"a.py": b"a"})
    path = long_names(tmp_path / "names.zip", 99_000, 400)
    for argv in (("diff", str(clean), str(path)), ("inspect", str(path))):
        completed, peak_mib = with_peak_memory(tmp_path, *argv)
        assert completed.returncode == 2, completed.stderr[-2000:]
        assert completed.stdout == ""
        [line] = completed.stderr.splitlines()
        assert line.startswith(f"{ERROR_PREFIX}{path} is refused: its central directory holds ")
        assert "accepts at most 33554432" in line
        assert peak_mib < 80, peak_mib
    with pytest.raises(ArchiveReadError, match="its central directory holds"):
        read_archive(path)
    # The reader still parses such a zip when it is allowed to: the limit, not damage, refused it.
    allowed = read_archive(path, ReadLimits(max_header_bytes=64 << 20))
    assert len(allowed.entries) == 99_000


def test_long_local_extra_fields_are_bounded_too(tmp_path: Path) -> None:
    """A small central directory whose local headers each carry 64 KiB of extra field."""
    field = struct.pack("<HH", 0x9999, 65_000) + b"x" * 65_000
    members = [Member(f"f{i:04d}".encode(), b"a", extra=field) for i in range(600)]
    path = zipcraft.craft(tmp_path / "extras.zip", members)
    with pytest.raises(ArchiveReadError, match="local headers hold at least 33"):
        read_archive(path)
    assert diff_and_inspect(tmp_path, path) == (2, 2)


def test_empty_extra_fields_by_the_thousand_are_not_all_parsed(tmp_path: Path) -> None:
    """4-byte empty fields filling 500 central records of 64 KiB: under the directory limit,
    but 8 million parsed fields took `diff` to 540 MiB before fields were counted."""
    clean = zipcraft.deterministic(tmp_path / "clean.zip", {"a.py": b"a"})
    empty_fields = b"\0" * 65_532
    members = [Member(f"f{i:04d}".encode(), central_extra=empty_fields) for i in range(500)]
    path = zipcraft.craft(tmp_path / "empty-fields.zip", members)
    completed, peak_mib = with_peak_memory(tmp_path, "diff", str(clean), str(path))
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    assert peak_mib < 160, peak_mib
    archive = read_archive(path)
    assert all(len(entry.extra) == 16 for entry in archive.entries)
    assert {f.code for f in archive.findings} == {"bad-extra-field"}


# --- zip64 fields that lie -------------------------------------------------------------------

SATURATED = 0xFFFFFFFF


def zip64_entry(
    path: Path,
    data: bytes = b"hello" * 100,
    size: int | None = None,
    compressed: int | None = None,
    offset: int | None = None,
    extra_length: int | None = None,
) -> Path:
    """One deflated entry whose central record saturates its sizes and offset to a zip64 extra."""
    payload = zlib.compress(data)[2:-4]
    crc = zlib.crc32(data)
    name = b"data.bin"
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 33, crc, len(payload), len(data), len(name), 0
    )
    body = local + name + payload
    fields = struct.pack(
        "<QQQ",
        len(data) if size is None else size,
        len(payload) if compressed is None else compressed,
        0 if offset is None else offset,
    )
    extra = struct.pack("<HH", 1, len(fields) if extra_length is None else extra_length) + fields
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 0x32D, 45, 0, 8, 0, 33, crc, SATURATED, SATURATED,
        len(name), len(extra), 0, 0, 0, 0o100644 << 16, SATURATED,
    ) + name + extra  # fmt: skip
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(body), 0)
    path.write_bytes(body + central + eocd)
    return path


def zip64_end(
    path: Path,
    count: int = 1,
    size: int | None = None,
    offset: int | None = None,
    locator: int | None = None,
) -> Path:
    """An honest one-entry zip behind a zip64 end record that says what it is told."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        info = zipfile.ZipInfo("a.txt", zipcraft.FIXED)
        info.external_attr = 0o100644 << 16
        zf.writestr(info, b"a")
    data = buffer.getvalue()
    eocd = data.rfind(struct.pack("<I", 0x06054B50))
    honest_size, honest_offset = struct.unpack_from("<II", data, eocd + 12)
    body = data[:eocd]
    record = struct.pack(
        "<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
        honest_size if size is None else size, honest_offset if offset is None else offset,
    )  # fmt: skip
    where = len(body) if locator is None else locator
    locator_record = struct.pack("<IIQI", 0x07064B50, 0, where, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, SATURATED, SATURATED, 0)
    path.write_bytes(body + record + locator_record + end)
    return path


HUGE = (1 << 64) - 1

LYING_ENTRIES: dict[str, Callable[[Path], Path]] = {
    "size-2**64-1": lambda p: zip64_entry(p, size=HUGE),
    "compressed-2**64-1": lambda p: zip64_entry(p, compressed=HUGE),
    "compressed-2**63": lambda p: zip64_entry(p, compressed=1 << 63),
    "offset-2**64-1": lambda p: zip64_entry(p, offset=HUGE),
    "offset-2**63": lambda p: zip64_entry(p, offset=1 << 63),
    "offset-past-end": lambda p: zip64_entry(p, offset=1 << 40),
    "extra-cut-short": lambda p: zip64_entry(p, extra_length=12),
    "extra-overruns-record": lambda p: zip64_entry(p, extra_length=200),
}

LYING_ENDS: dict[str, Callable[[Path], Path]] = {
    "count-2**64-1": lambda p: zip64_end(p, count=HUGE),
    "count-2**32": lambda p: zip64_end(p, count=1 << 32),
    "directory-size-2**64-1": lambda p: zip64_end(p, size=HUGE),
    "directory-size-0": lambda p: zip64_end(p, size=0),
    "directory-offset-2**64-1": lambda p: zip64_end(p, offset=HUGE),
    "directory-offset-2**63": lambda p: zip64_end(p, offset=1 << 63),
}

LYING_LOCATORS: dict[str, Callable[[Path], Path]] = {
    "locator-2**64-1": lambda p: zip64_end(p, locator=HUGE),
    "locator-2**63": lambda p: zip64_end(p, locator=1 << 63),
    "locator-past-end": lambda p: zip64_end(p, locator=1 << 40),
    "locator-at-0": lambda p: zip64_end(p, locator=0),
}


@pytest.mark.parametrize("make", list(LYING_ENTRIES.values()), ids=list(LYING_ENTRIES))
def test_lying_zip64_entry_fields(make: Callable[[Path], Path], tmp_path: Path) -> None:
    path = make(tmp_path / "lying.zip")
    diffed, inspected = diff_and_inspect(tmp_path, path)
    assert diffed == 2  # nothing to compare: the entry cannot be read as it claims
    assert inspected == 1  # the reason is an error finding


@pytest.mark.parametrize("make", list(LYING_ENDS.values()), ids=list(LYING_ENDS))
def test_lying_zip64_end_records(make: Callable[[Path], Path], tmp_path: Path) -> None:
    path = make(tmp_path / "lying.zip")
    with pytest.raises(ArchiveReadError, match="cannot be read as a zip"):
        read_archive(path)
    assert diff_and_inspect(tmp_path, path) == (2, 2)


@pytest.mark.parametrize("make", list(LYING_LOCATORS.values()), ids=list(LYING_LOCATORS))
def test_a_lying_zip64_locator_falls_back_to_the_record_before_it(
    make: Callable[[Path], Path], tmp_path: Path
) -> None:
    path = make(tmp_path / "lying.zip")
    assert [e.name for e in read_archive(path).entries] == ["a.txt"]
    assert diff_and_inspect(tmp_path, path) == (1, 0)


def test_an_entry_larger_than_its_zip64_size(tmp_path: Path) -> None:
    path = zip64_entry(tmp_path / "lying.zip", size=10)
    diffed, inspected = diff_and_inspect(tmp_path, path)
    assert diffed == 2
    # Both read every entry through the bounded reader and stop at the declared size.
    assert inspected == 1

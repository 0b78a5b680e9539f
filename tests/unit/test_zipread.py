from __future__ import annotations

import hashlib
import os
import subprocess
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from lambda_zip_action.errors import ArchiveReadError
from lambda_zip_action.zip.format import (
    EXTRA_EXTENDED_TIMESTAMP,
    EXTRA_UNIX_IDS,
    extended_timestamp,
    unix_ids,
)
from lambda_zip_action.zip.reader import ZipReader, read_archive

import zipcraft
from zipcraft import Member


def codes(path: Path) -> set[tuple[str, str | None]]:
    return {(f.code, f.entry) for f in read_archive(path).findings}


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "a.py").write_text("print('a')\n")
    (root / "sub" / "b.txt").write_bytes(b"b" * 100_000)
    return root


def info_zip(package: Path, out: Path, *options: str) -> Path:
    subprocess.run(
        ["zip", "-q", "-r", *options, str(out), package.name], cwd=package.parent, check=True
    )
    return out


def test_info_zip_fields_and_extra_fields(package: Path, tmp_path: Path) -> None:
    archive = read_archive(info_zip(package, tmp_path / "a.zip"))
    assert archive.findings == ()
    by_name = {e.name: e for e in archive.entries}
    assert set(by_name) == {"pkg/", "pkg/a.py", "pkg/sub/", "pkg/sub/b.txt"}
    entry = by_name["pkg/a.py"]
    assert entry.create_system == 3
    assert entry.mode == 0o100000 | (package / "a.py").stat().st_mode & 0o777
    assert by_name["pkg/sub/"].is_dir
    assert entry.local is not None
    local_ids = [f.header_id for f in entry.local.extra]
    assert EXTRA_EXTENDED_TIMESTAMP in local_ids and EXTRA_UNIX_IDS in local_ids
    local_ts = extended_timestamp(dict((f.header_id, f.data) for f in entry.local.extra)[0x5455])
    central_ts = extended_timestamp(dict((f.header_id, f.data) for f in entry.extra)[0x5455])
    assert set(local_ts) == {"mtime", "atime"}
    assert set(central_ts) == {"mtime"}  # the central copy never holds atime
    assert local_ts["mtime"] == int((package / "a.py").stat().st_mtime)
    ids = unix_ids(dict((f.header_id, f.data) for f in entry.local.extra)[0x7875])
    assert ids == {"uid": os.getuid(), "gid": os.getgid()}


def test_zip_minus_x_has_no_extra_fields(package: Path, tmp_path: Path) -> None:
    archive = read_archive(info_zip(package, tmp_path / "a.zip", "-X"))
    assert all(
        e.extra == () and e.local is not None and e.local.extra == () for e in archive.entries
    )


def test_hash_matches_content_and_crc(package: Path, tmp_path: Path) -> None:
    with ZipReader(info_zip(package, tmp_path / "a.zip")) as reader:
        entry = next(e for e in reader.archive.entries if e.name == "pkg/sub/b.txt")
        assert entry.method == 8
        content = reader.hash_entry(entry)
        assert reader.read_head(entry, 5) == b"bbbbb"
    assert content.sha256 == hashlib.sha256(b"b" * 100_000).hexdigest()
    assert content.size == 100_000 and content.crc_ok and content.finding is None


def test_python_zipfile_windows_and_data_descriptor(tmp_path: Path) -> None:
    stream = zipcraft.NonSeekable()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("win.txt")
        info.create_system = 0
        zf.writestr(info, b"windows")
        zf.writestr("unix.txt", b"unix" * 100)
    path = tmp_path / "dd.zip"
    path.write_bytes(bytes(stream.data))
    with ZipReader(path) as reader:
        archive = reader.archive
        assert archive.findings == ()
        win, unix = archive.entries
        assert win.create_system == 0 and unix.create_system == 3
        assert win.has_data_descriptor and unix.has_data_descriptor
        assert win.local is not None and win.local.crc == 0  # sizes live in the descriptor
        assert win.local.data_end == win.local.data_offset + win.compressed_size + 16
        assert reader.hash_entry(unix).sha256 == hashlib.sha256(b"unix" * 100).hexdigest()


def test_deterministic_writer_is_clean(tmp_path: Path) -> None:
    path = zipcraft.deterministic(tmp_path / "d.zip", {"b.py": b"b", "a/": b"", "a/x.py": b"x"})
    archive = read_archive(path)
    assert archive.findings == ()
    assert [e.name for e in archive.entries] == ["a/", "a/x.py", "b.py"]
    assert {e.date_time for e in archive.entries} == {zipcraft.FIXED}


@pytest.mark.parametrize("cut", [1, 10, 22, 100, 0.5, 0.9])
def test_truncated_archives_raise(package: Path, tmp_path: Path, cut: float) -> None:
    data = info_zip(package, tmp_path / "a.zip").read_bytes()
    keep = int(len(data) * cut) if isinstance(cut, float) else len(data) - cut
    truncated = tmp_path / "cut.zip"
    truncated.write_bytes(data[:keep])
    with pytest.raises(ArchiveReadError, match="cannot be read as a zip"):
        read_archive(truncated)


def test_empty_and_non_zip_files_raise(tmp_path: Path) -> None:
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    with pytest.raises(ArchiveReadError, match="empty"):
        read_archive(empty)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 1000)
    with pytest.raises(ArchiveReadError, match="no end-of-central-directory"):
        read_archive(text)
    with pytest.raises(ArchiveReadError, match="Cannot open"):
        read_archive(tmp_path / "missing.zip")


def test_entry_count_claim_beyond_file_size_raises(tmp_path: Path) -> None:
    path = zipcraft.craft(tmp_path / "count.zip", [Member(b"a.txt", b"a")], count=60_000)
    with pytest.raises(ArchiveReadError, match="claims 60000 entries"):
        read_archive(path)


def test_hostile_names(tmp_path: Path) -> None:
    path = zipcraft.craft(
        tmp_path / "names.zip",
        [
            Member(b"../evil", b"x"),
            Member(b"/abs", b"x"),
            Member(b"dir\\win.py", b"x"),
            Member(b"ok.py", b"1"),
            Member(b"ok.py", b"2"),
        ],
    )
    assert codes(path) == {
        ("parent-traversal", "../evil"),
        ("absolute-name", "/abs"),
        ("backslash-name", "dir\\win.py"),
        ("duplicate-name", "ok.py"),
    }
    clean = zipcraft.craft(tmp_path / "clean.zip", [Member(b"a/evil", b"x"), Member(b"ok.py")])
    assert codes(clean) == set()


def test_encrypted_and_unsupported_method(tmp_path: Path) -> None:
    path = zipcraft.craft(
        tmp_path / "odd.zip", [Member(b"secret", b"x", flags=1), Member(b"bz", b"x", method=12)]
    )
    assert codes(path) == {("encrypted", "secret"), ("unsupported-method", "bz")}
    with ZipReader(path) as reader:
        results = [reader.hash_entry(e) for e in reader.archive.entries]
    assert [r.finding.code if r.finding else None for r in results] == [
        "encrypted",
        "unsupported-method",
    ]


def test_overlapping_entries(tmp_path: Path) -> None:
    data = b"\0" * 50_000
    path = zipcraft.craft(
        tmp_path / "overlap.zip",
        [Member(b"kernel", data, method=8)]
        + [
            Member(f"copy{i}".encode(), data, method=8, offset=0, central_name=f"copy{i}".encode())
            for i in range(3)
        ],
    )
    found = codes(path)
    overlapping = {c for c in found if c[0] == "overlapping-entries"}
    assert overlapping == {("overlapping-entries", f"copy{i}") for i in range(3)}
    assert ("name-mismatch", "copy0") in found  # the local header names "kernel"
    separate = zipcraft.craft(tmp_path / "ok.zip", [Member(b"a", data, 8), Member(b"b", data, 8)])
    assert codes(separate) == set()


def test_lying_size_bomb_is_cut_off_in_bounded_memory(tmp_path: Path) -> None:
    bomb_size = 200 * 1024 * 1024
    path = zipcraft.craft(
        tmp_path / "bomb.zip", [Member(b"bomb", b"\0" * bomb_size, method=8, declared_size=1000)]
    )
    assert path.stat().st_size < 1024 * 1024
    with ZipReader(path) as reader:
        tracemalloc.start()
        tracemalloc.reset_peak()
        try:
            content = reader.hash_entry(reader.archive.entries[0])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert content.finding is not None and content.finding.code == "size-mismatch"
    assert content.sha256 is None
    assert content.size <= 1000 + 64 * 1024
    assert peak < 2 * 1024 * 1024


def test_honest_bomb_is_refused_by_ratio(tmp_path: Path) -> None:
    path = zipcraft.craft(tmp_path / "bomb.zip", [Member(b"bomb", b"\0" * (50 << 20), method=8)])
    with ZipReader(path) as reader:
        content = reader.hash_entry(reader.archive.entries[0])
    assert content.finding is not None and content.finding.code == "ratio-exceeded"
    small = zipcraft.craft(tmp_path / "small.zip", [Member(b"z", b"\0" * (1 << 20), method=8)])
    with ZipReader(small) as reader:
        assert reader.hash_entry(reader.archive.entries[0]).finding is None


def test_archive_budget_stops_overlapping_bomb(tmp_path: Path) -> None:
    data = b"\0" * (4 << 20)
    members = [Member(b"kernel", data, method=8)] + [
        Member(f"c{i}".encode(), data, method=8, offset=0) for i in range(40)
    ]
    path = zipcraft.craft(tmp_path / "fifield.zip", members)
    with ZipReader(path) as reader:
        results = [reader.hash_entry(e) for e in reader.archive.entries]
    stopped = [r for r in results if r.finding and r.finding.code == "budget-exceeded"]
    assert stopped, "the budget never kicked in"
    assert sum(r.size for r in results) <= reader.limits.budget(path.stat().st_size)


def test_hundred_thousand_entries(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(100_000):
            zf.writestr(f"f/{i:06d}", b"x")
    archive = read_archive(path)
    assert archive.zip64
    assert len(archive.entries) == 100_000
    assert archive.findings == ()


def test_reading_writes_nothing(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = info_zip(package, tmp_path / "a.zip")
    empty = tmp_path / "cwd"
    empty.mkdir()
    monkeypatch.chdir(empty)
    before = listing(tmp_path)
    with ZipReader(path) as reader:
        for entry in reader.archive.entries:
            reader.hash_entry(entry)
            reader.read_head(entry)
    assert listing(tmp_path) == before
    assert list(empty.iterdir()) == []

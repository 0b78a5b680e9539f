"""The archive writer alone: its rules, each shown to matter against a naive zipfile writer."""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from lambda_zip_action.archive import content_digest, reference_zlib, write_zip
from lambda_zip_action.deflate_cache import DeflateCache
from lambda_zip_action.outputs import atomic_output
from lambda_zip_action.proof.diff import diff
from lambda_zip_action.proof.inspect import inspect_zip, inspection_exit_code
from lambda_zip_action.stage import collect, merge
from lambda_zip_action.zip.format import to_dos


def make_tree(root: Path, umask_mode: int = 0o644) -> Path:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    (root / "pkg" / "sub" / "data.json").write_text('{"a": 1}\n' * 50)
    (root / "pkg" / "naïve.txt").write_text("non-ascii name\n")
    (root / "pkg" / "empty.txt").write_bytes(b"")
    tool = root / "pkg" / "tool.sh"
    tool.write_text("#!/bin/sh\necho hi\n")
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(umask_mode)
    tool.chmod(umask_mode | 0o100)
    return root


def build_zip(tree: Path, out: Path, level: int = 6, epoch: int | None = None) -> bytes:
    entries = merge(collect(tree, "source"), layer=False)
    with out.open("wb") as stream:
        write_zip(entries, stream, level, epoch, workers=2)
    return out.read_bytes()


def naive_zip(tree: Path, out: Path) -> bytes:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for directory, _, files in os.walk(tree):
            for name in files:
                path = Path(directory) / name
                archive.write(path, path.relative_to(tree).as_posix())
    return out.read_bytes()


def test_same_bytes_despite_mtimes_umask_and_location(tmp_path: Path) -> None:
    first = make_tree(tmp_path / "a", 0o644)
    second = make_tree(tmp_path / "b" / "deeper" / "still", 0o600)
    for path in second.rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))

    assert build_zip(first, tmp_path / "1.zip") == build_zip(second, tmp_path / "2.zip")
    # The naive writer leaks both the mtimes and the modes.
    assert naive_zip(first, tmp_path / "n1.zip") != naive_zip(second, tmp_path / "n2.zip")


def test_entries_sorted_dated_moded_and_without_extras(tmp_path: Path) -> None:
    data = build_zip(make_tree(tmp_path / "t"), tmp_path / "out.zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names == sorted(names, key=lambda n: n.encode("utf-8"))
        assert "pkg/" in names and "pkg/sub/" in names
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.extra == b""
            assert info.comment == b""
            assert info.create_system == 3
            assert not info.flag_bits & 0x08  # no data descriptor
            mode = info.external_attr >> 16
            expected = 0o755 if info.is_dir() or info.filename.endswith(".sh") else 0o644
            assert stat.S_IMODE(mode) == expected, info.filename
        assert archive.testzip() is None
        assert archive.read("pkg/naïve.txt") == b"non-ascii name\n"
        assert archive.getinfo("pkg/empty.txt").compress_type == zipfile.ZIP_STORED


def test_source_date_epoch_is_read_in_utc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    data = build_zip(make_tree(tmp_path / "t"), tmp_path / "out.zip", epoch=1_700_000_000)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    assert to_dos(None) == ((0 << 9) | (1 << 5) | 1, 0)


def test_content_digest_ignores_compression_but_not_content(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t")
    entries = merge(collect(tree, "source"), layer=False)
    results = []
    for level in (0, 1, 9):
        with (tmp_path / f"{level}.zip").open("wb") as stream:
            results.append(write_zip(entries, stream, level, None))
    assert len({r.sha256 for r in results}) == 3
    assert len({r.content_digest for r in results}) == 1
    (tree / "pkg" / "__init__.py").write_text("VALUE = 2\n")
    with (tmp_path / "changed.zip").open("wb") as stream:
        changed = write_zip(merge(collect(tree, "source"), layer=False), stream, 6, None)
    assert changed.content_digest != results[0].content_digest
    assert content_digest(results[0].entries) == results[0].content_digest


def test_parallel_compression_does_not_change_bytes(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t")
    for index in range(40):
        (tree / "pkg" / f"m{index}.py").write_bytes(os.urandom(2000) * (index + 1))
    entries = merge(collect(tree, "source"), layer=False)
    outputs = set()
    for workers in (1, 2, 7):
        stream = io.BytesIO()
        write_zip(entries, stream, 6, None, workers=workers)
        outputs.add(stream.getvalue())
    assert len(outputs) == 1


def test_zip64_end_records_for_more_than_65535_entries(tmp_path: Path) -> None:
    tree = tmp_path / "many"
    tree.mkdir()
    for index in range(66_000):
        (tree / f"f{index:05d}").write_bytes(b"")
    data = build_zip(tree, tmp_path / "many.zip", level=0)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert len(archive.infolist()) == 66_000


def test_our_zip_is_clean_for_inspect_and_identical_for_diff(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t")
    build_zip(tree, tmp_path / "a.zip")
    build_zip(tree, tmp_path / "b.zip")
    result = inspect_zip(tmp_path / "a.zip", None, None)
    assert inspection_exit_code(result, strict=True) == 0, result.findings
    assert diff(tmp_path / "a.zip", tmp_path / "b.zip").identical_bytes


def test_atomic_output_keeps_previous_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.zip"
    target.write_bytes(b"previous")
    with pytest.raises(RuntimeError), atomic_output(target) as stream:
        stream.write(b"half-written")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [target]
    with atomic_output(target) as stream:
        stream.write(b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_zlib_flavour_detection() -> None:
    assert reference_zlib("1.2.13")
    assert reference_zlib("1.3.1")
    assert not reference_zlib("2.2.2.zlib-ng")
    assert not reference_zlib("1.2.11.zlib-ng")


def test_deflate_cache_gives_the_same_bytes_and_only_holds_large_files(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t")
    (tree / "pkg" / "big.bin").write_bytes(os.urandom(50_000) * 4)  # 200 kB, deflatable
    entries = merge(collect(tree, "source"), layer=False)
    cache = DeflateCache(tmp_path / "cache")
    plain, cold, warm = io.BytesIO(), io.BytesIO(), io.BytesIO()
    write_zip(entries, plain, 6, None)
    write_zip(entries, cold, 6, None, cache=cache)
    stored = sorted(p for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert len(stored) == 1  # only big.bin is worth caching
    write_zip(entries, warm, 6, None, cache=cache)
    assert plain.getvalue() == cold.getvalue() == warm.getvalue()
    other = zlib.compress(b"something else")[2:-4]
    # A damaged entry (its stream no longer matches the CRC stored with it) is a miss.
    stored[0].write_bytes(other)
    damaged = io.BytesIO()
    write_zip(entries, damaged, 6, None, cache=cache)
    assert damaged.getvalue() == plain.getvalue()
    # An entry forged whole is trusted by a cached build; the checked cache of verify's rebuild
    # inflates every hit and deflates afresh what does not match.
    stored[0].write_bytes(struct.pack(">QI", len(other), zlib.crc32(other)) + other)
    forged, checked = io.BytesIO(), io.BytesIO()
    write_zip(entries, forged, 6, None, cache=cache)
    assert forged.getvalue() != plain.getvalue()
    write_zip(entries, checked, 6, None, cache=DeflateCache(tmp_path / "cache", checked=True))
    assert checked.getvalue() == plain.getvalue()
    assert stored[0].read_bytes()[12:] == other  # the checked cache stores nothing


def test_inflates_to_takes_exactly_one_whole_stream() -> None:
    import hashlib

    from lambda_zip_action.deflate_cache import inflates_to

    def deflate(data: bytes, level: int = 6) -> bytes:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush()

    for content in (b"x", os.urandom(3000), b"\0" * ((1 << 20) + 5), os.urandom(600_000) * 4):
        stream, sha = deflate(content), hashlib.sha256(content).hexdigest()
        assert inflates_to(stream, sha)
        assert not inflates_to(stream[:-1], sha)  # cut short
        # Bytes after the stream's end, in its last window or a window of their own: over 1 MiB
        # of output, a careless loop on unconsumed_tail never ends here.
        assert not inflates_to(stream + b"!", sha)
        assert not inflates_to(stream + b"!" * (300 * 1024), sha)
        assert not inflates_to(stream + stream, sha)  # two streams
        assert not inflates_to(deflate(content + b"?"), sha)  # another content
    assert not inflates_to(b"", hashlib.sha256(b"").hexdigest())
    assert not inflates_to(b"\xff" * 10, hashlib.sha256(b"").hexdigest())  # not deflate at all


def test_a_cache_file_of_an_empty_stream_is_a_miss(tmp_path: Path) -> None:
    import hashlib

    cache = DeflateCache(tmp_path)
    sha = hashlib.sha256(b"a" * 5000).hexdigest()
    cache.store(sha, 6, b"")  # nothing stored for an empty stream
    assert not list(tmp_path.rglob("*")) or all(p.is_dir() for p in tmp_path.rglob("*"))
    path = cache._path(sha, 6)
    path.parent.mkdir(parents=True)
    path.write_bytes(struct.pack(">QI", 0, 0))  # CRC-32 of nothing is 0: still a miss
    assert cache.load(sha, 6) is None


@pytest.mark.parametrize("mib", [0, 5, 6, 9, 17])
def test_the_etags_hashed_while_writing_equal_those_of_a_second_read(
    tmp_path: Path, mib: int
) -> None:
    """Around both uploaders' part sizes (5 MiB, 8 MiB): a zip of stored random bytes."""
    from lambda_zip_action.etags import s3_etags
    from lambda_zip_action.stage import StagedFile

    data = tmp_path / "data.bin"
    data.write_bytes(os.urandom(mib * 1024 * 1024 + 1234))
    entries = [StagedFile("data.bin", data, 0o644, "source", data.stat().st_size)]
    stream = io.BytesIO()
    result = write_zip(entries, stream, 0, None)
    assert result.etags is not None
    assert result.etags == s3_etags(stream)

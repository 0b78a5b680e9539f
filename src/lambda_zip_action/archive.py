"""Write the zip: the same bytes for the same entries, on any machine.

Rules (see docs/determinism.md): entries in UTF-8 name order; one fixed date; modes 0644/0755
with unix `create_system`; no extra fields (zip64 only when a size demands it), comments or
data descriptors; raw deflate from zlib at one level, compressed in threads (zlib releases the
GIL) but written in order; the hashes are computed while writing. The stream it writes to is
a temporary file beside the output (outputs.py renames it into place).
"""

from __future__ import annotations

import base64
import hashlib
import re
import stat
import struct
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from lambda_zip_action.deflate_cache import DeflateCache
from lambda_zip_action.deflate_cache import compressor as deflate_with
from lambda_zip_action.errors import OutputError
from lambda_zip_action.etags import PartHashes, S3ETags
from lambda_zip_action.stage import StagedFile
from lambda_zip_action.zip.format import (
    CENTRAL,
    CENTRAL_SIG,
    COUNT_LIMIT,
    EOCD,
    EOCD64,
    EOCD64_LOCATOR,
    EOCD64_LOCATOR_SIG,
    EOCD64_SIG,
    EOCD_SIG,
    FLAG_UTF8,
    LOCAL,
    LOCAL_SIG,
    UNIX,
    ZIP64_LIMIT,
    to_dos,
)

VERSION_MADE_BY = (UNIX << 8) | 20  # unix, spec 2.0
VERSION_NEEDED = 20
VERSION_ZIP64 = 45


@dataclass(frozen=True)
class WrittenEntry:
    name: str
    size: int
    compressed_size: int
    sha256: str | None  # None for directories
    mode: int


@dataclass(frozen=True)
class ArchiveResult:
    entries: tuple[WrittenEntry, ...]
    sha256: str
    base64_sha256: str
    md5: str
    size: int
    content_digest: str
    # The S3 ETags, hashed while writing (None: s3_etags reads the zip again).
    etags: S3ETags | None = None
    # The sha256 of the manifest written with it (outputs.write_outputs), checked before a
    # staged pair is moved into place.
    manifest_sha256: str = ""
    # The sha256 of the SBOM written with it, checked likewise; "" when none was written.
    sbom_sha256: str = ""


def reference_zlib(version: str = zlib.ZLIB_RUNTIME_VERSION) -> bool:
    """madler zlib 1.x agrees with every other reference zlib; zlib-ng and others do not."""
    return re.fullmatch(r"1\.\d+(\.\d+)*", version) is not None


def content_digest(entries: Sequence[WrittenEntry]) -> str:
    """A digest of names, modes and contents that ignores how the bytes were compressed."""
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.name.encode("utf-8")):
        digest.update(f"{entry.name}\0{entry.mode:04o}\0{entry.sha256 or '-'}\n".encode())
    return digest.hexdigest()


class _HashingWriter:
    """Writes and hashes the zip's bytes, gathered into chunks of about FLUSH_BYTES: a header
    of a few dozen bytes hashed and written on its own costs more than its bytes do."""

    FLUSH_BYTES = 1 << 20

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.offset = 0
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.parts = PartHashes()

    def write(self, data: bytes) -> None:
        self.offset += len(data)
        if len(data) >= self.FLUSH_BYTES:  # a big file's data: never copied into a chunk
            self.flush()
            self._emit(data)
            return
        self.pending.append(data)
        self.pending_size += len(data)
        if self.pending_size >= self.FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write and hash what is pending; the digests are complete only after this."""
        if self.pending:
            chunk = b"".join(self.pending)
            self.pending, self.pending_size = [], 0
            self._emit(chunk)

    def _emit(self, data: bytes) -> None:
        self.raw.write(data)
        self.sha256.update(data)
        self.md5.update(data)
        self.parts.update(data)


@dataclass(frozen=True)
class _Packed:
    crc: int
    size: int
    sha256: str
    method: int
    data: bytes


# Files at least this big are read in chunks of this size, never whole: the writer's memory then
# follows the largest file's compressed size, not its size. zlib's output does not depend on how
# its input is cut (tests/unit/test_archive_stream.py checks it).
STREAM_SIZE = 1 << 20


def _pack(path: Path, level: int, cache: DeflateCache | None = None) -> _Packed:
    if level != 0:
        try:
            big = path.stat().st_size >= STREAM_SIZE
        except OSError:
            big = False
        if big:
            return _pack_streamed(path, level, cache)
    raw = path.read_bytes()
    crc = zlib.crc32(raw)
    sha = hashlib.sha256(raw).hexdigest()
    if level == 0 or not raw:
        return _Packed(crc, len(raw), sha, 0, raw)
    cacheable = cache is not None and len(raw) >= DeflateCache.MIN_SIZE
    data = cache.load(sha, level) if cache is not None and cacheable else None
    if data is None:
        compressor = deflate_with(level)
        data = compressor.compress(raw) + compressor.flush()
        if cache is not None and cacheable:
            cache.store(sha, level, data)
    return _Packed(crc, len(raw), sha, 8, data)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(STREAM_SIZE):
            yield chunk


def _pack_streamed(path: Path, level: int, cache: DeflateCache | None) -> _Packed:
    """_pack for a big file: hash it in chunks, then take the cache's bytes or deflate it in
    chunks, checking that the second read gave the same bytes as the first.

    The check is the sha256, not the CRC-32 the zip records: a file rewritten between the
    reads to other content with the same CRC (four chosen bytes give any CRC) would otherwise
    go into the zip under the first content's hash, and every reader would accept it.
    """
    crc, size, sha = 0, 0, hashlib.sha256()
    for chunk in _chunks(path):
        crc, size = zlib.crc32(chunk, crc), size + len(chunk)
        sha.update(chunk)
    digest = sha.hexdigest()
    if not size:
        return _Packed(crc, 0, digest, 0, b"")
    data = cache.load(digest, level) if cache is not None else None
    if data is None:
        compressor = deflate_with(level)
        parts, again = [], hashlib.sha256()
        for chunk in _chunks(path):
            again.update(chunk)
            parts.append(compressor.compress(chunk))
        parts.append(compressor.flush())
        if again.hexdigest() != digest:
            raise OutputError(
                f"{path} changed while it was being written into the zip. Nothing was written; "
                "build again once nothing else writes to it."
            )
        data = b"".join(parts)
        if cache is not None:
            cache.store(digest, level, data)
    return _Packed(crc, size, digest, 8, data)


# Small files are compressed in batches: a thread hand-off per 1 KiB file costs more than
# compressing it. Batches never change the bytes, only who computes them.
BATCH_BYTES = 1 << 20
BATCH_ENTRIES = 256
# Staged sizes unknown (0) count as this much when batching.
UNKNOWN_SIZE = 4096


def _batches(entries: Sequence[StagedFile]) -> Iterator[list[StagedFile]]:
    batch: list[StagedFile] = []
    weight = 0
    for entry in entries:
        batch.append(entry)
        weight += entry.size or UNKNOWN_SIZE
        if weight >= BATCH_BYTES or len(batch) >= BATCH_ENTRIES:
            yield batch
            batch, weight = [], 0
    if batch:
        yield batch


def _pack_batch(
    batch: list[StagedFile],
    level: int,
    cache: DeflateCache | None,
    memo: dict[tuple[object, ...], _Packed] | None = None,
) -> list[_Packed | None]:
    if memo is None:
        return [None if entry.path is None else _pack(entry.path, level, cache) for entry in batch]
    packed: list[_Packed | None] = []
    for entry in batch:
        if entry.path is None:
            packed.append(None)
            continue
        key = _memo_key(entry.path, level)
        hit = memo.get(key) if key is not None else None
        if hit is None:
            hit = _pack(entry.path, level, cache)
            if key is not None and key == _memo_key(entry.path, level):
                memo[key] = hit
        packed.append(hit)
    return packed


def _memo_key(path: Path, level: int) -> tuple[object, ...] | None:
    """A file as it is now (path, size, times, inode) at a level: the memo's key."""
    try:
        status = path.stat()
    except OSError:
        return None
    return (str(path), level, status.st_size, status.st_mtime_ns, status.st_ctime_ns,
            status.st_ino, status.st_dev)  # fmt: skip


def write_zip(
    entries: Sequence[StagedFile],
    out: BinaryIO,
    level: int,
    epoch: int | None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    cache: DeflateCache | None = None,
    memo: dict[tuple[object, ...], Any] | None = None,
) -> ArchiveResult:
    """Write `entries` (already sorted by UTF-8 name) as a zip to the seekable stream `out`.

    Batches are compressed in threads (zlib releases the GIL) and written in order; a bounded
    window of batches in flight keeps memory at a few batches plus the largest file.
    """
    date, clock = to_dos(epoch)
    writer = _HashingWriter(out)
    central: list[bytes] = []
    written: list[WrittenEntry] = []
    window = max(2, 2 * workers)
    directory = _Packed(0, 0, "", 0, b"")
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: deque[tuple[list[StagedFile], Future[list[_Packed | None]]]] = deque()
        batches = _batches(entries)

        def refill() -> None:
            while len(pending) < window:
                batch = next(batches, None)
                if batch is None:
                    return
                pending.append((batch, pool.submit(_pack_batch, batch, level, cache, memo)))

        refill()
        while pending:
            batch, future = pending.popleft()
            packed_batch = future.result()
            refill()
            for entry, packed in zip(batch, packed_batch, strict=True):
                central.append(_write_entry(writer, entry, packed or directory, date, clock))
                written.append(
                    WrittenEntry(
                        entry.name,
                        packed.size if packed else 0,
                        len(packed.data) if packed else 0,
                        packed.sha256 if packed else None,
                        entry.mode,
                    )
                )
            if progress is not None:
                progress(len(written), len(entries))
    _write_end(writer, central)
    writer.flush()
    return ArchiveResult(
        entries=tuple(written),
        sha256=writer.sha256.hexdigest(),
        base64_sha256=base64.b64encode(writer.sha256.digest()).decode("ascii"),
        md5=writer.md5.hexdigest(),
        size=writer.offset,
        content_digest=content_digest(written),
        etags=writer.parts.etags(writer.offset, writer.md5.hexdigest()),
    )


def _write_entry(
    writer: _HashingWriter, entry: StagedFile, packed: _Packed, date: int, clock: int
) -> bytes:
    name = entry.name.encode("utf-8")
    flags = 0 if name.isascii() else FLAG_UTF8
    offset = writer.offset
    compressed = len(packed.data)
    big = packed.size >= ZIP64_LIMIT or compressed >= ZIP64_LIMIT
    version = VERSION_ZIP64 if big else VERSION_NEEDED
    local_extra = struct.pack("<HHQQ", 1, 16, packed.size, compressed) if big else b""
    writer.write(
        LOCAL.pack(
            LOCAL_SIG,
            version,
            flags,
            packed.method,
            clock,
            date,
            packed.crc,
            ZIP64_LIMIT if big else compressed,
            ZIP64_LIMIT if big else packed.size,
            len(name),
            len(local_extra),
        )
    )
    writer.write(name)
    writer.write(local_extra)
    writer.write(packed.data)

    kind = stat.S_IFDIR if entry.is_dir else stat.S_IFREG
    external = ((kind | entry.mode) << 16) | (0x10 if entry.is_dir else 0)
    fields = []
    if big:
        fields += [packed.size, compressed]
    if offset >= ZIP64_LIMIT:
        fields.append(offset)
    central_extra = (
        struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
    )
    if fields:
        version = VERSION_ZIP64
    return (
        CENTRAL.pack(
            CENTRAL_SIG,
            VERSION_MADE_BY,
            version,
            flags,
            packed.method,
            clock,
            date,
            packed.crc,
            ZIP64_LIMIT if big else compressed,
            ZIP64_LIMIT if big else packed.size,
            len(name),
            len(central_extra),
            0,
            0,
            0,
            external,
            min(offset, ZIP64_LIMIT),
        )
        + name
        + central_extra
    )


def _write_end(writer: _HashingWriter, central: list[bytes]) -> None:
    start = writer.offset
    for record in central:
        writer.write(record)
    size = writer.offset - start
    count = len(central)
    if count >= COUNT_LIMIT or start >= ZIP64_LIMIT or size >= ZIP64_LIMIT:
        zip64_end = writer.offset
        writer.write(
            EOCD64.pack(
                EOCD64_SIG,
                44,
                VERSION_ZIP64,
                VERSION_ZIP64,
                0,
                0,
                count,
                count,
                size,
                start,
            )
        )
        writer.write(EOCD64_LOCATOR.pack(EOCD64_LOCATOR_SIG, 0, zip64_end, 1))
        count, size, start = COUNT_LIMIT, min(size, ZIP64_LIMIT), ZIP64_LIMIT
    writer.write(EOCD.pack(EOCD_SIG, 0, 0, count, count, size, start, 0))

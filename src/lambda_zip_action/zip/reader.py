"""Read a zip's structure and content safely: never extract, never trust a declared size.

Every zip reaching this module is untrusted: a package from another tool, a CI artifact, a file
someone attached to an issue. So the reader parses the central directory and every local
header itself (the standard library's `zipfile` hides the fields that explain why two zips
differ, and checks too little), reports anything hostile as a `ZipFinding`, and streams content
through a bounded decompressor in 64 KiB chunks: memory stays flat whatever the entry claims,
and output beyond the declared size, beyond a sane ratio, or beyond an archive-wide budget is
cut off with a finding. Only damage that leaves nothing to read raises `ArchiveReadError`.
The structure is parsed by `zip.parse`; the limits are `zip.budget.ReadLimits`.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from lambda_zip_action.errors import ArchiveReadError
from lambda_zip_action.zip.budget import ReadLimits
from lambda_zip_action.zip.format import STORED, SUPPORTED_METHODS
from lambda_zip_action.zip.parse import ArchiveParser
from lambda_zip_action.zip.structure import ZipArchive, ZipEntry, ZipFinding

CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class EntryContent:
    """The result of streaming one entry: its digest, or why it was not read to the end."""

    sha256: str | None
    size: int
    crc_ok: bool
    finding: ZipFinding | None


class _Stop(Exception):
    def __init__(self, finding: ZipFinding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class ZipReader:
    """An open archive: its parsed structure in `archive`, and bounded access to content.

    Use as a context manager. Reading content counts against the archive-wide budget.
    """

    def __init__(self, path: Path, limits: ReadLimits | None = None) -> None:
        self.limits = limits or ReadLimits()
        try:
            self._fh: BinaryIO = path.open("rb", buffering=CHUNK)
        except OSError as exc:
            raise ArchiveReadError(
                f"Cannot open {path} to read it as a zip: {exc.strerror or exc}. Check the "
                "path and that it is a readable file."
            ) from exc
        self._deadline = time.monotonic() + self.limits.max_seconds
        try:
            self.archive = ArchiveParser(path, self._fh, self.limits, self._deadline).parse()
        except BaseException:
            self._fh.close()
            raise
        self._budget = self.limits.budget(self.archive.size)
        # Entries that share their bytes (an overlapping bomb, or duplicate names) are read
        # once: the same span always gives the same content.
        self._hashed: dict[tuple[int, int, int, int], tuple[str | None, int, int, _Stop | None]]
        self._hashed = {}
        self._heads: dict[tuple[int, int, int, int], bytes | None] = {}

    def __enter__(self) -> ZipReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._fh.close()

    def hash_entry(self, entry: ZipEntry) -> EntryContent:
        """sha256 and size of the entry's uncompressed content, checked against its CRC."""
        problem = self._unreadable(entry)
        if problem is None:
            problem = self._too_large(entry)
        if problem is not None:
            return EntryContent(None, 0, False, problem)
        assert entry.local is not None
        key = (
            entry.local.data_offset,
            entry.compressed_size,
            entry.method,
            entry.uncompressed_size,
        )
        if key in self._hashed:
            # Read before: charged again (the budget means what it did), never inflated again.
            hexdigest, crc, size, stop = self._hashed[key]
            self._budget -= size
        else:
            hexdigest, crc, size, stop = self._hashed[key] = self._hash_span(entry)
        if stop is not None:
            finding = stop.finding
            return EntryContent(
                None, size, False, ZipFinding(finding.code, finding.message, entry.name)
            )
        if size != entry.uncompressed_size:
            return EntryContent(
                hexdigest,
                size,
                False,
                ZipFinding(
                    "size-mismatch",
                    f"the entry declares {entry.uncompressed_size} bytes but holds {size}",
                    entry.name,
                ),
            )
        if crc != entry.crc:
            finding = ZipFinding("crc-mismatch", "the content does not match its CRC", entry.name)
            return EntryContent(hexdigest, size, False, finding)
        return EntryContent(hexdigest, size, True, None)

    def _hash_span(self, entry: ZipEntry) -> tuple[str | None, int, int, _Stop | None]:
        digest, crc, size = hashlib.sha256(), 0, 0
        try:
            for chunk in self._chunks(entry, entry.uncompressed_size, enforce=True):
                digest.update(chunk)
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
        except _Stop as stop:
            return None, crc, size, stop
        finally:
            self._budget -= size
        return digest.hexdigest(), crc, size, None

    def read_head(self, entry: ZipEntry, length: int = 64) -> bytes | None:
        """The first `length` bytes of content, or None when the entry cannot be read.

        Heads draw from the same archive-wide budget as full reads: 200,000 METADATA entries
        pointing at one block must not mean 200,000 decompressions.
        """
        if self._unreadable(entry) is not None:
            return None
        assert entry.local is not None
        key = (entry.local.data_offset, entry.compressed_size, entry.method, length)
        if self._budget <= 0:
            return None
        if key in self._heads:
            cached = self._heads[key]
            self._budget -= len(cached or b"")
            return cached
        head = bytearray()
        try:
            for chunk in self._chunks(entry, length, enforce=False):
                head += chunk
                if len(head) >= length:
                    break
        except _Stop:
            self._heads[key] = None
            return None
        finally:
            self._budget -= len(head)
        self._heads[key] = bytes(head[:length])
        return self._heads[key]

    def _check_time(self) -> None:
        if time.monotonic() > self._deadline:
            raise ArchiveReadError(
                f"Reading {self.archive.path} took longer than {self.limits.max_seconds:.0f} s, "
                "the limit for any one archive: it is built to exhaust readers (a zip bomb?). "
                "Nothing more is read from it."
            )

    def _unreadable(self, entry: ZipEntry) -> ZipFinding | None:
        if entry.local is None:
            return ZipFinding("bad-local-header", "the local header is missing", entry.name)
        if entry.encrypted:
            return ZipFinding("encrypted", "the entry is encrypted", entry.name)
        if entry.method not in SUPPORTED_METHODS:
            why = f"compression method {entry.method} is not stored (0) or deflate (8)"
            return ZipFinding("unsupported-method", why, entry.name)
        if entry.local.data_offset + entry.compressed_size > self.archive.size:
            return ZipFinding("truncated-data", "the data runs past the end of file", entry.name)
        return None

    def _too_large(self, entry: ZipEntry) -> ZipFinding | None:
        declared, limits = entry.uncompressed_size, self.limits
        if limits.ratio_exceeded(declared, entry.compressed_size):
            why = (
                f"the entry claims {declared} bytes from {entry.compressed_size} compressed, "
                f"a ratio above 1:{limits.max_ratio}: not decompressed (zip bomb?)"
            )
            return ZipFinding("ratio-exceeded", why, entry.name)
        if declared > self._budget:
            why = (
                "the archive has already produced more output than any honest zip of its size "
                "could: not decompressed (overlapping zip bomb?)"
            )
            return ZipFinding("budget-exceeded", why, entry.name)
        return None

    def _chunks(self, entry: ZipEntry, limit: int, *, enforce: bool) -> Iterator[bytes]:
        assert entry.local is not None
        self._fh.seek(entry.local.data_offset)
        remaining = entry.compressed_size
        produced = 0
        step = CHUNK if enforce else min(CHUNK, 4096)
        self._check_time()

        def cut(chunk: bytes) -> bytes:
            nonlocal produced
            produced += len(chunk)
            if produced > CHUNK:
                self._check_time()
            if enforce and produced > limit:
                why = (
                    f"the content exceeds its declared size of {limit} bytes: stopped reading "
                    "(zip bomb?)"
                )
                raise _Stop(ZipFinding("size-mismatch", why, entry.name))
            return chunk

        if entry.method == STORED:
            while remaining and produced <= limit:
                data = self._fh.read(min(step, remaining, limit + 1 - produced))
                if not data:
                    raise _Stop(ZipFinding("truncated-data", "the data ends early", entry.name))
                remaining -= len(data)
                yield cut(data)
            return
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        pending = b""
        while not inflater.eof:
            if not pending and remaining:
                pending = self._fh.read(min(step, remaining))
                if not pending:
                    raise _Stop(ZipFinding("truncated-data", "the data ends early", entry.name))
                remaining -= len(pending)
            try:
                out = inflater.decompress(pending, min(CHUNK, limit + 1 - produced) or 1)
            except zlib.error as exc:
                why = f"invalid deflate data: {exc}"
                raise _Stop(ZipFinding("corrupt-data", why, entry.name)) from exc
            pending = inflater.unconsumed_tail
            if out:
                yield cut(out)
            elif not pending and not remaining:
                raise _Stop(
                    ZipFinding("truncated-data", "the deflate stream ends early", entry.name)
                )


def read_archive(path: Path, limits: ReadLimits | None = None) -> ZipArchive:
    """The archive's structure and findings, without reading any content."""
    with ZipReader(path, limits) as reader:
        return reader.archive

"""Read a zip's structure and content safely: never extract, never trust a declared size.

Every zip reaching this module is untrusted: a package from another tool, a CI artifact, a file
someone attached to an issue. So the reader parses the central directory and every local
header itself (the standard library's `zipfile` hides the fields that explain why two zips
differ, and checks too little), reports anything hostile as a `ZipFinding`, and streams content
through a bounded decompressor in 64 KiB chunks: memory stays flat whatever the entry claims,
and output beyond the declared size, beyond a sane ratio, or beyond an archive-wide budget is
cut off with a finding. Only damage that leaves nothing to read raises `ArchiveReadError`.
"""

from __future__ import annotations

import hashlib
import re
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from lambda_zip_action.errors import ArchiveReadError
from lambda_zip_action.zipformat import (
    CENTRAL,
    CENTRAL_SIG,
    DEFLATED,
    DESCRIPTOR_SIG,
    EOCD,
    EOCD64,
    EOCD64_LOCATOR,
    EOCD64_LOCATOR_SIG,
    EOCD64_SIG,
    EOCD_SIG,
    EXTRA_HEADER,
    EXTRA_ZIP64,
    FLAG_DATA_DESCRIPTOR,
    FLAG_ENCRYPTED,
    FLAG_UTF8,
    LOCAL,
    LOCAL_SIG,
    STORED,
    from_dos,
)

CHUNK = 64 * 1024
# The EOCD record (22 bytes) ends the file, followed by a comment of at most 65,535 bytes.
EOCD_SEARCH = 22 + 0xFFFF

SUPPORTED_METHODS = (STORED, DEFLATED)

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ReadLimits:
    """How much decompressed output an entry and the whole archive may produce.

    An honest deflate stream cannot beat about 1:1032, so a declared ratio above `max_ratio`
    is refused unless the entry is small enough (`ratio_free_bytes`) not to matter. The
    archive-wide budget stops the "overlapping" bomb, whose entries all share one kernel and
    each look honest on their own.
    """

    max_ratio: int = 1000
    ratio_free_bytes: int = 8 * 1024 * 1024
    # The rest of the one budget every reader path draws from: how many central directory
    # records are parsed, and how long reading the whole archive may take. A Lambda package
    # may hold 250 MB unzipped; 100,000 entries is far beyond any real one.
    max_entries: int = 100_000
    max_seconds: float = 120.0

    def budget(self, archive_size: int) -> int:
        return self.ratio_free_bytes + archive_size * self.max_ratio


@dataclass(frozen=True, slots=True)
class ExtraField:
    header_id: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ZipFinding:
    """Something hostile or broken in the archive; `code` is stable, `message` is prose."""

    code: str
    message: str
    entry: str | None = None


@dataclass(frozen=True, slots=True)
class LocalHeader:
    offset: int
    extract_version: int
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compressed_size: int
    uncompressed_size: int
    name_bytes: bytes
    extra: tuple[ExtraField, ...]
    extra_raw: bytes
    data_offset: int
    data_end: int
    """End of the entry's bytes: compressed data plus its data descriptor, if any."""


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One central directory record, with the local header it points at (if readable)."""

    index: int
    name: str
    name_bytes: bytes
    create_system: int
    create_version: int
    extract_version: int
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compressed_size: int
    uncompressed_size: int
    internal_attr: int
    external_attr: int
    extra: tuple[ExtraField, ...]
    extra_raw: bytes
    comment: bytes
    local_header_offset: int
    local: LocalHeader | None

    @property
    def mode(self) -> int | None:
        """The unix mode (type and permission bits), or None when the writer stored none."""
        return (self.external_attr >> 16) or None

    @property
    def is_dir(self) -> bool:
        mode = self.mode
        return self.name.endswith("/") or (mode is not None and mode & 0o170000 == 0o040000)

    @property
    def is_symlink(self) -> bool:
        mode = self.mode
        return mode is not None and mode & 0o170000 == 0o120000

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & FLAG_ENCRYPTED)

    @property
    def has_data_descriptor(self) -> bool:
        return bool(self.flags & FLAG_DATA_DESCRIPTOR)

    @property
    def date_time(self) -> tuple[int, int, int, int, int, int]:
        return from_dos(self.dos_date, self.dos_time)


@dataclass(frozen=True)
class ZipArchive:
    path: Path
    size: int
    entries: tuple[ZipEntry, ...]
    comment: bytes
    zip64: bool
    central_directory_offset: int
    central_directory_size: int
    findings: tuple[ZipFinding, ...]


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


def format_unix_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def extended_timestamp(data: bytes) -> dict[str, int]:
    """Decode 0x5455: a flags byte, then mtime, atime, ctime as flagged and as present.

    The central directory copy carries only mtime even when the flags announce more; the
    local copy carries all of them, so atime differences only show in local headers.
    """
    if not data:
        return {}
    flags, values = data[0], {}
    pos = 1
    for bit, key in ((1, "mtime"), (2, "atime"), (4, "ctime")):
        if flags & bit and pos + 4 <= len(data):
            values[key] = struct.unpack_from("<i", data, pos)[0]
            pos += 4
    return values


def unix_ids(data: bytes) -> dict[str, int]:
    """Decode 0x7875 (Info-ZIP "new unix"): version, then uid and gid of declared widths."""
    if len(data) < 2:
        return {}
    values: dict[str, int] = {}
    pos = 1
    for key in ("uid", "gid"):
        if pos >= len(data):
            break
        width = data[pos]
        raw = data[pos + 1 : pos + 1 + width]
        if len(raw) != width:
            break
        values[key] = int.from_bytes(raw, "little")
        pos += 1 + width
    return values


def _parse_extra(raw: bytes) -> tuple[tuple[ExtraField, ...], bool]:
    fields: list[ExtraField] = []
    pos = 0
    while pos + 4 <= len(raw):
        header_id, size = EXTRA_HEADER.unpack_from(raw, pos)
        if pos + 4 + size > len(raw):
            return tuple(fields), False
        fields.append(ExtraField(header_id, raw[pos + 4 : pos + 4 + size]))
        pos += 4 + size
    return tuple(fields), pos == len(raw)


def _decode_name(raw: bytes, flags: int) -> tuple[str, bool]:
    if flags & FLAG_UTF8:
        try:
            return raw.decode("utf-8"), True
        except UnicodeDecodeError:
            return raw.decode("utf-8", "replace"), False
    return raw.decode("cp437"), True


def name_problems(name: str) -> list[tuple[str, str]]:
    """(code, why) for every way a name could write outside the extraction directory."""
    problems = []
    parts = re.split(r"[/\\]", name)
    if not name:
        problems.append(("empty-name", "the entry has an empty name"))
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        problems.append(("absolute-name", "the name is absolute"))
    if ".." in parts:
        problems.append(("parent-traversal", "the name has a '..' component"))
    if "\\" in name:
        problems.append(("backslash-name", "the name contains a backslash"))
    if "\x00" in name:
        problems.append(("nul-in-name", "the name contains a NUL byte"))
    return problems


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
            self.archive = _Parser(path, self._fh, self.limits, self._deadline).parse()
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
        if (
            declared > limits.ratio_free_bytes
            and declared > max(entry.compressed_size, 1) * limits.max_ratio
        ):
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


class _Parser:
    def __init__(
        self,
        path: Path,
        fh: BinaryIO,
        limits: ReadLimits | None = None,
        deadline: float | None = None,
    ) -> None:
        self.path = path
        self.fh = fh
        self.findings: list[ZipFinding] = []
        self.limits = limits or ReadLimits()
        self.deadline = deadline if deadline is not None else time.monotonic() + 1e9

    def fail(self, what: str) -> ArchiveReadError:
        return ArchiveReadError(
            f"{self.path} cannot be read as a zip: {what}. It is not a zip, or it was truncated "
            "or corrupted (an interrupted download or copy?); rebuild or download it again."
        )

    def read_at(self, offset: int, size: int) -> bytes:
        if offset >= 1 << 63:  # a lying zip64 field: beyond what seek() takes, so no bytes
            return b""
        self.fh.seek(offset)
        return self.fh.read(size)

    def parse(self) -> ZipArchive:
        size = self.fh.seek(0, 2)
        if size == 0:
            raise self.fail("the file is empty")
        eocd_pos, eocd = self.find_eocd(size)
        _, disk, cd_disk, _, count, cd_size, cd_offset, comment_len = eocd
        comment = self.read_at(eocd_pos + 22, comment_len)
        cd_end = eocd_pos
        zip64 = False
        if eocd_pos >= 20:
            locator = EOCD64_LOCATOR.unpack(self.read_at(eocd_pos - 20, 20))
            if locator[0] == EOCD64_LOCATOR_SIG:
                zip64 = True
                cd_end, count, cd_size, cd_offset, disk, cd_disk = self.zip64_eocd(
                    eocd_pos, locator[2]
                )
        if disk or cd_disk:
            raise self.fail("it is one part of a multi-disk (split) archive")
        if count * 46 > cd_size:
            raise self.fail(
                f"it claims {count} entries, but its central directory of {cd_size} bytes can "
                f"hold at most {cd_size // 46}"
            )
        if count > self.limits.max_entries:
            raise ArchiveReadError(
                f"{self.path} claims {count} entries, more than the {self.limits.max_entries} "
                "this reader accepts (no Lambda package comes near it; a zip bomb?). Nothing "
                "was decompressed."
            )
        shift = cd_end - cd_size - cd_offset
        if shift < 0:
            raise self.fail(
                f"its central directory ({cd_size} bytes at offset {cd_offset}) extends past "
                f"the end-of-central-directory record at {cd_end}"
            )
        if shift:
            self.findings.append(
                ZipFinding("prepended-data", f"{shift} bytes precede the first entry")
            )
        entries = self.central_directory(cd_offset + shift, cd_size, count, shift)
        self.check_overlaps(entries, cd_offset + shift)
        return ZipArchive(
            path=self.path,
            size=size,
            entries=entries,
            comment=comment,
            zip64=zip64,
            central_directory_offset=cd_offset + shift,
            central_directory_size=cd_size,
            findings=tuple(self.findings),
        )

    def find_eocd(self, size: int) -> tuple[int, tuple[int, ...]]:
        start = max(0, size - EOCD_SEARCH)
        tail = self.read_at(start, size - start)
        signature = struct.pack("<I", EOCD_SIG)
        pos = tail.rfind(signature)
        loose: tuple[int, tuple[int, ...]] | None = None
        while pos >= 0:
            if pos + 22 <= len(tail):
                fields = EOCD.unpack_from(tail, pos)
                end = pos + 22 + fields[7]
                if end == len(tail):
                    return start + pos, fields
                if end < len(tail) and loose is None:
                    loose = (start + pos, fields)
            pos = tail.rfind(signature, 0, pos)
        if loose is None:
            raise self.fail(
                f"no end-of-central-directory record in its last {min(size, EOCD_SEARCH)} bytes"
            )
        trailing = size - (loose[0] + 22 + loose[1][7])
        self.findings.append(
            ZipFinding("trailing-data", f"{trailing} bytes follow the end of the archive")
        )
        return loose

    def zip64_eocd(self, eocd_pos: int, offset: int) -> tuple[int, int, int, int, int, int]:
        for candidate in (offset, eocd_pos - 20 - EOCD64.size):
            if candidate < 0:
                continue
            raw = self.read_at(candidate, EOCD64.size)
            if len(raw) == EOCD64.size and EOCD64.unpack(raw)[0] == EOCD64_SIG:
                fields = EOCD64.unpack(raw)
                return candidate, fields[7], fields[8], fields[9], fields[4], fields[5]
        raise self.fail("its zip64 end-of-central-directory record is missing")

    def central_directory(
        self, offset: int, size: int, count: int, shift: int
    ) -> tuple[ZipEntry, ...]:
        data = self.read_at(offset, size)
        if len(data) != size:
            raise self.fail("its central directory is cut short")
        entries: list[ZipEntry] = []
        seen: dict[str, int] = {}
        pos = 0
        for index in range(count):
            if index % 4096 == 0 and time.monotonic() > self.deadline:
                raise ArchiveReadError(
                    f"{self.path}: reading its central directory took longer than "
                    f"{self.limits.max_seconds:.0f} s, the limit for any one archive (a zip "
                    "bomb?). Nothing more is read from it."
                )
            if pos + 46 > size:
                raise self.fail(f"central directory record {index} is cut short")
            fields = CENTRAL.unpack_from(data, pos)
            if fields[0] != CENTRAL_SIG:
                raise self.fail(f"central directory record {index} has a bad signature")
            name_len, extra_len, comment_len = fields[10], fields[11], fields[12]
            end = pos + 46 + name_len + extra_len + comment_len
            if end > size:
                raise self.fail(f"central directory record {index} is cut short")
            name_bytes = data[pos + 46 : pos + 46 + name_len]
            extra_raw = data[pos + 46 + name_len : pos + 46 + name_len + extra_len]
            comment = data[end - comment_len : end]
            entry = self.entry(
                index,
                fields=fields,
                name_bytes=name_bytes,
                extra_raw=extra_raw,
                comment=comment,
                shift=shift,
            )
            self.check_name(entry, seen)
            entries.append(entry)
            pos = end
        if pos != size:
            self.findings.append(
                ZipFinding(
                    "entry-count-mismatch",
                    f"the central directory holds {size - pos} bytes beyond the {count} entries "
                    "the archive claims",
                )
            )
        return tuple(entries)

    def entry(
        self,
        index: int,
        *,
        fields: tuple[int, ...],
        name_bytes: bytes,
        extra_raw: bytes,
        comment: bytes,
        shift: int,
    ) -> ZipEntry:
        made_by, needed, flags, method, dos_time, dos_date, crc = fields[1:8]
        csize, usize, iattr, eattr, offset = (
            fields[8],
            fields[9],
            fields[14],
            fields[15],
            fields[16],
        )
        name, valid = _decode_name(name_bytes, flags)
        if not valid:
            self.findings.append(
                ZipFinding("invalid-utf8-name", "flagged UTF-8 but is not valid UTF-8", name)
            )
        extra, complete = _parse_extra(extra_raw)
        if not complete:
            self.findings.append(
                ZipFinding("bad-extra-field", "the central extra field is malformed", name)
            )
        for field in extra:
            if field.header_id == EXTRA_ZIP64:
                csize, usize, offset = _apply_zip64(field.data, csize, usize, offset)
        if flags & FLAG_ENCRYPTED:
            self.findings.append(ZipFinding("encrypted", "the entry is encrypted", name))
        if method not in SUPPORTED_METHODS:
            why = f"compression method {method} is not stored (0) or deflate (8)"
            self.findings.append(ZipFinding("unsupported-method", why, name))
        return ZipEntry(
            index=index,
            name=name,
            name_bytes=name_bytes,
            create_system=made_by >> 8,
            create_version=made_by & 0xFF,
            extract_version=needed,
            flags=flags,
            method=method,
            dos_time=dos_time,
            dos_date=dos_date,
            crc=crc,
            compressed_size=csize,
            uncompressed_size=usize,
            internal_attr=iattr,
            external_attr=eattr,
            extra=extra,
            extra_raw=extra_raw,
            comment=comment,
            local_header_offset=offset,
            local=self.local_header(name, name_bytes, offset + shift, csize),
        )

    def local_header(
        self, name: str, central_name: bytes, offset: int, compressed_size: int
    ) -> LocalHeader | None:
        raw = self.read_at(offset, LOCAL.size)
        if len(raw) != LOCAL.size or LOCAL.unpack(raw)[0] != LOCAL_SIG:
            why = f"no local header at offset {offset}"
            self.findings.append(ZipFinding("bad-local-header", why, name))
            return None
        _, needed, flags, method, dos_time, dos_date, crc, csize, usize, nlen, elen = LOCAL.unpack(
            raw
        )
        tail = self.fh.read(nlen + elen)
        if len(tail) != nlen + elen:
            self.findings.append(
                ZipFinding("bad-local-header", "the local header is cut short", name)
            )
            return None
        name_bytes, extra_raw = tail[:nlen], tail[nlen:]
        extra, complete = _parse_extra(extra_raw)
        if not complete:
            self.findings.append(
                ZipFinding("bad-extra-field", "the local extra field is malformed", name)
            )
        if name_bytes != central_name:
            why = "the local header names another file than the central directory"
            self.findings.append(ZipFinding("name-mismatch", why, name))
        data_offset = offset + LOCAL.size + nlen + elen
        data_end = data_offset + compressed_size
        if flags & FLAG_DATA_DESCRIPTOR:
            zip64 = any(f.header_id == EXTRA_ZIP64 for f in extra)
            has_sig = self.read_at(data_end, 4) == struct.pack("<I", DESCRIPTOR_SIG)
            data_end += (4 if has_sig else 0) + (20 if zip64 else 12)
        return LocalHeader(
            offset=offset,
            extract_version=needed,
            flags=flags,
            method=method,
            dos_time=dos_time,
            dos_date=dos_date,
            crc=crc,
            compressed_size=csize,
            uncompressed_size=usize,
            name_bytes=name_bytes,
            extra=extra,
            extra_raw=extra_raw,
            data_offset=data_offset,
            data_end=data_end,
        )

    def check_name(self, entry: ZipEntry, seen: dict[str, int]) -> None:
        for code, why in name_problems(entry.name):
            self.findings.append(ZipFinding(code, why, entry.name))
        first = seen.get(entry.name, entry.index)
        seen[entry.name] = entry.index
        if first != entry.index:
            why = (
                f"entries {first} and {entry.index} have the same name; unzip and Python's "
                f"zipfile extract the last one in the central directory (entry {entry.index}), "
                "so the content of the earlier copy is not what runs"
            )
            self.findings.append(ZipFinding("duplicate-name", why, entry.name))

    def check_overlaps(self, entries: tuple[ZipEntry, ...], cd_offset: int) -> None:
        spans = sorted(
            (entry.local.offset, entry.local.data_end, entry.index)
            for entry in entries
            if entry.local is not None
        )
        reach, reacher = 0, -1
        for start, end, index in spans:
            name = entries[index].name
            if start < reach:
                other = entries[reacher].name
                why = f"its bytes overlap those of {other!r} (overlapping zip bomb?)"
                self.findings.append(ZipFinding("overlapping-entries", why, name))
            if end > cd_offset:
                why = "its data runs into the central directory or past the end of file"
                self.findings.append(ZipFinding("data-out-of-bounds", why, name))
            if end > reach:
                reach, reacher = end, index


def _apply_zip64(data: bytes, csize: int, usize: int, offset: int) -> tuple[int, int, int]:
    # Only the fields saturated in the fixed record are present, in this order.
    pos = 0
    values = [usize, csize, offset]
    for slot in range(3):
        if values[slot] == 0xFFFFFFFF and pos + 8 <= len(data):
            values[slot] = struct.unpack_from("<Q", data, pos)[0]
            pos += 8
    return values[1], values[0], values[2]


def read_archive(path: Path, limits: ReadLimits | None = None) -> ZipArchive:
    """The archive's structure and findings, without reading any content."""
    with ZipReader(path, limits) as reader:
        return reader.archive

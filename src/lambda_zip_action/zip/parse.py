"""Parse a zip's structure from its bytes: the end records, the central directory, every local
header, without trusting any of them.

Anything hostile or broken (names that escape, overlapping or out-of-bounds entries, duplicate
names, malformed extra fields, prepended or trailing bytes) becomes a `ZipFinding`; only damage
that leaves nothing to read raises `ArchiveReadError`. About 400 lines: one parser walks the
records in the order they point at each other and gathers every finding as it goes; pieces of
it apart would only pass that list around.
"""

from __future__ import annotations

import re
import struct
import time
from pathlib import Path
from typing import BinaryIO

from lambda_zip_action.errors import ArchiveReadError
from lambda_zip_action.zip.budget import ReadLimits
from lambda_zip_action.zip.format import (
    CENTRAL,
    CENTRAL_SIG,
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
    LOCAL,
    LOCAL_SIG,
    SUPPORTED_METHODS,
    decode_name,
    zip64_values,
)
from lambda_zip_action.zip.structure import (
    ExtraField,
    LocalHeader,
    ZipArchive,
    ZipEntry,
    ZipFinding,
)

# The EOCD record (22 bytes) ends the file, followed by a comment of at most 65,535 bytes.
EOCD_SEARCH = 22 + 0xFFFF

_DRIVE = re.compile(r"^[A-Za-z]:")

# Honest writers put at most a handful of fields in a record. Empty 4-byte fields would make an
# object of every 4 bytes of a directory: 500 records of 65,532 such bytes took 540 MB.
MAX_EXTRA_FIELDS = 16


def _parse_extra(raw: bytes) -> tuple[tuple[ExtraField, ...], bool]:
    fields: list[ExtraField] = []
    pos = 0
    while pos + 4 <= len(raw):
        if len(fields) == MAX_EXTRA_FIELDS:
            return tuple(fields), False
        header_id, size = EXTRA_HEADER.unpack_from(raw, pos)
        if pos + 4 + size > len(raw):
            return tuple(fields), False
        fields.append(ExtraField(header_id, raw[pos + 4 : pos + 4 + size]))
        pos += 4 + size
    return tuple(fields), pos == len(raw)


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


class ArchiveParser:
    """Parses the end records, the central directory and every local header, collecting
    findings; raises ArchiveReadError only when nothing is left to read."""

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
        self.local_header_bytes = 0

    def fail(self, what: str) -> ArchiveReadError:
        return ArchiveReadError(
            f"{self.path} cannot be read as a zip: {what}. It is not a zip, or it was truncated "
            "or corrupted (an interrupted download or copy?); rebuild or download it again."
        )

    def too_large(self, what: str) -> ArchiveReadError:
        return ArchiveReadError(
            f"{self.path} is refused: {what}, and this reader accepts at most "
            f"{self.limits.max_header_bytes} (a Lambda package of 100,000 files needs less; "
            "names made long to exhaust memory?). Nothing was decompressed."
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
        if cd_size > self.limits.max_header_bytes:
            raise self.too_large(f"its central directory holds {cd_size} bytes")
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
        name, valid = decode_name(name_bytes, flags)
        if not valid:
            self.findings.append(
                ZipFinding("invalid-utf8-name", "flagged UTF-8 but is not valid UTF-8", name)
            )
        extra = self.extra_fields(extra_raw, "central", name)
        for field in extra:
            if field.header_id == EXTRA_ZIP64:
                csize, usize, offset = zip64_values(field.data, csize, usize, offset)
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
        self.local_header_bytes += nlen + elen
        if self.local_header_bytes > self.limits.max_header_bytes:
            raise self.too_large(
                f"the names and extra fields of its local headers hold at least "
                f"{self.local_header_bytes} bytes"
            )
        tail = self.fh.read(nlen + elen)
        if len(tail) != nlen + elen:
            self.findings.append(
                ZipFinding("bad-local-header", "the local header is cut short", name)
            )
            return None
        # The central name's object when they agree: a long name is then held once, not twice.
        name_bytes = central_name if tail[:nlen] == central_name else tail[:nlen]
        extra_raw = tail[nlen:]
        extra = self.extra_fields(extra_raw, "local", name)
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

    def extra_fields(self, raw: bytes, where: str, name: str) -> tuple[ExtraField, ...]:
        fields, complete = _parse_extra(raw)
        if not complete:
            why = f"the {where} extra field is malformed or has over {MAX_EXTRA_FIELDS} fields"
            self.findings.append(ZipFinding("bad-extra-field", why, name))
        return fields

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

"""What a zip holds, as parsed: its entries (central record and local header), its findings.

Plain values: `zip.parse` builds them from the bytes, `zip.reader` reads content through them,
and the proof tools compare and lint them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lambda_zip_action.zip.format import FLAG_DATA_DESCRIPTOR, FLAG_ENCRYPTED, from_dos


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

"""Build zips byte by byte, including the hostile ones no well-behaved writer produces."""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

FIXED = (1980, 1, 1, 0, 0, 0)


@dataclass
class Member:
    name: bytes
    data: bytes = b""
    method: int = 0
    declared_size: int | None = None  # lie about the uncompressed size
    mode: int = 0o100644
    flags: int = 0
    offset: int | None = None  # point the central record at another local header
    central_name: bytes | None = None
    extra: bytes = b""  # the local header's extra field
    central_extra: bytes = b""


def craft(path: Path, members: list[Member], count: int | None = None) -> Path:
    """Write local headers and data for members, then a central directory pointing at them."""
    body = bytearray()
    central = bytearray()
    offsets: list[int] = []
    for m in members:
        payload = zlib.compress(m.data, 9)[2:-4] if m.method == 8 else m.data
        crc = zlib.crc32(m.data)
        size = len(m.data) if m.declared_size is None else m.declared_size
        offsets.append(len(body))
        name = m.central_name or m.name
        if m.offset is not None:
            # Only a central record: it reuses another member's local header and data.
            central += _central(m, name, crc, len(payload), size, m.offset)
            continue
        local = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            m.flags,
            m.method,
            0,
            33,
            crc,
            len(payload),
            size,
            len(m.name),
            len(m.extra),
        )
        body += local + m.name + m.extra + payload
        central += _central(m, name, crc, len(payload), size, offsets[-1])
    total = len(members) if count is None else count
    eocd = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, total & 0xFFFF, total & 0xFFFF, len(central), len(body), 0
    )
    path.write_bytes(bytes(body + central + eocd))
    return path


def _central(m: Member, name: bytes, crc: int, csize: int, size: int, offset: int) -> bytes:
    return (
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            (3 << 8) | 20,
            20,
            m.flags,
            m.method,
            0,
            33,
            crc,
            csize,
            size,
            len(name),
            len(m.central_extra),
            0,
            0,
            0,
            m.mode << 16,
            offset,
        )
        + name
        + m.central_extra
    )


def deterministic(
    path: Path, files: dict[str, bytes], executable: frozenset[str] = frozenset()
) -> Path:
    """What a reproducible writer produces: sorted, 1980-01-01, 0644/0755, no extras."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files, key=lambda n: n.encode()):
            info = zipfile.ZipInfo(name, FIXED)
            info.create_system = 3
            mode = 0o755 if name in executable or name.endswith("/") else 0o644
            kind = 0o040000 if name.endswith("/") else 0o100000
            info.external_attr = (kind | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
    return path


class NonSeekable:
    """A write-only stream: zipfile then adds data descriptors after each member."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass  # zipfile never closes a stream it was given; typeshed's protocol still asks

    def tell(self) -> int:
        raise OSError("not seekable")

    def seekable(self) -> bool:
        return False

"""The zip format, written down once for the writer (archive) and the reader (zip.reader).

Record signatures and layouts (APPNOTE 6.3.x, sections 4.3.7 to 4.3.16), the general purpose
flags, the methods and extra-field ids this tool writes or looks at, DOS dates both ways, and
the decoding of names, of zip64 fields and of the extra fields that explain why two zips differ
(0x5455, 0x7875).
"""

from __future__ import annotations

import struct
import time
from datetime import datetime, timezone

LOCAL_SIG = 0x04034B50
CENTRAL_SIG = 0x02014B50
EOCD_SIG = 0x06054B50
EOCD64_SIG = 0x06064B50
EOCD64_LOCATOR_SIG = 0x07064B50
DESCRIPTOR_SIG = 0x08074B50

LOCAL = struct.Struct("<IHHHHHIIIHH")
CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
EOCD = struct.Struct("<IHHHHIIH")
EOCD64 = struct.Struct("<IQHHIIQQQQ")
EOCD64_LOCATOR = struct.Struct("<IIQI")
EXTRA_HEADER = struct.Struct("<HH")

FLAG_ENCRYPTED = 0x1
FLAG_DATA_DESCRIPTOR = 0x8
FLAG_UTF8 = 0x800
STORED = 0
DEFLATED = 8
SUPPORTED_METHODS = (STORED, DEFLATED)  # what the reader decompresses
UNIX = 3  # "version made by" host system

EXTRA_ZIP64 = 0x0001
EXTRA_EXTENDED_TIMESTAMP = 0x5455
EXTRA_UNIX_IDS = 0x7875

ZIP64_LIMIT = 0xFFFFFFFF
COUNT_LIMIT = 0xFFFF
DOS_EPOCH = 315532800  # 1980-01-01 00:00:00 UTC, the earliest date a zip can hold


def to_dos(epoch: int | None) -> tuple[int, int]:
    """(date, time) fields for `epoch` read in UTC; DOS time has 2-second resolution."""
    moment = time.gmtime(max(epoch if epoch is not None else DOS_EPOCH, DOS_EPOCH))
    date = ((moment.tm_year - 1980) << 9) | (moment.tm_mon << 5) | moment.tm_mday
    clock = (moment.tm_hour << 11) | (moment.tm_min << 5) | (moment.tm_sec // 2)
    return date, clock


def from_dos(dos_date: int, dos_time: int) -> tuple[int, int, int, int, int, int]:
    """(year, month, day, hour, minute, second) of DOS date and time fields."""
    return (
        (dos_date >> 9) + 1980,
        (dos_date >> 5) & 0xF,
        dos_date & 0x1F,
        dos_time >> 11,
        (dos_time >> 5) & 0x3F,
        (dos_time & 0x1F) * 2,
    )


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


def decode_name(raw: bytes, flags: int) -> tuple[str, bool]:
    """A name as its flags say it is encoded, and whether it decoded cleanly."""
    if flags & FLAG_UTF8:
        try:
            return raw.decode("utf-8"), True
        except UnicodeDecodeError:
            return raw.decode("utf-8", "replace"), False
    return raw.decode("cp437"), True


def zip64_values(data: bytes, csize: int, usize: int, offset: int) -> tuple[int, int, int]:
    """(compressed size, size, offset) with the saturated ones taken from a zip64 extra."""
    # Only the fields saturated in the fixed record are present, in this order.
    pos = 0
    values = [usize, csize, offset]
    for slot in range(3):
        if values[slot] == 0xFFFFFFFF and pos + 8 <= len(data):
            values[slot] = struct.unpack_from("<Q", data, pos)[0]
            pos += 8
    return values[1], values[0], values[2]

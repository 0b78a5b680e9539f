"""The zip format, written down once for the writer (archive) and the reader (zipread).

Record signatures and layouts (APPNOTE 6.3.x, sections 4.3.7 to 4.3.16), the general purpose
flags, the methods and extra-field ids this tool writes or looks at, and DOS dates both ways.
"""

from __future__ import annotations

import struct
import time

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

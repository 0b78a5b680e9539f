"""How much reading one archive may cost: the limits every reader path draws from.

The ratio and the archive-wide output budget stop zip bombs before they are inflated; the entry
count, the size of the headers and the deadline stop archives built to make parsing itself
slow or large.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    # Under the entry limit, long names still cost: 99,000 records with names of 4 KiB took
    # `diff` to 1.8 GiB. The central directory, and the names and extra fields of the local
    # headers together, may each hold this much; 100,000 entries with 200-byte names and the
    # usual extras need about 26 MB.
    max_header_bytes: int = 32 * 1024 * 1024

    def ratio_exceeded(self, declared: int, compressed: int) -> bool:
        """Whether an entry claims more output than honest deflate gives, and enough to matter."""
        return declared > self.ratio_free_bytes and declared > max(compressed, 1) * self.max_ratio

    def budget(self, archive_size: int) -> int:
        return self.ratio_free_bytes + archive_size * self.max_ratio

"""Deflated bytes kept between builds, and the check verify's rebuild makes of every hit."""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import zlib
from pathlib import Path


class DeflateCache:
    """Deflated bytes of files kept between builds, keyed by content, level and zlib.

    The same bytes through the same zlib at the same level always deflate the same way, so a
    hit changes nothing but the time. Each cache file carries the CRC-32 of its stream, so a
    truncated or damaged file is a miss, never a broken zip. The smallest files are not cached:
    deflating them is cheaper than opening a cache file. verify's rebuild (`checked`) takes a
    hit only once it has inflated it back to exactly the content it stands for, and stores
    nothing: a wrong entry is deflated afresh there and shows up as "NOT reproducible".
    """

    MIN_SIZE = 4 * 1024
    FORMAT = "deflate-2"

    def __init__(
        self, root: Path, zlib_version: str = zlib.ZLIB_RUNTIME_VERSION, checked: bool = False
    ) -> None:
        self.root = root
        self.zlib_version = zlib_version
        self.checked = checked

    def _path(self, sha: str, level: int) -> Path:
        return self.root / f"{self.FORMAT}-zlib-{self.zlib_version}-{level}" / sha[:2] / sha

    def load(self, sha: str, level: int) -> bytes | None:
        try:
            stored = self._path(sha, level).read_bytes()
        except OSError:
            return None
        data = stored[4:]
        if len(stored) < 4 or struct.unpack(">I", stored[:4])[0] != zlib.crc32(data):
            return None
        if self.checked and not inflates_to(data, sha):
            return None
        return data

    def store(self, sha: str, level: int, data: bytes) -> None:
        if self.checked:
            return
        path = self._path(sha, level)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".store-")
            with os.fdopen(handle, "wb") as stream:
                stream.write(struct.pack(">I", zlib.crc32(data)))
                stream.write(data)
            Path(temporary).replace(path)
        except OSError:
            pass  # a cache that cannot be written only makes a slower next build


def inflates_to(data: bytes, sha: str) -> bool:
    """Whether the raw deflate stream `data` is complete and inflates to content with `sha`.

    Fed and drained a window at a time, so neither a big stream nor one that expands enormously
    costs more than a few windows of memory or copying.
    """
    inflater = zlib.decompressobj(-15)
    digest = hashlib.sha256()
    view = memoryview(data)
    try:
        for start in range(0, len(view), INFLATE_WINDOW):
            pending: bytes | memoryview = view[start : start + INFLATE_WINDOW]
            while pending:
                digest.update(inflater.decompress(pending, INFLATE_WINDOW))
                pending = inflater.unconsumed_tail
        digest.update(inflater.flush())
    except zlib.error:
        return False
    return inflater.eof and not inflater.unused_data and digest.hexdigest() == sha


INFLATE_WINDOW = 256 * 1024

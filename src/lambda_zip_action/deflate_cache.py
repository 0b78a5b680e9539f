"""Deflated bytes kept between builds, and the check verify's rebuild makes of every hit."""

from __future__ import annotations

import functools
import hashlib
import os
import struct
import tempfile
import zlib
from pathlib import Path

# Raw deflate (no zlib header), zlib's default memory level and strategy: part of every key.
WBITS = -15
INFLATE_WINDOW = 256 * 1024
INFLATE_OUTPUT = 1 << 20
_HEADER = struct.Struct(">QI")  # the stream's length and CRC-32


def compressor(level: int) -> zlib._Compress:
    """The one way this tool deflates: raw deflate, zlib's default memory level and strategy.
    The writer and the cache's fingerprint both use it, so a change here changes the keys."""
    return zlib.compressobj(level, zlib.DEFLATED, WBITS)


@functools.cache
def zlib_fingerprint(level: int) -> str:
    """What this zlib makes of a fixed sample at `level`: two builds of one zlib version that
    deflate differently (a patched or hardware-assisted zlib) get different keys."""
    sample = b"".join(
        hashlib.sha256(str(i).encode()).hexdigest().encode() + b" lambda-zip %d\n" % (i % 97)
        for i in range(2048)
    )
    deflater = compressor(level)
    return hashlib.sha256(deflater.compress(sample) + deflater.flush()).hexdigest()[:16]


class DeflateCache:
    """Deflated bytes of files kept between builds, keyed by content, level and zlib.

    The key holds the content's sha256, the level, zlib's version and what this zlib makes of
    a fixed sample (`zlib_fingerprint`), so a hit is the stream this zlib would make: it
    changes nothing but the time. Each cache file carries its stream's length and CRC-32, so a
    truncated or damaged file is a miss, never a broken zip. The smallest files are not cached:
    deflating them is cheaper than opening a cache file. verify's rebuild (`checked`) takes a
    hit only once it has inflated it back to exactly the content it stands for, and stores
    nothing; a hit that inflates to other content is deflated afresh there and shows up as
    "NOT reproducible". Like uv's and pip's caches, it is trusted not to be forged: an entry
    forged to inflate to the right content with other bytes would go unnoticed, so build with
    --no-cache where the cache directory is not yours alone.
    """

    MIN_SIZE = 4 * 1024
    FORMAT = "deflate-3"

    def __init__(
        self, root: Path, zlib_version: str = zlib.ZLIB_RUNTIME_VERSION, checked: bool = False
    ) -> None:
        self.root = root
        self.zlib_version = zlib_version
        self.checked = checked

    def _path(self, sha: str, level: int) -> Path:
        flavour = f"{self.FORMAT}-zlib-{self.zlib_version}-{zlib_fingerprint(level)}-{level}"
        return self.root / flavour / sha[:2] / sha

    def load(self, sha: str, level: int) -> bytes | None:
        try:
            stored = self._path(sha, level).read_bytes()
        except OSError:
            return None
        if len(stored) <= _HEADER.size:
            return None
        length, crc = _HEADER.unpack_from(stored)
        data = stored[_HEADER.size :]
        if len(data) != length or zlib.crc32(data) != crc:
            return None
        if self.checked and not inflates_to(data, sha):
            return None
        return data

    def store(self, sha: str, level: int, data: bytes) -> None:
        if self.checked or not data:
            return
        path = self._path(sha, level)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".store-")
            with os.fdopen(handle, "wb") as stream:
                stream.write(_HEADER.pack(len(data), zlib.crc32(data)))
                stream.write(data)
            Path(temporary).replace(path)
        except OSError:
            pass  # a cache that cannot be written only makes a slower next build


def inflates_to(data: bytes, sha: str) -> bool:
    """Whether `data` is one complete raw deflate stream, nothing after it, that inflates to
    content with `sha`.

    Fed a window of input and drained a window of output at a time, so a big stream or one
    that expands enormously costs a few windows of memory, never the whole content.
    """
    inflater = zlib.decompressobj(WBITS)
    digest = hashlib.sha256()
    view = memoryview(data)
    try:
        for start in range(0, len(view), INFLATE_WINDOW):
            pending: bytes | memoryview = view[start : start + INFLATE_WINDOW]
            while pending and not inflater.eof:
                digest.update(inflater.decompress(pending, INFLATE_OUTPUT))
                pending = inflater.unconsumed_tail
            if inflater.eof:
                # Anything after the stream's end (here or in a later window) is not a hit.
                return (
                    not pending
                    and not inflater.unused_data
                    and start + INFLATE_WINDOW >= len(view)
                    and digest.hexdigest() == sha
                )
        while not inflater.eof:
            # The input is all fed; what it still holds comes out a window at a time.
            chunk = inflater.decompress(b"", INFLATE_OUTPUT)
            if not chunk:
                return False
            digest.update(chunk)
    except zlib.error:
        return False
    return not inflater.unused_data and digest.hexdigest() == sha

"""Big files are deflated in chunks: the bytes are those of a one-shot deflate, memory is not.

The archive writer reads files of STREAM_SIZE and more in chunks, so its peak memory follows the
largest file's compressed size. That is only allowed because zlib's output does not depend on
how its input is cut; checked here on data that compresses well, badly and not at all, and on
sizes around the chunk boundary. A naive writer that deflated each chunk on its own (a flush
per chunk) would give other bytes: the last case shows the check can tell.
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from pathlib import Path

import pytest

from lambda_zip_action import archive
from lambda_zip_action.deflate_cache import DeflateCache
from lambda_zip_action.errors import OutputError
from lambda_zip_action.stage import StagedFile


def one_shot(data: bytes, level: int = 6) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def sample(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    words = [bytes(rng.randrange(97, 123) for _ in range(rng.randrange(2, 9))) for _ in range(300)]
    text = b" ".join(rng.choice(words) for _ in range(size // 4))[: size // 2]
    noise = rng.randbytes(size - len(text))
    return text + noise


@pytest.mark.parametrize(
    "size", [archive.STREAM_SIZE, archive.STREAM_SIZE + 1, 3 * archive.STREAM_SIZE - 7]
)
def test_streamed_entry_is_the_one_shot_deflate(tmp_path: Path, size: int) -> None:
    data = sample(size, size)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    out = io.BytesIO()
    archive.write_zip([StagedFile("big.bin", path, 0o644, "dependency", size)], out, 6, None)
    with zipfile.ZipFile(out) as opened:
        info = opened.getinfo("big.bin")
        assert opened.read("big.bin") == data  # CRC checked by zipfile
        offset = info.header_offset + 30 + len(info.filename)
    assert info.compress_size == len(one_shot(data))
    assert out.getvalue()[offset : offset + info.compress_size] == one_shot(data)


def test_streamed_and_cached_entries_agree(tmp_path: Path) -> None:
    data = sample(2 * archive.STREAM_SIZE, 7)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    cache = DeflateCache(tmp_path / "cache")
    entries = [StagedFile("big.bin", path, 0o644, "dependency", len(data))]
    zips = []
    for _ in range(2):  # the first run fills the cache, the second reads it
        out = io.BytesIO()
        archive.write_zip(entries, out, 6, None, cache=cache)
        zips.append(out.getvalue())
    assert zips[0] == zips[1]
    assert any((tmp_path / "cache").rglob("*"))


def test_deflating_each_chunk_alone_would_differ() -> None:
    data = sample(2 * archive.STREAM_SIZE, 11)
    chunk = archive.STREAM_SIZE
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    flushed = (
        b"".join(
            compressor.compress(data[i : i + chunk]) + compressor.flush(zlib.Z_FULL_FLUSH)
            for i in range(0, len(data), chunk)
        )
        + compressor.flush()
    )
    assert flushed != one_shot(data)


def _crc_table() -> list[int]:
    table = []
    for index in range(256):
        value = index
        for _ in range(8):
            value = (value >> 1) ^ 0xEDB88320 if value & 1 else value >> 1
        table.append(value)
    return table


def with_crc(prefix: bytes, target: int) -> bytes:
    """`prefix` and four bytes chosen so that the whole has CRC-32 `target`.

    After four bytes, CRC-32's register holds only what the table added: walk back from the
    target to learn which table entries that takes, then choose each byte to select them.
    """
    table = _crc_table()
    by_top_byte = {entry >> 24: index for index, entry in enumerate(table)}
    register, wanted = zlib.crc32(prefix) ^ 0xFFFFFFFF, target ^ 0xFFFFFFFF
    indexes = []
    for _ in range(4):
        index = by_top_byte[wanted >> 24]
        indexes.append(index)
        wanted = ((wanted ^ table[index]) << 8) & 0xFFFFFFFF
    tail = bytearray()
    for index in reversed(indexes):
        tail.append((register ^ index) & 0xFF)
        register = (register >> 8) ^ table[index]
    return prefix + bytes(tail)


class SwappingCache(DeflateCache):
    """A cache that misses, and on its way replaces the file: what another process could do
    between the writer's hashing read and its deflating read."""

    def __init__(self, root: Path, path: Path, replacement: bytes) -> None:
        super().__init__(root)
        self.path, self.replacement = path, replacement

    def load(self, sha: str, level: int) -> bytes | None:
        swapped = self.path.with_name(".swapped")
        swapped.write_bytes(self.replacement)
        swapped.replace(self.path)
        return None


def test_a_file_swapped_for_one_of_the_same_crc_between_the_reads_is_refused(
    tmp_path: Path,
) -> None:
    """The CRC-32 the zip records cannot tell the two contents apart; the sha256 can.

    Before, the second read was compared by CRC-32 only: the zip held the deflated second
    content under the first one's sha256, and zipfile read it back without complaint.
    """
    first = sample(2 * archive.STREAM_SIZE, 11)
    second = with_crc(first[:1000] + b"import os; os.system('evil')\n" + first[1029:-4],
                      zlib.crc32(first))  # fmt: skip
    assert (len(second), zlib.crc32(second)) == (len(first), zlib.crc32(first))
    assert second != first
    path = tmp_path / "big.bin"
    path.write_bytes(first)
    entries = [StagedFile("big.bin", path, 0o644, "dependency", len(first))]
    cache = SwappingCache(tmp_path / "cache", path, second)
    with pytest.raises(OutputError, match="changed while it was being written into the zip"):
        archive.write_zip(entries, io.BytesIO(), 6, None, cache=cache)
    assert path.read_bytes() == second  # the swap did happen between the two reads

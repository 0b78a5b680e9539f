"""The S3 ETags a zip gets from the uploaders people use, computed from its bytes.

S3 gives a single-part upload (PutObject, without SSE-KMS) the md5 of the bytes as its ETag. A
multipart upload gets the md5 of the concatenated binary md5s of its parts, a dash and the
number of parts. Which one a zip gets depends on the uploader's rule, so each ETag here is
named by the uploader that produces it:

- Terraform's `aws_s3_object` (hashicorp/aws 5.x: `manager.NewUploader` of the AWS SDK for Go
  v2, default options) and any other use of that upload manager: parts of 5 MiB; a body of at
  most one part (size <= 5 MiB) goes up as a single PutObject. When size / part >= 10,000, the
  part becomes size // 10,000 + 1 bytes.
- The AWS CLI's `aws s3 cp` and boto3's `upload_file` (s3transfer, default configuration):
  multipart from 8 MiB on (size >= 8 MiB), in parts of 8 MiB, doubled while more than 10,000
  parts would be needed.

Below each threshold the uploader's ETag is the plain md5.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

MIB = 1024 * 1024
MAX_PARTS = 10_000
SDK_PART = 5 * MIB  # AWS SDK for Go v2 manager.DefaultUploadPartSize
CLI_PART = 8 * MIB  # s3transfer's multipart_chunksize and multipart_threshold
CLI_THRESHOLD = 8 * MIB

_ETAG = re.compile(r'"?([0-9a-fA-F]{32})(?:-([1-9][0-9]{0,4}))?"?')


def sdk_part_size(size: int) -> int:
    """The part size the Go SDK's upload manager uses for a body of `size` bytes."""
    if size // SDK_PART >= MAX_PARTS:
        return size // MAX_PARTS + 1
    return SDK_PART


def cli_part_size(size: int) -> int:
    """The part size s3transfer (aws s3 cp, boto3) uses for a body of `size` bytes."""
    part = CLI_PART
    while -(-size // part) > MAX_PARTS:
        part *= 2
    return part


def multipart_etag(part_md5s: Iterable[bytes]) -> str:
    """S3's ETag of a completed multipart upload from its parts' binary md5 digests."""
    parts = list(part_md5s)
    return f"{hashlib.md5(b''.join(parts), usedforsecurity=False).hexdigest()}-{len(parts)}"


@dataclass(frozen=True)
class S3ETags:
    """The zip's ETag after each kind of upload (hex, without the quotes S3 puts around it)."""

    md5: str
    s3_etag_5mib: str
    s3_etag_8mib: str

    def as_dict(self) -> dict[str, str]:
        return {
            "md5": self.md5,
            "s3-etag-5mib": self.s3_etag_5mib,
            "s3-etag-8mib": self.s3_etag_8mib,
        }

    def candidates(self, etag: str) -> list[str]:
        """The names of our ETags that `etag` is to be compared with, judged by its form.

        A plain md5 compares with `md5`; `<md5>-N` with each uploader's ETag of N parts (a zip
        of 9 MiB gets 2 parts from both). Empty when no uploader of ours makes N parts of this
        zip: such an ETag belongs to other bytes or another part size.
        """
        parsed = parse_etag(etag)
        if parsed is None:
            return []
        _, parts = parsed
        if parts is None:
            return ["md5"]
        etags = self.as_dict()
        names = ("s3-etag-5mib", "s3-etag-8mib")
        return [name for name in names if etags[name].endswith(f"-{parts}")]


def parse_etag(value: str) -> tuple[str, int | None] | None:
    """(md5 hex, number of parts or None) of an ETag as S3 prints it, quoted or not."""
    match = _ETAG.fullmatch(value.strip())
    if match is None:
        return None
    return match.group(1).lower(), int(match.group(2)) if match.group(2) else None


def s3_etags(stream: BinaryIO) -> S3ETags:
    """Read `stream` from its start once and compute every ETag of the bytes."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    sdk_part, cli_part = sdk_part_size(size), cli_part_size(size)
    whole = hashlib.md5(usedforsecurity=False)
    hashers = {sdk_part: _Parts(sdk_part), cli_part: _Parts(cli_part)}
    block = _gcd_block(sdk_part, cli_part)
    for chunk in iter(lambda: stream.read(block), b""):
        whole.update(chunk)
        for parts in hashers.values():
            parts.update(chunk)
    md5 = whole.hexdigest()
    sdk = hashers[sdk_part].digests() if size > sdk_part else None
    cli = hashers[cli_part].digests() if size >= CLI_THRESHOLD else None
    return S3ETags(
        md5=md5,
        s3_etag_5mib=multipart_etag(sdk) if sdk is not None else md5,
        s3_etag_8mib=multipart_etag(cli) if cli is not None else md5,
    )


class PartHashes:
    """The md5 of every 5 MiB and 8 MiB part of the bytes written, fed as they are written, so
    the ETags need no second read of the zip (`etags`)."""

    def __init__(self) -> None:
        self.sdk = _Parts(SDK_PART)
        self.cli = _Parts(CLI_PART)

    def update(self, chunk: bytes) -> None:
        self.sdk.update(chunk)
        self.cli.update(chunk)

    def etags(self, size: int, md5: str) -> S3ETags | None:
        """The ETags of `size` bytes whose md5 is `md5`; None when an uploader would use
        parts of another size (a zip of 50 GB and more), which needs s3_etags."""
        if sdk_part_size(size) != SDK_PART or cli_part_size(size) != CLI_PART:
            return None
        sdk = self.sdk.digests() if size > SDK_PART else None
        cli = self.cli.digests() if size >= CLI_THRESHOLD else None
        return S3ETags(
            md5=md5,
            s3_etag_5mib=multipart_etag(sdk) if sdk is not None else md5,
            s3_etag_8mib=multipart_etag(cli) if cli is not None else md5,
        )


class _Parts:
    """md5 digests of consecutive `part`-byte pieces, fed in chunks that never straddle two."""

    def __init__(self, part: int) -> None:
        self.part = part
        self.done: list[bytes] = []
        self.current = hashlib.md5(usedforsecurity=False)
        self.filled = 0

    def update(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            take = min(len(view), self.part - self.filled)
            self.current.update(view[:take])
            self.filled += take
            view = view[take:]
            if self.filled == self.part:
                self.done.append(self.current.digest())
                self.current = hashlib.md5(usedforsecurity=False)
                self.filled = 0

    def digests(self) -> list[bytes]:
        return self.done + ([self.current.digest()] if self.filled else [])


def _gcd_block(first: int, second: int) -> int:
    # Reading in blocks that divide both part sizes keeps the splitting in _Parts cheap.
    while second:
        first, second = second, first % second
    return min(first, MIB)


__all__ = [
    "S3ETags",
    "cli_part_size",
    "multipart_etag",
    "parse_etag",
    "s3_etags",
    "sdk_part_size",
]

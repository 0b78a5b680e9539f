"""One side of a comparison, read from a zip (any tool's) or one of our manifests.

A zip is read through the bounded reader (`zip.reader`): every entry's content hash, the
distributions its `*.dist-info/METADATA` name, and which distribution's RECORD owns each file.
A manifest gives the same from its JSON; one of schema 1 is upgraded first (`manifest.upgrade`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from lambda_zip_action.errors import ArchiveReadError
from lambda_zip_action.manifest import SCHEMA as MANIFEST_SCHEMA
from lambda_zip_action.manifest import upgrade
from lambda_zip_action.proof.model import DistributionVersion, FileRecord, SideSummary
from lambda_zip_action.records import bytecode_source
from lambda_zip_action.zip.reader import CHUNK, ZipReader
from lambda_zip_action.zip.structure import ZipArchive, ZipEntry

METADATA_READ_LIMIT = 256 * 1024
RECORD_READ_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True)
class Side:
    """What `diff` compares of one side; `archive` is None for a manifest."""

    summary: SideSummary
    files: dict[str, FileRecord]
    distributions: tuple[DistributionVersion, ...]
    archive: ZipArchive | None
    duplicates: tuple[str, ...] = ()
    owners: Mapping[str, str] = field(default_factory=dict)


def load(path: Path) -> Side:
    """A zip or a manifest (told apart by its first bytes); ArchiveReadError when unreadable."""
    try:
        with path.open("rb") as fh:
            head = fh.read(64).lstrip()
    except OSError as exc:
        raise ArchiveReadError(
            f"Cannot read {path}: {exc.strerror or exc}. Give the path of a zip or a manifest."
        ) from exc
    if head.startswith(b"{"):
        return _load_manifest(path)
    return _load_zip(path)


def _load_zip(path: Path) -> Side:
    files: dict[str, FileRecord] = {}
    duplicates: list[str] = []
    with ZipReader(path) as reader:
        for entry in reader.archive.entries:
            if entry.name in files and entry.name not in duplicates:
                duplicates.append(entry.name)
            # The last copy wins, as with unzip and Python's zipfile: compare what is extracted.
            files[entry.name] = _record(reader, entry, path)
        distributions = read_distributions(reader)
        owners = read_owners(reader)
        archive = reader.archive
    unzipped = sum(record.size for record in files.values())
    summary = SideSummary(
        os.path.normpath(path),
        "zip",
        file_sha256(path),
        archive.size,
        len(archive.entries),
        unzipped,
    )
    return Side(summary, files, distributions, archive, tuple(duplicates), owners)


def _record(reader: ZipReader, entry: ZipEntry, path: Path) -> FileRecord:
    mode = entry.mode & 0o7777 if entry.mode is not None else None
    if entry.is_dir:
        return FileRecord(entry.name, 0, None, mode)
    content = reader.hash_entry(entry)
    if content.finding is not None:
        raise ArchiveReadError(
            f"Cannot compare {path}: entry {entry.name!r}: {content.finding.message}. Run "
            "`lambda-zip inspect` on it to see everything that is wrong with this archive."
        )
    return FileRecord(entry.name, content.size, content.sha256, mode)


def read_distributions(reader: ZipReader) -> tuple[DistributionVersion, ...]:
    """Name and Version of every top-level `*.dist-info/METADATA` (also under `python/`)."""
    found: list[DistributionVersion] = []
    for entry in reader.archive.entries:
        parts = entry.name.split("/")
        if parts[-1] != "METADATA" or len(parts) < 2 or not parts[-2].endswith(".dist-info"):
            continue
        if len(parts) > 2 and parts[0] != "python":
            continue
        head = reader.read_head(entry, METADATA_READ_LIMIT)
        if head is None:
            continue
        headers = _metadata_headers(head.decode("utf-8", "replace"))
        if "name" in headers and "version" in headers:
            found.append(
                DistributionVersion(canonicalize_name(headers["name"]), headers["version"])
            )
    return tuple(sorted(found, key=lambda d: (canonicalize_name(d.name), d.version)))


def read_owners(reader: ZipReader) -> dict[str, str]:
    """Entry name -> the distribution whose RECORD lists it (its bytecode included)."""
    owners: dict[str, str] = {}
    for entry in reader.archive.entries:
        parts = entry.name.split("/")
        layer = len(parts) == 3 and parts[0] == "python"
        if parts[-1] != "RECORD" or not parts[-2].endswith(".dist-info"):
            continue
        if len(parts) != 2 and not layer:
            continue
        head = reader.read_head(entry, RECORD_READ_LIMIT)
        if head is None:
            continue
        prefix = "python/" if layer else ""
        owner = canonicalize_name(parts[-2].removesuffix(".dist-info").rsplit("-", 1)[0])
        for row in csv.reader(io.StringIO(head.decode("utf-8", "replace"))):
            if row and row[0] and not row[0].startswith(("/", "../")):
                owners.setdefault(prefix + row[0], owner)
    for entry in reader.archive.entries:
        source = bytecode_source(entry.name)
        if source is not None and source in owners:
            owners.setdefault(entry.name, owners[source])
    return owners


def _metadata_headers(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key.lower() in ("name", "version"):
            headers.setdefault(key.lower(), value.strip())
    return headers


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _load_manifest(path: Path) -> Side:
    """A manifest's side, every field checked: it may come from anyone (a baseline in a pull
    request), so a value of the wrong type is an error here, not a traceback later."""

    def bad(why: str) -> ArchiveReadError:
        return ArchiveReadError(
            f"{path} is not a usable lambda-zip manifest: {why}. Give a zip, or the manifest "
            f"JSON written by `lambda-zip build` (schema {MANIFEST_SCHEMA!r})."
        )

    try:
        if path.stat().st_size > MANIFEST_MAX_BYTES:
            raise bad(f"it holds more than {MANIFEST_MAX_BYTES} bytes")
        data = upgrade(json_object(path.read_text(encoding="utf-8")))
    except RecursionError:
        raise bad("it is nested too deeply") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise bad(f"it cannot be parsed as JSON ({exc})") from exc
    except ValueError as exc:
        raise bad(str(exc)) from exc
    try:
        archive = _table(data.get("archive", {}), "archive")
        files: dict[str, FileRecord] = {}
        owners: dict[str, str] = {}
        for index, raw in enumerate(_array(data["entries"], "entries")):
            where = f"entries[{index}]"
            item = _table(raw, where)
            record = FileRecord(
                _text(item["path"], f"{where}.path"),
                _count(item.get("size") or 0, f"{where}.size"),
                _digest(item.get("sha256"), f"{where}.sha256"),
                _mode(item.get("mode"), f"{where}.mode"),
            )
            if record.path in files:
                raise ValueError(f"{where}.path {record.path!r} is listed twice")
            files[record.path] = record
            if item.get("owner"):
                owners[record.path] = _text(item["owner"], f"{where}.owner")
        distributions = tuple(
            DistributionVersion(
                _text(_table(d, "distributions[]").get("name"), "a distribution's name"),
                _text(d.get("version"), "a distribution's version"),
            )
            for d in _array(data.get("distributions", []), "distributions")
        )
        size = archive.get("size")
        summary = SideSummary(
            os.path.normpath(path),
            "manifest",
            _digest(archive.get("sha256"), "archive.sha256"),
            None if size is None else _count(size, "archive.size"),
            _count(archive.get("entries", len(files)), "archive.entries"),
            sum(record.size for record in files.values()),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise bad(f"a field is missing or has the wrong type ({exc!r:.300})") from exc
    return Side(summary, files, distributions, None, (), owners)


# A manifest of 100,000 entries with long names is about 30 MB.
MANIFEST_MAX_BYTES = 256 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MODE = re.compile(r"[0-7]{1,6}")


def json_object(text: str) -> dict[str, Any]:
    """`text` as a JSON object, without NaN or Infinity; ValueError otherwise (RecursionError
    when nested too deeply)."""

    def refuse(constant: str) -> None:
        raise ValueError(f"it cannot be parsed as JSON ({constant} is not a JSON number)")

    try:
        data = json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise ValueError(f"it cannot be parsed as JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError("it is not a JSON object")
    return data


def _shown(value: object) -> str:
    return repr(value)[:60]


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{where} is {_shown(value)}, not an object")
    return value


def _array(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{where} is {_shown(value)}, not a list")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{where} is {_shown(value)}, not a non-empty string")
    return value


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 63:
        raise TypeError(f"{where} is {_shown(value)}, not a whole number of bytes")
    return value


def _digest(value: object, where: str) -> str | None:
    if value is not None and not (isinstance(value, str) and _SHA256.fullmatch(value)):
        raise ValueError(f"{where} is {_shown(value)}, not 64 lowercase hex digits")
    return value


def _mode(value: object, where: str) -> int | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _MODE.fullmatch(value):
        raise ValueError(f"{where} is {_shown(value)}, not an octal mode")
    return int(value, 8) & 0o7777

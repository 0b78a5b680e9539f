"""Compare two builds: which packages, which files, and why the bytes differ.

Each side is a zip (from any tool) or one of our manifests. Three levels are compared:
distributions (from `*.dist-info/METADATA`), files (path, content sha256, mode) and, when both
sides are zips, the container: entry order, DOS times, extra fields, creating system and
version, compression, flags and comments.

Telling content from container differences apart: `content_identical` is true when both sides
hold the same set of paths with the same content and the same permission bits;
`identical_bytes` is true when the archives are byte for byte equal (for manifests: the same
`archive.sha256`). `content_identical and not identical_bytes` means a container-only
difference: the same files were packed differently, and `container` says how, per kind of
difference, with a count and examples. If no field explains it, the first differing byte is
located instead, so a difference is never left unexplained. Directory entries count as paths:
a zip with them and one without are not content-identical, since Lambda sees their modes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lambda_zip_action.errors import ArchiveReadError, ConfigError
from lambda_zip_action.escape import plain as _plain
from lambda_zip_action.manifest import SCHEMA as MANIFEST_SCHEMA
from lambda_zip_action.manifest import upgrade
from lambda_zip_action.records import bytecode_source
from lambda_zip_action.zipformat import (
    EXTRA_EXTENDED_TIMESTAMP,
    EXTRA_UNIX_IDS,
    FLAG_DATA_DESCRIPTOR,
    from_dos,
)
from lambda_zip_action.zipread import (
    CHUNK,
    ExtraField,
    ZipArchive,
    ZipEntry,
    ZipReader,
    extended_timestamp,
    format_unix_time,
    unix_ids,
)

METADATA_READ_LIMIT = 256 * 1024
RECORD_READ_LIMIT = 8 * 1024 * 1024
EXAMPLES = 3
LISTED = 25
SYSTEMS = {0: "MS-DOS/Windows", 3: "unix", 19: "macOS"}


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str


@dataclass(frozen=True)
class FileRecord:
    path: str
    size: int
    sha256: str | None
    mode: int | None
    """Permission bits only (mode & 0o7777), or None when the writer stored no mode."""


@dataclass(frozen=True)
class SideSummary:
    label: str
    kind: Literal["zip", "manifest"]
    sha256: str | None
    size: int | None
    entries: int
    unzipped_size: int | None = None  # bytes of every file, extracted


@dataclass(frozen=True)
class VersionChange:
    name: str
    old: str
    new: str


@dataclass(frozen=True)
class DistributionDiff:
    added: tuple[Distribution, ...]
    removed: tuple[Distribution, ...]
    upgraded: tuple[VersionChange, ...]
    downgraded: tuple[VersionChange, ...]
    unchanged: int


@dataclass(frozen=True)
class FileChange:
    path: str
    old_size: int | None
    new_size: int | None
    size_change: int
    content_changed: bool
    old_mode: str | None
    new_mode: str | None
    # The distribution that installs the file (PEP 503 name), None for the project's own code.
    owner: str | None = None


@dataclass(frozen=True)
class FileDiff:
    added: tuple[FileChange, ...]
    removed: tuple[FileChange, ...]
    changed: tuple[FileChange, ...]
    total_size_change: int


@dataclass(frozen=True)
class ContainerDifference:
    """One kind of container difference, e.g. "extra field 0x5455: atime differs"."""

    kind: str
    count: int
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class Example:
    entry: str | None
    """The entry's name (untrusted), or None for an archive-level difference."""
    detail: str


@dataclass(frozen=True)
class DiffResult:
    old: SideSummary
    new: SideSummary
    identical_bytes: bool
    content_identical: bool
    distributions: DistributionDiff
    files: FileDiff
    container_compared: bool
    container: tuple[ContainerDifference, ...]
    notes: tuple[str, ...]
    # "old: NAME" / "new: NAME" for names held by more than one entry: the copy an extractor
    # writes is the last one, so the earlier copies are content that hides (a difference).
    duplicate_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Side:
    summary: SideSummary
    files: dict[str, FileRecord]
    distributions: tuple[Distribution, ...]
    archive: ZipArchive | None
    duplicates: tuple[str, ...] = ()
    owners: Mapping[str, str] = field(default_factory=dict)


def diff(old: Path, new: Path) -> DiffResult:
    """Compare two zips or manifests; raises ArchiveReadError when either cannot be read."""
    before, after = _load(old), _load(new)
    identical_bytes = (
        before.summary.sha256 is not None and before.summary.sha256 == after.summary.sha256
    )
    files = _with_owners(_diff_files(before.files, after.files), before.owners, after.owners)
    duplicates = tuple(
        f"{label}: {name}"
        for side, label in ((before, "old"), (after, "new"))
        for name in side.duplicates
    )
    content_identical = not (files.added or files.removed or files.changed or duplicates)
    notes: list[str] = []
    for side, label in ((before, "old"), (after, "new")):
        if side.archive is not None:
            notes += [
                f"{label}: {f.code}" + (f" in {f.entry!r}" if f.entry else "") + f": {f.message}"
                for f in side.archive.findings
            ]
    container: tuple[ContainerDifference, ...] = ()
    compared = before.archive is not None and after.archive is not None
    if before.archive is not None and after.archive is not None and not identical_bytes:
        container = _diff_container(before, after)
    elif not compared:
        notes.append("container not compared: at least one side is a manifest")
    return DiffResult(
        old=before.summary,
        new=after.summary,
        identical_bytes=identical_bytes,
        content_identical=content_identical,
        distributions=_diff_distributions(before.distributions, after.distributions),
        files=files,
        container_compared=compared,
        container=container,
        notes=tuple(notes),
        duplicate_names=duplicates,
    )


def diff_exit_code(result: DiffResult) -> int:
    """0 for identical bytes, 1 for any difference (errors are 2, raised as ArchiveReadError)."""
    return 0 if result.identical_bytes else 1


def run_diff(old: Path, new: Path, fmt: str) -> tuple[str, int]:
    renderers: dict[str, Callable[[DiffResult], str]] = {
        "text": render_text,
        "json": render_json,
    }
    if fmt not in renderers:
        raise ConfigError(f"Unknown diff format {fmt!r}: use one of text, json (markdown: cli).")
    result = diff(old, new)
    return renderers[fmt](result), diff_exit_code(result)


# --- loading -------------------------------------------------------------------------------


def _load(path: Path) -> _Side:
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


def _load_zip(path: Path) -> _Side:
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
        os.path.normpath(path), "zip", _sha256(path), archive.size, len(archive.entries), unzipped
    )
    return _Side(summary, files, distributions, archive, tuple(duplicates), owners)


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


def read_distributions(reader: ZipReader) -> tuple[Distribution, ...]:
    """Name and Version of every top-level `*.dist-info/METADATA` (also under `python/`)."""
    found: list[Distribution] = []
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
            found.append(Distribution(canonicalize_name(headers["name"]), headers["version"]))
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


def _with_owners(files: FileDiff, *maps: Mapping[str, str]) -> FileDiff:
    def owned(changes: tuple[FileChange, ...]) -> tuple[FileChange, ...]:
        return tuple(
            replace(c, owner=next((m[c.path] for m in maps if c.path in m), None)) for c in changes
        )

    return FileDiff(
        owned(files.added), owned(files.removed), owned(files.changed), files.total_size_change
    )


def _metadata_headers(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key.lower() in ("name", "version"):
            headers.setdefault(key.lower(), value.strip())
    return headers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _load_manifest(path: Path) -> _Side:
    def bad(why: str) -> ArchiveReadError:
        return ArchiveReadError(
            f"{path} is not a usable lambda-zip manifest: {why}. Give a zip, or the manifest "
            f"JSON written by `lambda-zip build` (schema {MANIFEST_SCHEMA!r})."
        )

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(f"it cannot be parsed as JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise bad("it is not a JSON object")
    try:
        data = upgrade(data)
    except ValueError as exc:
        raise bad(str(exc)) from exc
    try:
        archive = data.get("archive") or {}
        files: dict[str, FileRecord] = {}
        owners: dict[str, str] = {}
        for item in data["entries"]:
            mode = item.get("mode")
            record = FileRecord(
                str(item["path"]),
                int(item.get("size") or 0),
                item.get("sha256"),
                int(mode, 8) & 0o7777 if mode else None,
            )
            files.setdefault(record.path, record)
            if item.get("owner"):
                owners[record.path] = str(item["owner"])
        distributions = tuple(
            Distribution(str(d["name"]), str(d["version"])) for d in data.get("distributions", [])
        )
        summary = SideSummary(
            os.path.normpath(path),
            "manifest",
            archive.get("sha256"),
            archive.get("size"),
            int(archive.get("entries", len(files))),
            sum(record.size for record in files.values()),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise bad(f"a field is missing or has the wrong type ({exc!r})") from exc
    return _Side(summary, files, distributions, None, (), owners)


# --- comparing -----------------------------------------------------------------------------


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _diff_distributions(
    old: Iterable[Distribution], new: Iterable[Distribution]
) -> DistributionDiff:
    before = {canonicalize_name(d.name): d for d in old}
    after = {canonicalize_name(d.name): d for d in new}
    upgraded: list[VersionChange] = []
    downgraded: list[VersionChange] = []
    unchanged = 0
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        if a.version == b.version:
            unchanged += 1
            continue
        change = VersionChange(b.name, a.version, b.version)
        ka, kb = _version_key(a.version), _version_key(b.version)
        newer = kb > ka if ka[0] == kb[0] else b.version > a.version
        (upgraded if newer else downgraded).append(change)
    return DistributionDiff(
        added=tuple(after[k] for k in sorted(after.keys() - before.keys())),
        removed=tuple(before[k] for k in sorted(before.keys() - after.keys())),
        upgraded=tuple(upgraded),
        downgraded=tuple(downgraded),
        unchanged=unchanged,
    )


def _octal(mode: int | None) -> str | None:
    return None if mode is None else f"{mode:04o}"


def _diff_files(old: dict[str, FileRecord], new: dict[str, FileRecord]) -> FileDiff:
    added = [
        FileChange(p, None, new[p].size, new[p].size, True, None, _octal(new[p].mode))
        for p in sorted(new.keys() - old.keys())
    ]
    removed = [
        FileChange(p, old[p].size, None, -old[p].size, True, _octal(old[p].mode), None)
        for p in sorted(old.keys() - new.keys())
    ]
    changed = []
    for path in sorted(old.keys() & new.keys()):
        a, b = old[path], new[path]
        if a.sha256 != b.sha256 or a.size != b.size or a.mode != b.mode:
            changed.append(
                FileChange(
                    path,
                    a.size,
                    b.size,
                    b.size - a.size,
                    a.sha256 != b.sha256 or a.size != b.size,
                    _octal(a.mode),
                    _octal(b.mode),
                )
            )
    total = sum(f.size for f in new.values()) - sum(f.size for f in old.values())
    return FileDiff(tuple(added), tuple(removed), tuple(changed), total)


class _Kinds:
    """Counts entries per kind of difference and keeps the first few examples."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.examples: dict[str, list[Example]] = {}

    def add(self, kind: str, entry: str | None, detail: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        examples = self.examples.setdefault(kind, [])
        if len(examples) < EXAMPLES:
            examples.append(Example(entry, detail))

    def result(self) -> tuple[ContainerDifference, ...]:
        return tuple(
            ContainerDifference(kind, count, tuple(self.examples[kind]))
            for kind, count in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )


def _pair(old: str, new: str) -> str:
    """'2026-11-25 10:01:02 vs 10:03:44': the shared date is said once."""
    if old[:11] == new[:11] and len(old) == len(new) == 19:
        return f"{old} vs {new[11:]}"
    return f"{old} vs {new}"


def _dos_text(entry: ZipEntry) -> str:
    y, mo, d, h, mi, s = from_dos(entry.dos_date, entry.dos_time)
    return f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}"


def _extras_by_id(fields: tuple[ExtraField, ...]) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    for item in fields:
        found.setdefault(item.header_id, item.data)
    return found


def _diff_extras(kinds: _Kinds, name: str, old: ZipEntry, new: ZipEntry) -> None:
    # The local copy of 0x5455 holds atime too, so compare local extras where both exist and
    # the central ones only for kinds the local ones did not already explain.
    seen: set[str] = set()
    pairs = [(" (central directory)", old.extra, new.extra)]
    if old.local is not None and new.local is not None:
        pairs.insert(0, ("", old.local.extra, new.local.extra))
    for where, a_fields, b_fields in pairs:
        a, b = _extras_by_id(a_fields), _extras_by_id(b_fields)
        for header_id in sorted(a.keys() | b.keys()):
            for kind, example in _extra_differences(header_id, a.get(header_id), b.get(header_id)):
                if kind not in seen:
                    seen.add(kind)
                    kinds.add(kind, name, example + where)


def _extra_differences(
    header_id: int, old: bytes | None, new: bytes | None
) -> list[tuple[str, str]]:
    label = f"extra field 0x{header_id:04x}"
    if old == new:
        return []
    if old is None or new is None:
        return [(f"{label}: present in {'new' if old is None else 'old'} only", "")]
    if header_id == EXTRA_EXTENDED_TIMESTAMP:
        a, b = extended_timestamp(old), extended_timestamp(new)
        found = [
            (f"{label}: {key} differs", _pair(_time(a.get(key)), _time(b.get(key))))
            for key in ("mtime", "atime", "ctime")
            if a.get(key) != b.get(key)
        ]
        return found or [(f"{label}: layout differs", f"{old.hex()} vs {new.hex()}")]
    if header_id == EXTRA_UNIX_IDS:
        a, b = unix_ids(old), unix_ids(new)
        text = f"uid {a.get('uid')}/gid {a.get('gid')} vs uid {b.get('uid')}/gid {b.get('gid')}"
        return [(f"{label}: uid/gid differs", text)]
    return [(f"{label}: data differs", f"{len(old)} vs {len(new)} bytes")]


def _time(value: int | None) -> str:
    return "absent" if value is None else format_unix_time(value)


def _entry_differences(kinds: _Kinds, old: ZipEntry, new: ZipEntry, same: bool) -> None:
    name = old.name
    if (old.dos_date, old.dos_time) != (new.dos_date, new.dos_time):
        kinds.add("DOS timestamp differs", name, _pair(_dos_text(old), _dos_text(new)))
    _diff_extras(kinds, name, old, new)
    if old.create_system != new.create_system:
        kinds.add(
            "create_system differs",
            name,
            f"{old.create_system} ({SYSTEMS.get(old.create_system, '?')}) vs "
            f"{new.create_system} ({SYSTEMS.get(new.create_system, '?')})",
        )
    checks = [
        ("create_version differs", old.create_version, new.create_version),
        ("extract_version differs", old.extract_version, new.extract_version),
        ("compression method differs", old.method, new.method),
        ("internal attributes differ", old.internal_attr, new.internal_attr),
        (
            "external attributes (non-mode bits) differ",
            old.external_attr & 0xFFFF,
            new.external_attr & 0xFFFF,
        ),
    ]
    for kind, a, b in checks:
        if a != b:
            kinds.add(kind, name, f"{a} vs {b}")
    if same and old.method == new.method and old.compressed_size != new.compressed_size:
        kinds.add(
            "same content, different compressed bytes (another compression level or deflate "
            "implementation)",
            name,
            f"{old.compressed_size} vs {new.compressed_size} bytes",
        )
    if (old.flags ^ new.flags) & FLAG_DATA_DESCRIPTOR:
        kinds.add(
            "data descriptor present in one only",
            name,
            f"{'yes' if old.has_data_descriptor else 'no'} vs "
            f"{'yes' if new.has_data_descriptor else 'no'}",
        )
    if (old.flags ^ new.flags) & ~FLAG_DATA_DESCRIPTOR:
        kinds.add("general purpose flags differ", name, f"0x{old.flags:04x} vs 0x{new.flags:04x}")
    if old.comment != new.comment:
        kinds.add("entry comment differs", name, f"{old.comment!r} vs {new.comment!r}")


def _diff_container(before: _Side, after: _Side) -> tuple[ContainerDifference, ...]:
    assert before.archive is not None and after.archive is not None
    old_entries = {e.name: e for e in reversed(before.archive.entries)}
    new_entries = {e.name: e for e in reversed(after.archive.entries)}
    kinds = _Kinds()
    common = old_entries.keys() & new_entries.keys()
    for name in sorted(common):
        a, b = before.files[name], after.files[name]
        _entry_differences(kinds, old_entries[name], new_entries[name], a.sha256 == b.sha256)
    old_order = [e.name for e in before.archive.entries if e.name in common]
    new_order = [e.name for e in after.archive.entries if e.name in common]
    position = {name: i for i, name in enumerate(new_order)}
    for i, name in enumerate(old_order):
        if position[name] != i:
            kinds.add("entry order differs", name, f"position {i} vs {position[name]}")
    if before.archive.comment != after.archive.comment:
        kinds.add(
            "archive comment differs",
            None,
            f"{before.archive.comment!r} vs {after.archive.comment!r}",
        )
    if before.archive.zip64 != after.archive.zip64:
        kinds.add(
            "zip64 records present in one only",
            None,
            f"{before.archive.zip64} vs {after.archive.zip64}",
        )
    found = kinds.result()
    content_differs = any(before.files[name] != after.files[name] for name in common)
    if found or content_differs or before.files.keys() != after.files.keys():
        return found
    return (_first_difference(before.archive, after.archive),)


def _first_difference(old: ZipArchive, new: ZipArchive) -> ContainerDifference:
    offset = 0
    with old.path.open("rb") as a, new.path.open("rb") as b:
        while True:
            x, y = a.read(CHUNK), b.read(CHUNK)
            if x != y:
                offset += next(
                    (i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q),
                    min(len(x), len(y)),
                )
                break
            if not x:
                break
            offset += len(x)
    where = f"first difference at offset {offset}, in {_region(old, offset)} of the old archive"
    return ContainerDifference(
        "bytes differ where no compared field does", 1, (Example(None, where),)
    )


def _region(archive: ZipArchive, offset: int) -> str:
    for entry in archive.entries:
        local = entry.local
        if local is not None and local.offset <= offset < local.data_end:
            part = "local header" if offset < local.data_offset else "data"
            return f"the {part} of {entry.name!r}"
    if offset >= archive.central_directory_offset + archive.central_directory_size:
        return "the end-of-central-directory records"
    if offset >= archive.central_directory_offset:
        return "the central directory"
    return "bytes between entries"


# --- rendering -----------------------------------------------------------------------------


def _verdict(result: DiffResult) -> str:
    if result.identical_bytes:
        return "identical bytes"
    if result.content_identical:
        return "same files, different bytes: container-only differences"
    return "content differs"


def _size(value: int | None) -> str:
    return "?" if value is None else f"{value:,} bytes"


def _signed(value: int) -> str:
    return f"{value:+,} bytes"


def _file_line(change: FileChange) -> str:
    what = []
    if change.content_changed:
        what.append(
            f"content, {_size(change.old_size)} -> {_size(change.new_size)} "
            f"({_signed(change.size_change)})"
        )
    if change.old_mode != change.new_mode:
        what.append(f"mode {change.old_mode} -> {change.new_mode}")
    return "; ".join(what)


@dataclass(frozen=True)
class _Style:
    """How one output format shows untrusted names and untrusted or generated prose."""

    name: Callable[[str], str]
    prose: Callable[[str], str]


def _example(style: _Style, example: Example) -> str:
    detail = style.prose(example.detail)
    return detail if example.entry is None else f"{style.name(example.entry)}: {detail}"


def _container_line(style: _Style, item: ContainerDifference) -> str:
    examples = "; ".join(_example(style, e) for e in item.examples)
    if all(e.entry is None for e in item.examples):
        return f"{item.kind} ({examples})"
    noun = "entry" if item.count == 1 else "entries"
    return f"{item.kind} in {item.count} {noun} (e.g. {examples})"


def _sections(result: DiffResult, style: _Style) -> list[tuple[str, list[str]]]:
    name = style.name
    dists = result.distributions
    dist_lines = (
        [f"+ {name(d.name)} {name(d.version)}" for d in dists.added]
        + [f"- {name(d.name)} {name(d.version)}" for d in dists.removed]
        + [f"↑ {name(c.name)} {name(c.old)} -> {name(c.new)}" for c in dists.upgraded]
        + [f"↓ {name(c.name)} {name(c.old)} -> {name(c.new)}" for c in dists.downgraded]
    )
    dist_head = (
        f"Distributions: {len(dists.added)} added, {len(dists.removed)} removed, "
        f"{len(dists.upgraded)} upgraded, {len(dists.downgraded)} downgraded, "
        f"{dists.unchanged} unchanged"
    )
    files = result.files
    file_lines = (
        [f"+ {name(f.path)} ({_size(f.new_size)})" for f in files.added]
        + [f"- {name(f.path)} ({_size(f.old_size)})" for f in files.removed]
        + [f"~ {name(f.path)}: {_file_line(f)}" for f in files.changed]
    )
    file_head = (
        f"Files: {len(files.added)} added, {len(files.removed)} removed, "
        f"{len(files.changed)} changed; total size {_signed(files.total_size_change)}"
    )
    sections = [(dist_head, dist_lines), (file_head, file_lines)]
    if result.duplicate_names:
        sections.append(
            (
                "Duplicate entry names (unzip and Python extract the last copy; earlier copies "
                "hide content):",
                [name(item) for item in result.duplicate_names],
            )
        )
    if result.container:
        lines = [_container_line(style, item) for item in result.container]
        sections.append(("Why the bytes differ:", lines))
    if result.notes:
        sections.append(("Notes:", [style.prose(note) for note in result.notes]))
    return sections


def _clip(lines: list[str]) -> list[str]:
    if len(lines) <= LISTED:
        return lines
    return [*lines[:LISTED], f"... and {len(lines) - LISTED} more"]


def render_text(result: DiffResult) -> str:
    out = [
        f"old: {_plain(result.old.label)} ({result.old.kind}, {_size(result.old.size)}, "
        f"{result.old.entries} entries)",
        f"new: {_plain(result.new.label)} ({result.new.kind}, {_size(result.new.size)}, "
        f"{result.new.entries} entries)",
        f"Result: {_verdict(result)}",
    ]
    for head, lines in _sections(result, _Style(_plain, _plain)):
        out.append(head)
        out += [f"  {line}" for line in _clip(lines)]
    return "\n".join(out) + "\n"


def kebab_document(value: object) -> Any:
    """A dataclass as JSON data, its field names spelled as keys: `identical_bytes` becomes
    `identical-bytes`. Keys of a plain mapping are data (paths, names) and stay as they are."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name.replace("_", "-"): kebab_document(getattr(value, f.name)) for f in fields(value)
        }
    if isinstance(value, (list, tuple)):
        return [kebab_document(item) for item in value]
    if isinstance(value, Mapping):
        return {key: kebab_document(item) for key, item in value.items()}
    return value


def render_json(result: DiffResult) -> str:
    data: dict[str, Any] = kebab_document(result)
    data["verdict"] = _verdict(result)
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"

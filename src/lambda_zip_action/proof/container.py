"""Why two zips holding the same files differ in bytes: the container, field by field.

Entry order, DOS times, extra fields (decoded: which of mtime, atime, uid/gid differs),
creating system and version, compression, flags and comments are compared entry by entry and
counted per kind of difference, with the first few examples. When no field explains a
difference, the first differing byte is located instead, so a difference is never left
unexplained.
"""

from __future__ import annotations

from lambda_zip_action.proof.load import Side
from lambda_zip_action.proof.model import ContainerDifference, Example
from lambda_zip_action.zip.format import (
    EXTRA_EXTENDED_TIMESTAMP,
    EXTRA_UNIX_IDS,
    FLAG_DATA_DESCRIPTOR,
    extended_timestamp,
    format_unix_time,
    from_dos,
    unix_ids,
)
from lambda_zip_action.zip.reader import CHUNK
from lambda_zip_action.zip.structure import ExtraField, ZipArchive, ZipEntry

EXAMPLES = 3
SYSTEMS = {0: "MS-DOS/Windows", 3: "unix", 19: "macOS"}


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


def diff_container(before: Side, after: Side) -> tuple[ContainerDifference, ...]:
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

"""Compare two builds: which packages, which files, and why the bytes differ.

Each side is a zip (from any tool) or one of our manifests. Three levels are compared:
distributions (from `*.dist-info/METADATA`), files (path, content sha256, mode) and, when both
sides are zips, the container: entry order, DOS times, extra fields, creating system and
version, compression, flags and comments.

Telling content from container differences apart: `content_identical` is true when both sides
hold the same set of paths with the same content and the same permission bits;
`identical_bytes` is true when the archives are byte for byte equal (for manifests: the same
`archive.sha256`; a manifest that gives the other side's hash but lists other files is
refused). `content_identical and not identical_bytes` means a container-only difference: the
same files were packed differently, and `container` says how, per kind of difference, with a
count and examples. If no field explains it, the first differing byte is located instead, so a
difference is never left unexplained. Directory entries count as paths: a zip with them and one
without are not content-identical, since Lambda sees their modes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lambda_zip_action.errors import ArchiveReadError, ConfigError
from lambda_zip_action.proof.container import diff_container
from lambda_zip_action.proof.load import load
from lambda_zip_action.proof.model import (
    ContainerDifference,
    DiffResult,
    DistributionDiff,
    DistributionVersion,
    FileChange,
    FileDiff,
    FileRecord,
    VersionChange,
)
from lambda_zip_action.proof.render import diff_json, diff_text


def diff(old: Path, new: Path) -> DiffResult:
    """Compare two zips or manifests; raises ArchiveReadError when either cannot be read."""
    before, after = load(old), load(new)
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
    manifests = [side for side in (before, after) if side.archive is None]
    if identical_bytes and not content_identical and manifests:
        # Equal hashes with other files: the manifest does not describe the zip whose hash it
        # gives. Its hash is not taken over what it lists.
        claimed = manifests[0]
        raise ArchiveReadError(
            f"{claimed.summary.label} is not a usable lambda-zip manifest: it gives the sha256 "
            f"{claimed.summary.sha256} of the other side but lists other files ("
            f"{_first_difference(files, duplicates)}), so it does not describe that zip. "
            "Compare with the zip itself, or with the manifest written beside it."
        )
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
        container = diff_container(before, after)
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


def _first_difference(files: FileDiff, duplicates: tuple[str, ...]) -> str:
    for changes, how in ((files.changed, "differs"), (files.added, "is only in the new side"),
                         (files.removed, "is only in the old side")):  # fmt: skip
        if changes:
            return f"{changes[0].path!r} {how}"
    return f"duplicate names: {duplicates[0]}"


def diff_exit_code(result: DiffResult) -> int:
    """0 for identical bytes, 1 for any difference (errors are 2, raised as ArchiveReadError)."""
    return 0 if result.identical_bytes else 1


def run_diff(old: Path, new: Path, fmt: str) -> tuple[str, int]:
    renderers: dict[str, Callable[[DiffResult], str]] = {
        "text": diff_text,
        "json": diff_json,
    }
    if fmt not in renderers:
        raise ConfigError(f"Unknown diff format {fmt!r}: use one of text, json (markdown: cli).")
    result = diff(old, new)
    return renderers[fmt](result), diff_exit_code(result)


def _with_owners(files: FileDiff, *maps: Mapping[str, str]) -> FileDiff:
    def owned(changes: tuple[FileChange, ...]) -> tuple[FileChange, ...]:
        return tuple(
            replace(c, owner=next((m[c.path] for m in maps if c.path in m), None)) for c in changes
        )

    return FileDiff(
        owned(files.added), owned(files.removed), owned(files.changed), files.total_size_change
    )


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _diff_distributions(
    old: Iterable[DistributionVersion], new: Iterable[DistributionVersion]
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

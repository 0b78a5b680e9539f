"""What the proof tools find: the results `diff` and `inspect` return, plain frozen values.

The renderers (`render`, `drift_report`), verify and the GitHub layer read these; only the
loaders and comparers in this package build them. Names and paths in them come from the
archives compared and are untrusted: every renderer escapes them for its output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class DistributionVersion:
    """A distribution's name and version as a zip's METADATA or a manifest states them (the
    install stage's `installed_tree.Distribution` also knows its source and wheel tags)."""

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
    added: tuple[DistributionVersion, ...]
    removed: tuple[DistributionVersion, ...]
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


Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    entry: str | None
    message: str
    # Every entry with this cause, when one finding stands for several (see inspect._one_per_cause).
    entries: tuple[str, ...] = ()


@dataclass(frozen=True)
class NativeLibrary:
    path: str
    format: str
    architecture: str | None


@dataclass(frozen=True)
class SbomSummary:
    path: str
    where: str  # "beside" or "inside"
    spec_version: str
    components: int  # top-level components
    files: int  # file components listed, nested ones included
    matches: bool  # no file, hash or zip the SBOM names disagrees with the zip


@dataclass(frozen=True)
class InspectionSummary:
    entries: int
    files: int
    unzipped_size: int
    compressed_size: int
    size: int
    distributions: tuple[DistributionVersion, ...]
    python_versions: tuple[str, ...]
    native_libraries: tuple[NativeLibrary, ...]
    python_version: str | None
    architecture: str | None
    inferred: tuple[str, ...]
    """How the target was inferred when it was not given."""
    # The SBOM found beside or inside the zip (proof/sbom_check.py), None when none.
    sbom: SbomSummary | None = None


@dataclass(frozen=True)
class InspectionResult:
    path: str
    findings: tuple[Finding, ...]
    summary: InspectionSummary

"""The drift report: how a package changed, for a reviewer who has ten seconds.

One renderer for the Action's job summary, the pull-request comment and `lambda-zip diff
--format markdown`. It opens with the verdict and one summary line ("requests 2.32.3 → 2.32.4,
3 of your files changed, +12 KiB, reproducible"), then your own files, then dependency changes
(a distribution's files as one line, its dist-info churn included), then size against
Lambda's limits, then hashes in a compact form; long lists are folded, and `full` lists every
file. Every name that comes from the package (paths, distribution names and versions, the
package's own name) is untrusted and goes through `markdown.py`; only numbers, hashes and our
own words are written as they are.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name

from lambda_zip_action.limits import UNZIPPED_LIMIT, ZIPPED_LIMIT
from lambda_zip_action.markdown import code_span, escape_inline, table_cell
from lambda_zip_action.proof.model import DiffResult, FileChange, SideSummary

# Rows shown before a list is folded into <details>; `full` shows every row unfolded.
SHOWN = 15
# Files listed inside a folded list before "... and N more" (the comment limit is 65,536).
FOLDED = 300


@dataclass(frozen=True)
class Package:
    """One side of the comparison. Only `sha256` is known when the old side is a bare hash."""

    sha256: str
    base64_sha256: str | None = None
    size: int | None = None
    unzipped: int | None = None
    verified: bool | None = None  # None: not verified (or unknown)


@dataclass(frozen=True)
class DriftReport:
    name: str
    new: Package
    old: Package | None  # None: nothing to compare against
    old_label: str = ""  # where the old side comes from, e.g. "base 1a2b3c4" (ours, not a name)
    difference: DiffResult | None = None  # None when the old side is a bare hash
    # False for `lambda-zip diff`: it rebuilds nothing, so there is no verdict to give.
    rebuilt: bool = True
    # The old side as manifest data (drift_data.side_manifest) when it is a zip or a manifest:
    # the report's data for a trusted job to render (drift_data), not shown.
    old_data: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def changed(self) -> bool | None:
        return None if self.old is None else self.old.sha256 != self.new.sha256


def render(report: DriftReport, full: bool = False) -> str:
    """The whole report as markdown; the first line is a heading with the verdict."""
    name = escape_inline(report.name)
    if report.old is None:
        verdict = "built (nothing to compare against)"
    elif report.changed:
        verdict = "changed"
    else:
        verdict = "unchanged"
    out = [f"### Lambda package {name}: {verdict}", "", f"**{summary_line(report)}**", ""]
    difference = report.difference
    if difference is not None and report.changed:
        own = [f for f in _every(difference) if f.owner is None]
        out += _own_files(own, full)
        out += _dependencies(difference, full)
        if difference.content_identical and not difference.identical_bytes:
            out += ["Same files, different bytes: only the zip container differs:", ""]
            out += [
                f"- {escape_inline(item.kind)}: {item.count} entries"
                for item in difference.container
            ]
            out.append("")
    elif report.old is not None and report.changed:
        out += ["The old side is a bare hash: no file-level comparison is possible.", ""]
    out += _sizes(report)
    out += _hashes(report)
    out += _verification(report)
    if difference is not None and report.changed:
        out += _all_files(difference, full)
    return "\n".join(out).rstrip("\n") + "\n"


def from_diff(result: DiffResult, name: str) -> DriftReport:
    """The report of `lambda-zip diff --format markdown`: the same renderer as the Action's."""

    def package(side: SideSummary) -> Package:
        digest = side.sha256 or "?"
        encoded = base64.b64encode(bytes.fromhex(digest)).decode() if side.sha256 else None
        return Package(digest, encoded, side.size, side.unzipped_size)

    return DriftReport(name, package(result.new), package(result.old), "old", result, rebuilt=False)


def summary_line(report: DriftReport) -> str:
    """One line a reviewer reads first: what changed, by how much, whether it is proven."""
    parts: list[str] = []
    difference = report.difference
    if report.old is None:
        parts.append("first build, nothing to compare against")
    elif not report.changed:
        parts.append(f"same bytes as {escape_inline(report.old_label or 'the old package')}")
    elif difference is None:
        parts.append(f"differs from {escape_inline(report.old_label or 'the old package')}")
    else:
        dists = difference.distributions
        named = (
            [f"{escape_inline(c.name)} {escape_inline(c.old)} → {escape_inline(c.new)}"
             for c in (*dists.upgraded, *dists.downgraded)]
            + [f"{escape_inline(d.name)} {escape_inline(d.version)} added" for d in dists.added]
            + [f"{escape_inline(d.name)} removed" for d in dists.removed]
        )  # fmt: skip
        parts += named[:2]
        if len(named) > 2:
            parts.append(f"{len(named) - 2} more dependency changes")
        own = [f for f in _every(difference) if f.owner is None and not _bytecode(f.path)]
        if own:
            parts.append(f"{len(own)} of your files changed")
        elif not named:
            rebuilt = {f.owner for f in _every(difference) if f.owner is not None}
            parts.append(
                f"files of {len(rebuilt)} dependencies changed at the same versions"
                if rebuilt
                else "only the zip container differs"
            )
    new, old = report.new, report.old
    if old is not None and report.changed and old.size is not None and new.size is not None:
        parts.append(f"{_human(new.size - old.size, signed=True)} zipped")
    if new.verified is True:
        parts.append("reproducible")
    elif new.verified is False:
        parts.append("NOT reproducible")
    return ", ".join(parts)


def _every(difference: DiffResult) -> list[FileChange]:
    """Every changed file; directory entries carry no content and are left out."""
    files = difference.files
    changes = (*files.added, *files.removed, *files.changed)
    return sorted((f for f in changes if not f.path.endswith("/")), key=lambda f: f.path)


def _bytecode(path: str) -> bool:
    return "/__pycache__/" in f"/{path}" and path.endswith(".pyc")


def _kind(change: FileChange) -> str:
    if change.old_size is None:
        return "added"
    if change.new_size is None:
        return "removed"
    return "changed" if change.content_changed else "mode"


def _own_files(own: list[FileChange], full: bool) -> list[str]:
    if not own:
        return []
    sources = [f for f in own if not _bytecode(f.path)]
    compiled = len(own) - len(sources)
    rows = [
        f"| {table_cell(f.path, code=True)} | {_kind(f)} | {_human(f.size_change, signed=True)} |"
        for f in sources
    ]
    head = f"#### Your code: {_count(len(sources), 'files')}" + (
        f" (and their {compiled} .pyc)" if compiled else ""
    )
    return [head, "", *_table(["file", "change", "size"], rows, full), ""]


def _dependencies(difference: DiffResult, full: bool) -> list[str]:
    dists = difference.distributions
    files: dict[str, list[FileChange]] = defaultdict(list)
    for change in _every(difference):
        if change.owner is not None:
            files[change.owner].append(change)
    rows: list[tuple[str, str, str, str]] = (
        [(d.name, "added", "", d.version) for d in dists.added]
        + [(d.name, "removed", d.version, "") for d in dists.removed]
        + [(c.name, "upgraded", c.old, c.new) for c in dists.upgraded]
        + [(c.name, "downgraded", c.old, c.new) for c in dists.downgraded]
    )
    named = {canonicalize_name(row[0]) for row in rows}
    rows += [(owner, "files changed", "", "") for owner in sorted(files) if owner not in named]
    if not rows:
        return []
    counts = (
        f"{len(dists.upgraded)} upgraded, {len(dists.downgraded)} downgraded, "
        f"{len(dists.added)} added, {len(dists.removed)} removed, {dists.unchanged} unchanged"
    )
    lines = [
        f"| {table_cell(name, code=True)} | {change} | {_cell(old)} | {_cell(new)} | "
        f"{_files_cell(files.get(canonicalize_name(name), []))} |"
        for name, change, old, new in rows
    ]
    return [
        f"#### Dependencies: {counts}",
        "",
        *_table(["dependency", "change", "old", "new", "files"], lines, full),
        "",
    ]


def _files_cell(changes: list[FileChange]) -> str:
    if not changes:
        return ""
    kinds: dict[str, int] = defaultdict(int)
    for change in changes:
        kinds[_kind(change)] += 1
    size = sum(c.size_change for c in changes)
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + f" ({_human(size, True)})"


def _table(header: list[str], rows: list[str], full: bool) -> list[str]:
    top = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    if full or len(rows) <= SHOWN:
        return [*top, *rows]
    return [
        *top,
        *rows[:SHOWN],
        "",
        f"<details><summary>{len(rows) - SHOWN} more</summary>",
        "",
        *top,
        *rows[SHOWN:],
        "",
        "</details>",
    ]


def _sizes(report: DriftReport) -> list[str]:
    new, old = report.new, report.old
    parts = []
    for what, value, before, limit in (
        ("zipped", new.size, old.size if old else None, ZIPPED_LIMIT),
        ("unzipped", new.unzipped, old.unzipped if old else None, UNZIPPED_LIMIT),
    ):
        if value is None:
            continue
        delta = "" if before is None else f" ({_human(value - before, signed=True)})"
        share = f"{100 * value / limit:.1f}% of Lambda's {limit // (1024 * 1024)} MiB"
        over = " **over the limit**" if value > limit else ""
        parts.append(f"{_human(value)} {what}{delta}, {share}{over}")
    return [f"Size: {'; '.join(parts)}.", ""] if parts else []


def _hashes(report: DriftReport) -> list[str]:
    """Short forms that fit the page, the full values folded beneath."""
    sides = [("new", report.new)]
    if report.old is not None:
        sides.insert(0, (escape_inline(report.old_label or "old"), report.old))
    short = "; ".join(f"{label} `{_short(p.sha256)}`" for label, p in sides)
    out = [f"sha256: {short}", "", "<details><summary>Full hashes</summary>", ""]
    for label, package in sides:
        out.append(f"- {label}: sha256 `{package.sha256}`")
        if package.base64_sha256 is not None:
            out.append(f"  CodeSha256 `{package.base64_sha256}`")
    return [*out, "", "</details>", ""]


def _short(digest: str) -> str:
    return digest if len(digest) <= 16 else f"{digest[:12]}…{digest[-4:]}"


def _verification(report: DriftReport) -> list[str]:
    def state(package: Package) -> str:
        if package.verified is None:
            return "not verified"
        return "reproducible" if package.verified else "**NOT reproducible**"

    if not report.rebuilt:
        return []
    line = f"Rebuilt from scratch: new {state(report.new)}"
    if report.old is not None and report.difference is not None:
        line += f", old {state(report.old)}"
    return [line + ".", ""]


def _all_files(difference: DiffResult, full: bool) -> list[str]:
    """Every changed file; a distribution's files are one line unless `full`."""
    every = _every(difference)
    lines = [f"- {_kind(f)} {code_span(f.path)} ({_human(f.size_change, signed=True)})"
             for f in every if f.owner is None]  # fmt: skip
    grouped: dict[str, list[FileChange]] = defaultdict(list)
    for change in every:
        if change.owner is not None:
            grouped[change.owner].append(change)
    for owner, changes in sorted(grouped.items()):
        if full:
            lines += [
                f"- {_kind(f)} {code_span(f.path)} ({_human(f.size_change, signed=True)})"
                for f in changes
            ]
        else:
            lines.append(f"- {code_span(owner)}: {_files_cell(changes)}")
    if not lines:
        return []
    if full:
        return [f"#### All {len(every)} changed files", "", *lines]
    shown = lines[:FOLDED]
    if len(lines) > FOLDED:
        shown.append(f"- ... and {len(lines) - FOLDED} more (`lambda-zip diff --full`)")
    return [
        f"<details><summary>All {len(every)} changed files</summary>",
        "",
        *shown,
        "",
        "</details>",
    ]


def _count(n: int, plural: str) -> str:
    return f"{n} {plural if n != 1 else plural.removesuffix('s')}"


def _cell(value: str) -> str:
    return table_cell(value, code=True) if value else ""


def _human(value: int, signed: bool = False) -> str:
    """Bytes for a person: `+12.0 KiB`, `3.4 MiB`, `512 bytes`."""
    sign = ("+" if value >= 0 else "-") if signed else ("-" if value < 0 else "")
    size = abs(value)
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{sign}{size / scale:.1f} {unit}"
    return f"{sign}{size} bytes"

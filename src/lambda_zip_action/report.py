"""The drift report: how a package changed against what is deployed or against the base branch.

Markdown for the job summary and the pull-request comment. Every name that comes from the
package (file paths, distribution names and versions, the package's own name) is untrusted and
goes through `markdown.py`; only numbers, hashes and our own words are written as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambda_zip_action.diff import DiffResult
from lambda_zip_action.limits import UNZIPPED_LIMIT, ZIPPED_LIMIT
from lambda_zip_action.markdown import code_span, escape_inline, table_cell

LARGEST_CHANGES = 10


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

    @property
    def changed(self) -> bool | None:
        return None if self.old is None else self.old.sha256 != self.new.sha256


def render(report: DriftReport) -> str:
    """The whole report as markdown; the first line is a heading with the verdict."""
    name = escape_inline(report.name)
    if report.old is None:
        verdict = "built (nothing to compare against)"
    elif report.changed:
        verdict = "changed"
    else:
        verdict = "unchanged"
    out = [f"### Lambda package {name}: {verdict}", ""]
    out += _hashes(report)
    out += _sizes(report)
    out += _verification(report)
    if report.difference is not None:
        out += _differences(report.difference)
    elif report.old is not None and report.changed:
        out += ["", "The old side is a bare hash: no file-level comparison is possible."]
    return "\n".join(out).rstrip("\n") + "\n"


def _hashes(report: DriftReport) -> list[str]:
    rows = ["| | sha256 | base64 sha256 (CodeSha256) |", "|---|---|---|"]
    if report.old is not None:
        label = escape_inline(report.old_label or "old")
        rows.append(
            f"| old ({label}) | `{report.old.sha256}` | {_code(report.old.base64_sha256)} |"
        )
    rows.append(f"| new | `{report.new.sha256}` | {_code(report.new.base64_sha256)} |")
    return [*rows, ""]


def _code(value: str | None) -> str:
    return "?" if value is None else f"`{value}`"


def _sizes(report: DriftReport) -> list[str]:
    new, old = report.new, report.old
    lines = []
    if new.size is not None:
        lines.append(
            f"- Zipped: {_bytes(new.size)}{_delta(old.size if old else None, new.size)}, "
            f"{_share(new.size, ZIPPED_LIMIT)} of Lambda's 50 MiB direct-upload limit"
        )
    if new.unzipped is not None:
        lines.append(
            f"- Unzipped: {_bytes(new.unzipped)}"
            f"{_delta(old.unzipped if old else None, new.unzipped)}, "
            f"{_share(new.unzipped, UNZIPPED_LIMIT)} of Lambda's 250 MiB limit"
        )
    over = [
        what
        for what, value, limit in (
            ("zipped", new.size, ZIPPED_LIMIT),
            ("unzipped", new.unzipped, UNZIPPED_LIMIT),
        )
        if value is not None and value > limit
    ]
    if over:
        lines.append(f"- **Over Lambda's {' and '.join(over)} size limit.**")
    return [*lines, ""] if lines else []


def _verification(report: DriftReport) -> list[str]:
    def state(package: Package) -> str:
        if package.verified is None:
            return "not verified"
        return "reproducible" if package.verified else "**NOT reproducible**"

    line = f"- Rebuilt from scratch: new {state(report.new)}"
    if report.old is not None and report.difference is not None:
        line += f", old {state(report.old)}"
    return [line]


def _differences(result: DiffResult) -> list[str]:
    files = result.files
    dists = result.distributions
    out = [
        f"- Files: {len(files.added)} added, {len(files.removed)} removed, "
        f"{len(files.changed)} changed ({_signed(files.total_size_change)} unzipped)",
        f"- Dependencies: {len(dists.added)} added, {len(dists.removed)} removed, "
        f"{len(dists.upgraded)} upgraded, {len(dists.downgraded)} downgraded, "
        f"{dists.unchanged} unchanged",
    ]
    if result.content_identical and not result.identical_bytes:
        out.append("- Same files, different bytes: only the zip container differs.")
    rows = (
        [("added", d.name, "", d.version) for d in dists.added]
        + [("removed", d.name, d.version, "") for d in dists.removed]
        + [("upgraded", c.name, c.old, c.new) for c in dists.upgraded]
        + [("downgraded", c.name, c.old, c.new) for c in dists.downgraded]
    )
    if rows:
        out += ["", "| dependency | change | old | new |", "|---|---|---|---|"]
        out += [
            f"| {table_cell(name, code=True)} | {change} | {_cell(old)} | {_cell(new)} |"
            for change, name, old, new in rows
        ]
    every = (
        [("added", f) for f in files.added]
        + [("removed", f) for f in files.removed]
        + [("changed" if f.content_changed else "mode", f) for f in files.changed]
    )
    largest = sorted(every, key=lambda kf: (-abs(kf[1].size_change), kf[1].path))
    if largest:
        out += ["", "**Largest changes**", "", "| file | change | size |", "|---|---|---|"]
        out += [
            f"| {table_cell(f.path, code=True)} | {kind} | {_signed(f.size_change)} |"
            for kind, f in largest[:LARGEST_CHANGES]
        ]
    if every:
        out += ["", f"<details><summary>All {len(every)} changed files</summary>", ""]
        out += [
            f"- {kind} {code_span(f.path)} ({_signed(f.size_change)})"
            for kind, f in sorted(every, key=lambda kf: kf[1].path)
        ]
        out += ["", "</details>"]
    return out


def _cell(value: str) -> str:
    return table_cell(value, code=True) if value else ""


def _bytes(value: int) -> str:
    return f"{value:,} bytes ({value / (1024 * 1024):.2f} MiB)"


def _signed(value: int) -> str:
    return f"{value:+,} bytes"


def _delta(old: int | None, new: int) -> str:
    return "" if old is None else f" ({_signed(new - old)})"


def _share(value: int, limit: int) -> str:
    return f"{100 * value / limit:.1f}%"

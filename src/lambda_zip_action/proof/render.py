"""The text and JSON of `lambda-zip diff` and `lambda-zip inspect`.

Text is for a terminal: every name from an archive is shown with its control characters
escaped (`escape.plain`). JSON is for tools: the result's fields as kebab-case keys
(`kebab_document`), the words the text output and the Action's outputs use. The markdown of
`diff --format markdown`, the job summary and the pull-request comment is `drift_report`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from lambda_zip_action.escape import plain
from lambda_zip_action.proof.model import (
    ContainerDifference,
    DiffResult,
    Example,
    FileChange,
    Finding,
    InspectionResult,
)

LISTED = 25


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

    def count(changes: Sequence[FileChange], what: str) -> str:
        # Files as the markdown report counts them; directory entries apart, when there are any.
        directories = sum(1 for change in changes if change.path.endswith("/"))
        extra = f" (+{directories} director{'y' if directories == 1 else 'ies'})"
        return f"{len(changes) - directories} {what}" + (extra if directories else "")

    file_head = (
        f"Files: {count(files.added, 'added')}, {count(files.removed, 'removed')}, "
        f"{count(files.changed, 'changed')}; total size {_signed(files.total_size_change)}"
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


def diff_text(result: DiffResult) -> str:
    out = [
        f"old: {plain(result.old.label)} ({result.old.kind}, {_size(result.old.size)}, "
        f"{result.old.entries} entries)",
        f"new: {plain(result.new.label)} ({result.new.kind}, {_size(result.new.size)}, "
        f"{result.new.entries} entries)",
        f"Result: {_verdict(result)}",
    ]
    for head, lines in _sections(result, _Style(plain, plain)):
        out.append(head)
        out += [f"  {line}" for line in _clip(lines)]
    return "\n".join(out) + "\n"


def diff_json(result: DiffResult) -> str:
    data: dict[str, Any] = kebab_document(result)
    data["verdict"] = _verdict(result)
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def inspection_text(result: InspectionResult, listed: int = 10) -> str:
    s = result.summary
    out = [
        f"{plain(result.path)}: {s.entries} entries ({s.files} files), "
        f"{s.unzipped_size:,} bytes unzipped, {s.size:,} bytes zipped",
        f"target: Python {s.python_version or '?'}, {s.architecture or '?'}"
        + (f" ({'; '.join(s.inferred)})" if s.inferred else ""),
    ]
    if s.distributions:
        dists = ", ".join(f"{d.name} {d.version}" for d in s.distributions)
        out.append(f"distributions: {plain(dists)}")
    if s.python_versions:
        out.append(f"bytecode for: {', '.join(s.python_versions)}")
    if s.native_libraries:
        out.append(f"native libraries: {len(s.native_libraries)}")
    if s.sbom is not None:
        out.append(
            f"sbom: {plain(s.sbom.path)} ({s.sbom.where} the zip), CycloneDX "
            f"{plain(s.sbom.spec_version)}, {s.sbom.components} components, {s.sbom.files} "
            f"files listed, {'agrees with' if s.sbom.matches else 'DISAGREES with'} the zip"
        )
    groups: dict[tuple[str, str], list[Finding]] = {}
    rank = {"error": 0, "warning": 1, "info": 2}
    for finding in sorted(result.findings, key=lambda f: (rank[f.severity], f.code)):
        groups.setdefault((finding.severity, finding.code), []).append(finding)
    counts: Counter[str] = Counter(f.severity for f in result.findings)
    out.append(", ".join(
        f"{counts[level]} {word if counts[level] == 1 else word + 's'}"
        for level, word in (("error", "error"), ("warning", "warning"), ("info", "note"))
    ))  # fmt: skip
    for (severity, code), items in groups.items():
        messages = {item.message for item in items}
        shared = len(messages) == 1 and len(items) > 1
        out.append(f"{severity} {code} ({len(items)}):" + (f" {messages.pop()}" if shared else ""))
        for item in items[:listed]:
            where = plain(item.entry) if item.entry is not None else ""
            text = where if shared else ": ".join(filter(None, (where, plain(item.message))))
            out.append(f"  {text}")
            out += [f"    {plain(entry)}" for entry in item.entries[:listed]]
            if len(item.entries) > listed:
                out.append(f"    ... and {len(item.entries) - listed} more")
        if len(items) > listed:
            out.append(f"  ... and {len(items) - listed} more")
    return "\n".join(out) + "\n"


def inspection_json(result: InspectionResult) -> str:
    return json.dumps(kebab_document(result), sort_keys=True, indent=2, ensure_ascii=False) + "\n"

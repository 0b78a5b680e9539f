"""Why two builds differ, entry by entry, and verify's verdict in words.

For every changed entry: a mode change, a short unified diff of text, the size and hash of a
native library, or for bytecode which part of the .pyc differs (magic, flags, source hash,
code object) and what that means.
"""

from __future__ import annotations

import difflib
import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lambda_zip_action.proof.model import DiffResult
from lambda_zip_action.proof.render import diff_text as render_text

if TYPE_CHECKING:
    from lambda_zip_action.proof.verify import VerifyResult

PYC_HEADER = 16
SHOWN_DIFF_LINES = 12


@dataclass(frozen=True)
class EntryExplanation:
    name: str
    detail: str


def explain_entries(old: Path, new: Path, result: DiffResult) -> tuple[EntryExplanation, ...]:
    """Say how each changed entry differs: a short diff for text, header or code for .pyc."""
    explanations = []
    with zipfile.ZipFile(old) as before, zipfile.ZipFile(new) as after:
        for change in result.files.changed:
            if not change.content_changed:
                explanations.append(
                    EntryExplanation(change.path, f"mode {change.old_mode} -> {change.new_mode}")
                )
                continue
            explanations.append(
                EntryExplanation(
                    change.path,
                    _explain(change.path, before.read(change.path), after.read(change.path)),
                )
            )
    return tuple(explanations)


def _explain(name: str, old: bytes, new: bytes) -> str:
    if name.endswith(".pyc"):
        return _explain_pyc(old, new)
    if old[:4] == b"\x7fELF" or ".so" in name.rsplit("/", 1)[-1]:
        return (
            f"native library: {len(old)} bytes sha256 {hashlib.sha256(old).hexdigest()[:16]} -> "
            f"{len(new)} bytes sha256 {hashlib.sha256(new).hexdigest()[:16]}"
        )
    try:
        old_text, new_text = old.decode("utf-8"), new.decode("utf-8")
    except UnicodeDecodeError:
        return f"binary: {len(old)} -> {len(new)} bytes"
    lines = list(
        difflib.unified_diff(
            old_text.splitlines(), new_text.splitlines(), "first", "second", n=1, lineterm=""
        )
    )[2:]
    shown = lines[:SHOWN_DIFF_LINES]
    more = len(lines) - len(shown)
    return (
        "text differs:\n"
        + "\n".join("      " + line for line in shown)
        + (f"\n      ... {more} more lines" if more > 0 else "")
    )


def _explain_pyc(old: bytes, new: bytes) -> str:
    parts = []
    source_changed = False
    if old[:PYC_HEADER] != new[:PYC_HEADER]:
        if old[:4] != new[:4]:
            field = "magic: another Python version"
        elif old[4:8] != new[4:8]:
            field = "flags: another invalidation mode"
        elif old[4:8] != b"\0\0\0\0":
            field = "source hash"
            source_changed = True
        else:
            field = "source mtime or size"
        parts.append(f"header differs ({field})")
    else:
        parts.append("header is equal")
    body = next(
        (
            i
            for i, (a, b) in enumerate(zip(old[PYC_HEADER:], new[PYC_HEADER:], strict=False))
            if a != b
        ),
        None if len(old) == len(new) else min(len(old), len(new)) - PYC_HEADER,
    )
    parts.append(
        "code object is equal"
        if body is None
        else f"the code object differs at offset {PYC_HEADER + body}"
    )
    cause = (
        "the source itself changed (its hash is in the header)"
        if source_changed
        else "the same source compiled differently: marshal output depends on the compiling "
        "process (grouping, order, hash seed)"
    )
    return f"bytecode: {'; '.join(parts)} ({len(old)} -> {len(new)} bytes); {cause}"


def render_verify(result: VerifyResult) -> str:
    text = _render_one(
        result.first.archive.sha256,
        result.second_sha256,
        result.function_reproducible,
        result.differences,
        result.entries,
        "" if result.layer is None else "function zip ",
    )
    if result.layer is not None and result.first.layer is not None:
        layer = result.layer
        text += _render_one(
            result.first.layer.archive.sha256,
            layer.second_sha256,
            layer.reproducible,
            layer.differences,
            layer.entries,
            "layer zip ",
        )
    return text


def _render_one(
    first: str,
    second: str,
    reproducible: bool,
    differences: DiffResult | None,
    entries: tuple[EntryExplanation, ...],
    what: str,
) -> str:
    if reproducible:
        return f"{what}reproducible: both builds are {first}\n"
    lines = [
        f"{what}NOT reproducible:",
        f"  first build   {first}",
        f"  second build  {second}",
    ]
    if entries:
        lines.append("Entries whose content differs:")
        for entry in entries:
            lines.append(f"  {entry.name}: {entry.detail}")
    if differences is not None:
        lines.append("")
        lines.append(render_text(differences).rstrip())
    return "\n".join(lines) + "\n"

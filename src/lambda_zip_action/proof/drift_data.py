"""The drift report as data, for a trusted job to render what an untrusted run measured.

In the fork pattern a run of the fork's own code builds the package and uploads what it found;
a second, trusted job posts it as the bot. Posting the fork's markdown would post whatever its
author wrote: links, images that call the author's server when a reviewer opens the pull
request, @mentions, HTML, a claim of "reproducible". So the Action writes the report's data
beside the markdown (`<output>.report.json`): per package its name, the new side's manifest
and the old side's (manifest data, read from a zip or a manifest; a bare sha256; or nothing).
The trusted job checks every field (the manifests through `proof.load`, as `diff` reads a
manifest from anyone), compares the two itself and renders with the renderer of `lambda-zip
diff --format markdown`, which escapes every name. Nothing from the document is written as
markdown, and no verdict of the other run is repeated: the data is what that run reported,
and nothing was rebuilt or verified here.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lambda_zip_action.errors import ArchiveReadError, ConfigError
from lambda_zip_action.manifest import SCHEMA as MANIFEST_SCHEMA
from lambda_zip_action.proof.diff import diff
from lambda_zip_action.proof.drift_report import DriftReport, Package, from_diff, render
from lambda_zip_action.proof.load import MANIFEST_MAX_BYTES, json_object, load

SCHEMA = "lambda-zip/drift-data/1"
MAX_REPORTS = 64
MAX_BYTES = 2 * MANIFEST_MAX_BYTES
_SHA256 = re.compile(r"[0-9a-f]{64}")

NOTICE = (
    "*Rendered from the data the pull request's own run uploaded: the files, versions and "
    "hashes are as that run reported them; nothing was rebuilt or verified here.*"
)


def document(reports: Sequence[tuple[DriftReport, Path]]) -> bytes:
    """The data of `reports`, each with the path of its new side's manifest."""
    rows = []
    for report, new_manifest in reports:
        if report.old_data is not None:
            old: object = report.old_data
        elif report.old is not None:
            old = {"sha256": report.old.sha256}
        else:
            old = None
        new = json.loads(new_manifest.read_text(encoding="utf-8"))
        rows.append({"name": report.name, "old-label": report.old_label, "new": new, "old": old})
    return json.dumps({"schema": SCHEMA, "reports": rows}, sort_keys=True).encode("utf-8")


def side_manifest(path: Path) -> dict[str, Any]:
    """What `diff` reads of the zip or manifest at `path`, as manifest data: the archive's
    hash and size, every file's path, size, hash, mode and owner, the distributions."""
    side = load(path)
    entries = []
    for record in side.files.values():
        entry: dict[str, object] = {"path": record.path, "size": record.size,
                                    "sha256": record.sha256}  # fmt: skip
        if record.mode is not None:
            entry["mode"] = f"{record.mode:o}"
        if record.path in side.owners:
            entry["owner"] = side.owners[record.path]
        entries.append(entry)
    summary = side.summary
    return {
        "schema": MANIFEST_SCHEMA,
        "archive": {"sha256": summary.sha256, "size": summary.size, "entries": summary.entries},
        "entries": entries,
        "distributions": [{"name": d.name, "version": d.version} for d in side.distributions],
    }


def render_document(path: Path) -> str:
    """The markdown of the reports in the document at `path`, every field checked first;
    ConfigError (or ArchiveReadError for a manifest) when any is not what the Action writes."""

    def bad(why: str) -> ConfigError:
        return ConfigError(
            f"{path} is not lambda-zip's drift data: {why}. Give the file the action's "
            "report-data output names (`<output>.report.json`); a markdown report from another "
            "run is not posted, since its author chose every character of it."
        )

    try:
        if path.stat().st_size > MAX_BYTES:
            raise bad(f"it holds more than {MAX_BYTES} bytes")
        data = json_object(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise bad("it is nested too deeply") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise bad(str(exc)) from exc
    if data.get("schema") != SCHEMA:
        raise bad(f"its schema is {str(data.get('schema'))[:80]!r}, not {SCHEMA!r}")
    rows = data.get("reports")
    if not isinstance(rows, list) or not 0 < len(rows) <= MAX_REPORTS:
        raise bad(f"`reports` is not a list of 1 to {MAX_REPORTS} reports")
    texts = []
    with tempfile.TemporaryDirectory(prefix="lambda-zip-drift-data-") as scratch:
        for index, row in enumerate(rows):
            try:
                report = _report(row, Path(scratch) / str(index))
            except ValueError as exc:
                raise bad(f"reports[{index}]: {exc}") from None
            texts.append(render(report))
    return NOTICE + "\n\n" + "\n".join(texts)


def _report(row: object, scratch: Path) -> DriftReport:
    if not isinstance(row, dict):
        raise ValueError("it is not an object")
    name, label = row.get("name"), row.get("old-label", "")
    # Both are shown escaped (markdown.escape_inline), as every name in a report is.
    if not isinstance(name, str) or not _short_text(name, 1):
        raise ValueError(f"its name {str(name)[:80]!r} is not 1 to 100 printable characters")
    if not isinstance(label, str) or not _short_text(label, 0):
        raise ValueError(f"its old-label {label!r:.80} is not 0 to 100 printable characters")
    scratch.mkdir()
    new_path = _manifest_file(row.get("new"), scratch / "new-manifest.json", "new")
    old = row.get("old")
    if isinstance(old, dict) and set(old) == {"sha256"}:
        digest = old["sha256"]
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ValueError("its old sha256 is not 64 lowercase hex digits")
        new = _new_side(new_path)
        return DriftReport(name, new, Package(digest, _b64(digest)), label, rebuilt=False)
    if old is None:
        return DriftReport(name, _new_side(new_path), None, rebuilt=False)
    old_path = _manifest_file(old, scratch / "old-manifest.json", "old")
    return dataclasses.replace(from_diff(diff(old_path, new_path), name), old_label=label)


def _short_text(text: str, shortest: int) -> bool:
    return shortest <= len(text) <= 100 and text.isprintable()


def _manifest_file(value: object, path: Path, side: str) -> Path:
    """`value` written where `proof.load` reads it; it checks every field."""
    if not isinstance(value, dict):
        raise ValueError(f"its {side} side is not a manifest (a JSON object)")
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def _new_side(path: Path) -> Package:
    summary = load(path).summary
    if summary.sha256 is None:
        raise ArchiveReadError(f"{path.name}: the new side's manifest gives no archive.sha256")
    return Package(summary.sha256, _b64(summary.sha256), summary.size, summary.unzipped_size)


def _b64(digest: str) -> str:
    return base64.b64encode(bytes.fromhex(digest)).decode("ascii")

"""`inspect` reads a zip's CycloneDX SBOM, beside it (`<zip>.cdx.json`) or inside it (a
`*.cdx.json` at its root), and checks it against the zip: the zip it names (beside only: one
inside cannot hold its own zip's hash), every file it lists with its sha256, and the Python
distributions it lists. Any tool's SBOM is read; one that lists no files is checked for its
distributions only. The document is untrusted: read with a size limit, names escaped when shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from lambda_zip_action.proof.model import DistributionVersion, Finding, SbomSummary, Severity
from lambda_zip_action.sbom import SUFFIX, sbom_path
from lambda_zip_action.zip.reader import ZipReader

SBOM_READ_LIMIT = 256 * 1024 * 1024
SHOWN = 10


def check_sbom(
    zip_path: Path,
    zip_sha256: str,
    reader: ZipReader,
    hashes: Mapping[str, str | None],
    distributions: tuple[DistributionVersion, ...],
) -> tuple[SbomSummary | None, list[Finding]]:
    """The SBOM found for the zip and what disagrees with the zip; (None, []) when none."""
    found = _find(zip_path, reader)
    if found is None:
        return None, []
    label, where, content = found
    try:
        document = json.loads(content) if content is not None else None
    except (ValueError, RecursionError):
        document = None
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        why = f"not a CycloneDX JSON document, or larger than {SBOM_READ_LIMIT:,} bytes"
        return None, [Finding("sbom-unreadable", "error", label, why)]
    findings: list[Finding] = []
    if where == "beside":
        findings += _zip_hash(document, zip_sha256, label)
    listed = {}
    for component in _components(document.get("components")):
        if component.get("type") == "file" and isinstance(component.get("name"), str):
            listed[component["name"]] = _sha256(component)
    own_name = label if where == "inside" else None
    in_zip = {name: digest for name, digest in hashes.items() if name != own_name}
    findings += _files(listed, in_zip)
    findings += _distributions(document, distributions)
    components = document.get("components")
    summary = SbomSummary(
        label,
        where,
        str(document.get("specVersion", "?")),
        len(components) if isinstance(components, list) else 0,
        len(listed),
        not any(f.severity != "info" for f in findings),
    )
    return summary, findings


def _find(zip_path: Path, reader: ZipReader) -> tuple[str, str, bytes | None] | None:
    beside = sbom_path(zip_path)
    if beside.is_file():
        with beside.open("rb") as stream:
            content = stream.read(SBOM_READ_LIMIT + 1)
        return str(beside), "beside", content if len(content) <= SBOM_READ_LIMIT else None
    for entry in reader.archive.entries:
        if "/" not in entry.name and entry.name.endswith(SUFFIX) and not entry.is_dir:
            size = entry.uncompressed_size
            inside = reader.read_head(entry, size) if size <= SBOM_READ_LIMIT else None
            return entry.name, "inside", inside
    return None


def _components(value: object, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """Every component, nested ones included (to a depth no real SBOM reaches)."""
    if not isinstance(value, list) or depth > 32:
        return
    for item in value:
        if isinstance(item, dict):
            yield item
            yield from _components(item.get("components"), depth + 1)


def _sha256(component: Mapping[str, Any]) -> str | None:
    for item in component.get("hashes") or []:
        if isinstance(item, dict) and item.get("alg") == "SHA-256":
            return str(item.get("content", "")).lower()
    return None


def _zip_hash(document: Mapping[str, Any], zip_sha256: str, label: str) -> list[Finding]:
    metadata = document.get("metadata")
    component = metadata.get("component") if isinstance(metadata, dict) else None
    named = _sha256(component) if isinstance(component, dict) else None
    if named is None or named == zip_sha256:
        return []
    why = f"it describes the zip with sha256 {named[:64]}, not this one ({zip_sha256})"
    return [Finding("sbom-other-zip", "error", label, why + ": it is another build's")]


def _files(listed: Mapping[str, str | None], in_zip: Mapping[str, str | None]) -> list[Finding]:
    if not listed:
        return [Finding("sbom-no-files", "info", None, "the SBOM lists no files: only the "
                        "distributions it lists were checked against the zip")]  # fmt: skip
    found = []
    missing = sorted(name for name in listed if name not in in_zip)
    wrong = sorted(name for name, digest in listed.items()
                   if name in in_zip and digest is not None and digest != in_zip[name])  # fmt: skip
    unlisted = sorted(name for name in in_zip if name not in listed)
    rows: tuple[tuple[str, Severity, list[str], str], ...] = (
        ("sbom-file-missing", "error", missing, "listed in the SBOM, not in the zip"),
        ("sbom-hash-mismatch", "error", wrong, "with another sha256 in the zip than in the SBOM"),
        ("sbom-file-unlisted", "warning", unlisted, "in the zip, not listed in the SBOM"),
    )
    for code, severity, names, message in rows:
        if names:
            found.append(Finding(code, severity, None, f"{len(names)} file"
                                 f"{'' if len(names) == 1 else 's'} {message}",
                                 tuple(names)))  # fmt: skip
    return found


def _distributions(
    document: Mapping[str, Any], distributions: tuple[DistributionVersion, ...]
) -> list[Finding]:
    # Top-level components only: nested ones (what a wheel's own SBOM says it bundles) are not
    # distributions of the zip.
    listed = set()
    components = document.get("components")
    for component in components if isinstance(components, list) else []:
        purl = component.get("purl") if isinstance(component, dict) else None
        if not isinstance(purl, str) or not purl.startswith("pkg:pypi/"):
            continue
        try:
            parsed = PackageURL.from_string(purl)
        except ValueError:
            continue
        listed.add((canonicalize_name(parsed.name), parsed.version or ""))
    if not listed:
        return []
    present = {(d.name, d.version) for d in distributions}
    found = []
    for code, names, message in (
        ("sbom-distribution-missing", listed - present, "listed in the SBOM, not in the zip"),
        ("sbom-distribution-unlisted", present - listed, "in the zip, not listed in the SBOM"),
    ):
        if names:
            shown = tuple(f"{name} {version}" for name, version in sorted(names))
            found.append(Finding(code, "warning", None, f"{len(names)} distribution"
                                 f"{'' if len(names) == 1 else 's'} {message}", shown))  # fmt: skip
    return found

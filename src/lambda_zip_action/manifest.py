"""The manifest: what is in the zip, what was installed, and from which inputs.

It is written next to the zip and is itself deterministic: no absolute paths, no times, keys
sorted. `lambda-zip diff` accepts it in place of a zip. Every key is kebab-case, the word the
text output and the Action's outputs use for the same value (`base64-sha256`,
`s3-etag-5mib`). Schema 1 (the previous release) spelled keys with underscores; `upgrade`
maps such a document to this schema, so a baseline written by that release still compares.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lambda_zip_action import __version__
from lambda_zip_action.records import owner_of

if TYPE_CHECKING:
    from lambda_zip_action.archive import ArchiveResult
    from lambda_zip_action.etags import S3ETags
    from lambda_zip_action.installed_tree import Distribution

SCHEMA = "lambda-zip/manifest/2"
SCHEMA_V1 = "lambda-zip/manifest/1"
# Schema 1's keys that schema 2 spells otherwise; every other key is the same in both.
V1_KEYS = {
    "base64_sha256": "base64-sha256",
    "content_digest": "content-digest",
    "compression_level": "compression-level",
    "zlib_version": "zlib-version",
    "s3_etag_5mib": "s3-etag-5mib",
    "s3_etag_8mib": "s3-etag-8mib",
    "python_version": "python-version",
    "source_invalidation": "source-invalidation",
    "source_date_epoch": "source-date-epoch",
    "wheel_tags": "wheel-tags",
    "sources": "source",
    "excludes": "exclude",
}


def manifest_document(
    archive: ArchiveResult,
    distributions: tuple[Distribution, ...],
    target: Mapping[str, Any],
    inputs: Mapping[str, Any],
    compression_level: int,
    zlib_version: str,
    etags: S3ETags | None = None,
    owners: Mapping[str, str] | None = None,
    prefix: str = "",
) -> dict[str, Any]:
    """The manifest; `owners` (target path -> distribution) marks each dependency's entries."""
    owned = owners or {}
    return {
        "schema": SCHEMA,
        "tool": {"name": "lambda-zip-action", "version": __version__},
        "archive": {
            "sha256": archive.sha256,
            "base64-sha256": archive.base64_sha256,
            "md5": archive.md5,
            "size": archive.size,
            "entries": len(archive.entries),
            "content-digest": archive.content_digest,
            "compression-level": compression_level,
            "zlib-version": zlib_version,
            # S3 ETags after each kind of upload: see etags.py for who produces which.
            **(
                {"s3-etag-5mib": etags.s3_etag_5mib, "s3-etag-8mib": etags.s3_etag_8mib}
                if etags is not None
                else {}
            ),
        },
        "target": dict(target),
        "inputs": dict(inputs),
        "distributions": [
            {"name": d.name, "version": d.version, "source": d.source, "wheel-tags": list(d.tags)}
            for d in distributions
        ],
        "entries": [
            {
                "path": e.name,
                "size": e.size,
                "sha256": e.sha256,
                "mode": f"{e.mode:04o}",
                **(
                    {"owner": owner}
                    if (owner := owner_of(e.name.removeprefix(prefix), owned))
                    else {}
                ),
            }
            for e in archive.entries
        ],
    }


def upgrade(document: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest of this schema as it is, or one of schema 1 with its keys renamed.

    Raises ValueError naming the schema when it is neither.
    """
    schema = document.get("schema")
    if schema == SCHEMA:
        return dict(document)
    if schema != SCHEMA_V1:
        raise ValueError(f"its schema is {schema!r}")
    upgraded = _renamed(document)
    assert isinstance(upgraded, dict)
    upgraded["schema"] = SCHEMA
    return upgraded


def _renamed(value: object) -> object:
    # Schema 1 has no map keyed by data (entries and distributions are lists), so every key
    # in it is a field name.
    if isinstance(value, Mapping):
        return {V1_KEYS.get(key, key): _renamed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item) for item in value]
    return value


def dumps(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()

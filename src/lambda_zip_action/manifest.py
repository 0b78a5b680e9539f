"""The manifest: what is in the zip, what was installed, and from which inputs.

It is written next to the zip and is itself deterministic: no absolute paths, no times, keys
sorted. `lambda-zip diff` accepts it in place of a zip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lambda_zip_action import __version__
from lambda_zip_action.archive import ArchiveResult
from lambda_zip_action.etags import S3ETags
from lambda_zip_action.installed_tree import Distribution
from lambda_zip_action.records import owner_of

SCHEMA = "lambda-zip/manifest/1"


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
            "base64_sha256": archive.base64_sha256,
            "md5": archive.md5,
            "size": archive.size,
            "entries": len(archive.entries),
            "content_digest": archive.content_digest,
            "compression_level": compression_level,
            "zlib_version": zlib_version,
            # S3 ETags after each kind of upload: see etags.py for who produces which.
            **(
                {"s3_etag_5mib": etags.s3_etag_5mib, "s3_etag_8mib": etags.s3_etag_8mib}
                if etags is not None
                else {}
            ),
        },
        "target": dict(target),
        "inputs": dict(inputs),
        "distributions": [
            {"name": d.name, "version": d.version, "source": d.source, "wheel_tags": list(d.tags)}
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


def dumps(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()

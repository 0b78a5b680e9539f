"""How a built zip's deploy hashes are shown: the text block and the JSON of one artifact.

Every hash a deploy tool compares is named with the tool that reports it, so nobody has to
guess which one to put beside Lambda's CodeSha256 or an S3 ETag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambda_zip_action.archive import ArchiveResult
from lambda_zip_action.build import Artifact
from lambda_zip_action.etags import S3ETags
from lambda_zip_action.limits import SizeReport

LABELS = {
    "base64-sha256": "Lambda CodeSha256, Terraform filebase64sha256 / source_code_hash",
    "md5": "S3 ETag of a single-part upload: PutObject, aws s3 cp below 8 MiB",
    "s3-etag-5mib": "S3 ETag after Terraform aws_s3_object, AWS SDK for Go v2: 5 MiB parts",
    "s3-etag-8mib": "S3 ETag after aws s3 cp, boto3 upload_file: 8 MiB parts from 8 MiB on",
}


def render_artifact(
    output: Path,
    manifest: Path,
    archive: ArchiveResult,
    sizes: SizeReport,
    etags: S3ETags,
    kind: str = "",
) -> str:
    lines = [
        f"built {kind + ' ' if kind else ''}{output}",
        f"  sha256          {archive.sha256}",
        f"  base64-sha256   {archive.base64_sha256}   ({LABELS['base64-sha256']})",
        f"  md5             {etags.md5}   ({LABELS['md5']})",
        f"  s3-etag-5mib    {etags.s3_etag_5mib}   ({LABELS['s3-etag-5mib']})",
        f"  s3-etag-8mib    {etags.s3_etag_8mib}   ({LABELS['s3-etag-8mib']})",
        f"  size            {archive.size} bytes, {sizes.unzipped} unzipped, "
        f"{len(archive.entries)} entries",
        f"  content-digest  {archive.content_digest}",
        f"  manifest        {manifest}",
    ]
    return "\n".join(lines) + "\n"


def layer_document(layer: Artifact) -> dict[str, Any]:
    """The layer's part of `--json`: the same keys as the function's own hashes."""
    archive = layer.archive
    return {
        "path": str(layer.output),
        "manifest": str(layer.manifest),
        "sha256": archive.sha256,
        "base64_sha256": archive.base64_sha256,
        "md5": layer.etags.md5,
        "s3_etag_5mib": layer.etags.s3_etag_5mib,
        "s3_etag_8mib": layer.etags.s3_etag_8mib,
        "size": archive.size,
        "unzipped_size": layer.sizes.unzipped,
        "entries": len(archive.entries),
        "content_digest": archive.content_digest,
    }


__all__ = ["LABELS", "layer_document", "render_artifact"]

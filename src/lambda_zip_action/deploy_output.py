"""How a built zip's deploy hashes are shown: the text block and the JSON of one artifact.

Every hash a deploy tool compares is named with the tool that reports it, so nobody has to
guess which one to put beside Lambda's CodeSha256 or an S3 ETag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambda_zip_action.archive import ArchiveResult
from lambda_zip_action.etags import S3ETags, parse_etag
from lambda_zip_action.limits import SizeReport
from lambda_zip_action.outputs import Artifact
from lambda_zip_action.sbom import sbom_path

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
        *([f"  sbom            {sbom_path(output)}"] if archive.sbom_sha256 else []),
    ]
    return "\n".join(lines) + "\n"


def artifact_document(
    output: Path, manifest: Path, archive: ArchiveResult, sizes: SizeReport, etags: S3ETags
) -> dict[str, Any]:
    """One zip's part of `--json`, with the words of the text block and the Action's outputs."""
    return {
        "path": str(output),
        "manifest": str(manifest),
        "sha256": archive.sha256,
        "base64-sha256": archive.base64_sha256,
        "md5": etags.md5,
        "s3-etag-5mib": etags.s3_etag_5mib,
        "s3-etag-8mib": etags.s3_etag_8mib,
        "size": archive.size,
        "unzipped-size": sizes.unzipped,
        "entries": len(archive.entries),
        "content-digest": archive.content_digest,
        **({"sbom": str(sbom_path(output))} if archive.sbom_sha256 else {}),
    }


def layer_document(layer: Artifact) -> dict[str, Any]:
    """The layer's part of `--json`: the same keys as the function's own hashes."""
    return artifact_document(layer.output, layer.manifest, layer.archive, layer.sizes,
                             layer.etags)  # fmt: skip


def etag_comparison(
    value: str, etags: S3ETags, sha256: str, base64_sha256: str
) -> tuple[str, str | None, str, str | None] | None:
    """Compare an S3 ETag given as compare-to with the matching ETag of this zip.

    None when `value` is not an ETag. Otherwise (old side's sha256 or a stand-in that never
    equals one, its base64 or None, the report's label for it, a warning or None). An equal
    ETag means the same bytes (md5, as S3 itself compares them), so the old side gets this
    zip's sha256 and `changed` is false.
    """
    parsed = parse_etag(value)
    if parsed is None:
        return None
    digest, parts = parsed
    shown = digest if parts is None else f"{digest}-{parts}"
    names = etags.candidates(value)
    for name in names:
        if etags.as_dict()[name] == shown:
            return sha256, base64_sha256, f"compare-to, S3 ETag equal to {name}", None
    warning = None
    if not names:
        warning = (
            f"compare-to is the S3 ETag of a {parts}-part upload, but this zip gets "
            f"{_parts(etags.s3_etag_5mib)} part(s) from Terraform aws_s3_object (5 MiB parts) "
            f"and {_parts(etags.s3_etag_8mib)} from aws s3 cp (8 MiB parts): it was uploaded in "
            "parts of another size, or holds other bytes; treated as changed"
        )
    return f"S3 ETag {shown}", None, "compare-to, S3 ETag", warning


def _parts(etag: str) -> int:
    _, _, count = etag.partition("-")
    return int(count) if count else 1


__all__ = ["LABELS", "artifact_document", "etag_comparison", "layer_document", "render_artifact"]

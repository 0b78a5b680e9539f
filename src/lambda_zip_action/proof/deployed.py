"""A drift report against what is deployed on AWS (aws.py reads it): the Action's compare-to,
`lambda-zip diff` and `lambda-zip audit` all make theirs here.

The deployed bytes, when they could be had, are compared file by file as any zip given as
compare-to is; otherwise Lambda's CodeSha256 alone says whether the package changed, and a
note says why there is no file-level report.
"""

from __future__ import annotations

import base64
import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from lambda_zip_action.aws import Deployed, Target, fetch, parse_target
from lambda_zip_action.escape import plain
from lambda_zip_action.proof.diff import diff
from lambda_zip_action.proof.drift_data import side_manifest
from lambda_zip_action.proof.drift_report import DriftReport, Package
from lambda_zip_action.proof.load import load
from lambda_zip_action.proof.model import DiffResult

# drift_data refuses a longer old-label (an S3 key may hold 1,024 characters).
LABEL_LENGTH = 100


@dataclass(frozen=True)
class Against:
    report: DriftReport
    # Why the report has no file-level part although the package changed; None when it has.
    note: str | None


def deployed_report(
    target: Target,
    name: str,
    new: Package,
    new_zip: Path,
    env: Mapping[str, str],
    scratch: Path,
) -> Against:
    """`new` (the zip at `new_zip`) against what `target` holds."""
    return report_against(fetch(target, env, scratch), name, new, new_zip)


def report_against(deployed: Deployed, name: str, new: Package, new_zip: Path) -> Against:
    """`new` (the zip at `new_zip`) against what was fetched."""
    target = deployed.target
    label = label_of(target)
    if deployed.path is None:
        old = Package(deployed.sha256, b64(deployed.sha256))
        report = DriftReport(name, new, old, label)
        note = None
        if report.changed:
            note = (f"{label} differs from this package (CodeSha256), but {deployed.note}: "
                    "there is no file-level report.")  # fmt: skip
        return Against(report, note)
    result = diff(deployed.path, new_zip)
    old = old_side(result, new, None)
    report = DriftReport(name, new, old, label, result, old_data=side_manifest(deployed.path))
    return Against(report, None)


def label_of(target: Target) -> str:
    text = f"deployed {target}"
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 3] + "..."


def old_side(result: DiffResult, new: Package, verified: bool | None) -> Package:
    """The old side of a report from a diff whose new side is `new`."""
    sha = result.old.sha256 or ""
    unzipped = None if new.unzipped is None else new.unzipped - result.files.total_size_change
    return Package(sha, b64(sha) if sha else None, result.old.size, unzipped, verified)


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


@contextlib.contextmanager
def fetched_for_diff(
    value: str, new: Path, env: Mapping[str, str]
) -> Iterator[tuple[Path | None, tuple[int, str]]]:
    """For `lambda-zip diff DEPLOYED NEW`: the deployed zip while the block runs, or (None,
    (exit code, verdict in words)) when only its CodeSha256 could be had."""
    target = parse_target(value)
    assert target is not None
    scratch = Path(tempfile.mkdtemp(prefix="lambda-zip-deployed-"))
    try:
        deployed = fetch(target, env, scratch)
        if deployed.path is not None:
            yield deployed.path, (0, "")
            return
        new_sha = load(new).summary.sha256
        if new_sha == deployed.sha256:
            yield None, (0, plain(f"{target}: identical bytes (CodeSha256)"))
            return
        yield None, (1, plain(
            f"{target}: differs (CodeSha256 {b64(deployed.sha256)} is not {new}'s), but "
            f"{deployed.note}: there is no file-level report."))  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

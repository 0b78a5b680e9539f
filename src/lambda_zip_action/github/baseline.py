"""What the new package is compared with, and the drift reports that say how it changed.

The old side is, in this order: `compare-to` (a sha256, an S3 ETag, a zip or manifest file,
or what is deployed on AWS: `s3://...`, `lambda:...`, a layer version's ARN), `baseline-ref`,
or for a pull request its base commit, built from a detached worktree
with the same project-relative settings. With split, the layer is compared the same way, or
against `layer-compare-to`.
"""

from __future__ import annotations

import base64
import binascii
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from actions_toolkit import core  # type: ignore[import-untyped]

from lambda_zip_action.aws import parse_target
from lambda_zip_action.build import BuildResult
from lambda_zip_action.config import BuildConfig, make_config
from lambda_zip_action.deploy import discover
from lambda_zip_action.deploy.model import FunctionSpec
from lambda_zip_action.deploy_output import etag_comparison
from lambda_zip_action.errors import ConfigError
from lambda_zip_action.etags import S3ETags
from lambda_zip_action.github.inputs import ActionInputs, build_options
from lambda_zip_action.github.pipeline import Built, run_pipeline
from lambda_zip_action.github.runner import pull_request_base, safe
from lambda_zip_action.gitrepo import detached_worktree
from lambda_zip_action.outputs import Artifact
from lambda_zip_action.proof.deployed import b64, old_side
from lambda_zip_action.proof.diff import diff
from lambda_zip_action.proof.drift_data import side_manifest
from lambda_zip_action.proof.drift_report import DriftReport, Package

_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")


def compare_packages(
    inputs: ActionInputs,
    project: Path,
    new: Built,
    env: Mapping[str, str],
    scratch: Path,
) -> tuple[DriftReport, DriftReport | None]:
    """The function's (or the only package's) drift report and, with split, the layer's."""
    layer = new.result.layer
    if layer is None:
        return _compare(inputs, project, new, env, scratch), None
    layer_name = f"{inputs.name} layer"
    layer_new = _package(layer, new.reproducible)
    if inputs.compare_to or inputs.layer_compare_to:
        function = (
            _compare(inputs, project, new, env, scratch)
            if inputs.compare_to
            else DriftReport(inputs.name, _package(new.result, new.reproducible), None)
        )
        if not inputs.layer_compare_to:
            return function, DriftReport(layer_name, layer_new, None)
        return function, _against(inputs.layer_compare_to, layer_name, layer_new, layer.output,
                                  layer.etags, project, env, scratch)  # fmt: skip
    baseline: list[Built] = []
    function = _compare(inputs, project, new, env, scratch, keep=baseline)
    if not baseline or baseline[0].result.layer is None:
        return function, DriftReport(layer_name, layer_new, None)
    base_layer = baseline[0].result.layer
    result = diff(base_layer.output, layer.output)
    old = _old_side(result, layer_new, baseline[0].reproducible)
    return function, DriftReport(layer_name, layer_new, old, function.old_label, result,
                                 old_data=side_manifest(base_layer.manifest))  # fmt: skip


def _against(
    value: str,
    name: str,
    new: Package,
    output: Path,
    etags: S3ETags,
    project: Path,
    env: Mapping[str, str],
    scratch: Path,
) -> DriftReport:
    """A report against a hash, an S3 ETag, a zip or manifest file, or what is deployed on
    AWS, given as compare-to. AWS is read here, in this process, never by a build."""
    target = parse_target(value)
    if target is not None:
        from lambda_zip_action.proof.deployed import deployed_report

        fetched = Path(tempfile.mkdtemp(prefix="deployed-", dir=scratch))
        against = deployed_report(target, name, new, output, env, fetched)
        if against.note:
            core.warning(safe(against.note))
        return against.report
    digest = parse_sha256(value)
    if digest is not None:
        return DriftReport(name, new, Package(digest, b64(digest)), "compare-to")
    by_etag = etag_comparison(value, etags, new.sha256, new.base64_sha256 or "")
    if by_etag is not None:
        sha, base64_sha, label, warning = by_etag
        if warning:
            core.warning(warning)
        return DriftReport(name, new, Package(sha, base64_sha), label)
    path = _existing(value, project)
    result = diff(path, output)
    return DriftReport(name, new, _old_side(result, new, None), "compare-to", result,
                       old_data=side_manifest(path))  # fmt: skip


def _compare(
    inputs: ActionInputs,
    project: Path,
    new: Built,
    env: Mapping[str, str],
    scratch: Path,
    keep: list[Built] | None = None,
) -> DriftReport:
    new_package = _package(new.result, new.reproducible)
    output = new.result.output
    if inputs.compare_to:
        return _against(inputs.compare_to, inputs.name, new_package, output,
                        new.result.etags, project, env, scratch)  # fmt: skip
    ref = inputs.baseline_ref or pull_request_base(env)
    if ref is None:
        return DriftReport(inputs.name, new_package, None)
    try:
        base = build_baseline(inputs, project, ref, env, scratch=scratch, config=new.result.config)
    except NewFunction as exc:
        core.notice(safe(f"{exc.message[0].upper()}{exc.message[1:]} at {ref[:12]}: nothing "
                         "to compare it with."))  # fmt: skip
        return DriftReport(inputs.name, new_package, None)
    except ConfigError as exc:
        if inputs.baseline_ref:
            raise
        # The PR's base may predate this package: there is then nothing to compare with.
        core.warning(safe(f"No baseline from the pull request's base {ref[:12]}: {exc.message}"))
        return DriftReport(inputs.name, new_package, None)
    if keep is not None:
        keep.append(base)
    result = diff(base.result.output, output)
    old = _old_side(result, new_package, base.reproducible)
    label = ref[:12] if _COMMIT.fullmatch(ref) else ref
    return DriftReport(inputs.name, new_package, old, label, result,
                       old_data=side_manifest(base.result.manifest))  # fmt: skip


_old_side = old_side


def _existing(value: str, project: Path) -> Path:
    for candidate in (project / value, Path(value)):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"compare-to {value!r} is neither a sha256 (64 hex digits, or the 44-character base64 "
        "that Lambda reports as CodeSha256), nor an S3 ETag (32 hex digits, or `<32 hex>-N` "
        "for a multipart upload, quoted or not), nor what is deployed on AWS (s3://BUCKET/KEY, "
        "lambda:FUNCTION[:QUALIFIER], a layer version's ARN), nor an existing zip or manifest "
        "file."
    )


def baseline_sha256(report: DriftReport | None) -> str:
    """The old side's sha256 for the baseline-sha256 output; empty when it has none."""
    old = report.old if report is not None else None
    return old.sha256 if old is not None and _HEX_SHA256.fullmatch(old.sha256) else ""


def parse_sha256(value: str) -> str | None:
    """A sha256 given as 64 hex digits or as base64 (Lambda's CodeSha256), as hex; else None."""
    if _HEX_SHA256.fullmatch(value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def _package(built: BuildResult | Artifact, reproducible: bool | None) -> Package:
    """The new side of a report: the function's (or only) package, or the layer."""
    archive = built.archive
    return Package(
        archive.sha256, archive.base64_sha256, archive.size, built.sizes.unzipped, reproducible
    )


def build_baseline(
    inputs: ActionInputs,
    project: Path,
    ref: str,
    env: Mapping[str, str],
    *,
    scratch: Path,
    config: BuildConfig,
) -> Built:
    """Build `ref` from a detached worktree with the same project-relative settings.

    git runs on the checkout's own repository only (gitrepo: found by its `.git`, never by
    git's discovery, which would take a bare repository a pull request commits in the project
    for it and run what its config names), with no secret in its environment."""
    with detached_worktree(project, ref, env, scratch) as (commit, base_project):
        options = build_options(inputs, base_project)
        options["output"] = scratch / "baseline" / config.output.name
        if config.layer_output is not None:
            options["layer_output"] = scratch / "baseline" / config.layer_output.name
        options["python"] = config.python
        if config.function is not None and config.layout == "layer":
            options.update(layout="layer", split=None)
        base_config = make_config(base_project, options, env.get("SOURCE_DATE_EPOCH"),
                                  _base_function(base_project, config))  # fmt: skip
        return run_pipeline(
            base_config, env, verify_build=inputs.verify, title=f"Baseline: {commit[:12]}"
        )


class NewFunction(ConfigError):
    """The function (or layer) is not declared by the base commit: there is nothing to compare."""


def _base_function(base_project: Path, config: BuildConfig) -> FunctionSpec | None:
    """The function (or layer) `config` builds, as the base commit declares it (None: not a
    function)."""
    if config.function is None:
        return None
    from lambda_zip_action.functions import layer_specs

    declared = discover(base_project, config.deploy_choice)
    if declared is not None:
        specs = layer_specs(declared, ()) if config.layout == "layer" else declared.functions
        for spec in specs:
            if spec.name == config.function:
                return spec
    raise NewFunction(
        f"the base commit declares no {config.layout if config.layout == 'layer' else 'function'} "
        f"{config.function}: it is new"
    )

"""`lambda-zip audit`: is what runs in production exactly this commit?

What is deployed (aws.py: an S3 object, a function's code, a layer version) is read first, so
missing credentials fail before a long build. The project is then built, as it is on disk or,
with `--ref`, from a detached worktree of that commit (gitrepo.detached_worktree, as the
Action's baseline), into a scratch directory: nothing in the project is written. Both zips are
compared byte for byte; when they differ, the drift report says how (proof/deployed.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_zip_action.aws import Deployed, LambdaCode, fetch, parse_target
from lambda_zip_action.build import BuildResult
from lambda_zip_action.config import BuildConfig, make_config
from lambda_zip_action.errors import ConfigError
from lambda_zip_action.escape import plain
from lambda_zip_action.events import Event, Listener
from lambda_zip_action.gitrepo import detached_worktree
from lambda_zip_action.proof.deployed import Against, report_against
from lambda_zip_action.proof.drift_report import Package

# Files a build would write: audit writes into its own scratch directory instead.
_OUTPUTS = ("output", "manifest", "layer_output", "layer_manifest")


@dataclass(frozen=True)
class Audit:
    against: Against
    deployed: Deployed
    commit: str | None  # the commit built with --ref; None: the project as it is on disk
    built: str  # what was built, in words
    notes: tuple[str, ...]

    @property
    def same(self) -> bool:
        return self.against.report.changed is False


@dataclass(frozen=True)
class Request:
    target: str
    project: Path
    options: Mapping[str, Any]
    ref: str | None = None
    function: str | None = None
    deploy_config: str | None = None


def audit(
    request: Request,
    env: Mapping[str, str],
    run: Callable[[BuildConfig], BuildResult],
    on_event: Listener,
) -> Audit:
    """Build `request`'s project with `run` and compare it with what `request.target` holds."""
    target = parse_target(request.target)
    if target is None:
        raise ConfigError(
            f"audit compares with what is deployed on AWS, and {plain(request.target)!r} is not "
            "s3://BUCKET/KEY[?versionId=ID], lambda:FUNCTION[:QUALIFIER] or a layer version's "
            "ARN. To compare two zips, use lambda-zip diff."
        )
    given = [f"--{key.replace('_', '-')}" for key in _OUTPUTS if request.options.get(key)]
    if given:
        raise ConfigError(
            f"audit writes no package: {', '.join(given)} has no use here (the rebuild goes "
            "to a temporary directory and is removed)."
        )
    scratch = Path(tempfile.mkdtemp(prefix="lambda-zip-audit-"))
    try:
        deployed = fetch(target, env, scratch / "deployed")
        with _checkout(request, env, scratch) as (commit, project):
            options = _rebased(request.options, request.project, project)
            here = dataclasses.replace(request, project=project, options=options)
            config = _config(here, env, scratch / "built", target)
            what = f"commit {commit[:12]}" if commit else plain(str(project))
            on_event(Event("stage", f"Rebuilding {what} to compare with what is deployed"))
            result = run(config)
        layer = isinstance(target, LambdaCode) and target.layer_arn is not None
        artifact: Any = result.layer if layer and result.layer is not None else result
        new = Package(artifact.archive.sha256, artifact.archive.base64_sha256,
                      artifact.archive.size, artifact.sizes.unzipped)  # fmt: skip
        name = config.function or request.project.resolve().name
        against = report_against(deployed, name, new, artifact.output)
        built = f"commit {commit}" if commit else f"the project {plain(str(request.project))}"
        notes = tuple(_mismatches(deployed, result.config))
        return Audit(against, deployed, commit, built, notes)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def _checkout(
    request: Request, env: Mapping[str, str], scratch: Path
) -> Iterator[tuple[str | None, Path]]:
    if request.ref is None:
        yield None, request.project
        return
    with detached_worktree(request.project, request.ref, env, scratch) as (commit, project):
        yield commit, project


def _rebased(options: Mapping[str, Any], project: Path, base: Path) -> dict[str, Any]:
    """Path options that point into the project, pointed into the same place of `base` (the
    commit's worktree); other paths (an interpreter) as given."""
    if base == project:
        return dict(options)
    root = project.resolve()

    def moved(path: Path) -> Path:
        resolved = path.resolve()
        return base / resolved.relative_to(root) if resolved.is_relative_to(root) else path

    rebased: dict[str, Any] = {}
    for key, value in options.items():
        if key == "python" or value is None:
            rebased[key] = value
        elif isinstance(value, Path):
            rebased[key] = moved(value)
        elif isinstance(value, list) and value and all(isinstance(v, Path) for v in value):
            rebased[key] = [moved(v) for v in value]
        else:
            rebased[key] = value
    return rebased


def _config(request: Request, env: Mapping[str, str], into: Path, target: object) -> BuildConfig:
    """The one package to rebuild: the project's, or the function (or layer) the deploy
    configuration declares that `request.function` names."""
    project, options = request.project, dict(request.options)
    from lambda_zip_action.functions import Selection, plan

    names = (request.function,) if request.function else ()
    selection = Selection(names, request.deploy_config, into)
    the_plan = plan(project, options, env.get("SOURCE_DATE_EPOCH"), selection)
    if the_plan is None:
        into.mkdir(parents=True, exist_ok=True)
        options = {**options, "output": into / "lambda.zip"}
        if options.get("split"):
            options["layer_output"] = into / "lambda-layer.zip"
        return make_config(project, options, env.get("SOURCE_DATE_EPOCH"))
    kind = "layer" if isinstance(target, LambdaCode) and target.layer_arn else "function"
    builds = [b for b in the_plan.functions if request.function or b.kind == kind]
    if len(builds) != 1:
        names_list = ", ".join(plain(b.spec.name) for b in builds)
        raise ConfigError(
            f"The project declares {len(builds)} {kind}s ({names_list}): pick the one that is "
            "deployed there with --function NAME."
        )
    return builds[0].config


def _mismatches(deployed: Deployed, config: BuildConfig) -> list[str]:
    """Settings of the deployed function that the rebuild did not share: then it cannot match."""
    notes = []
    built_runtime = f"python{config.python_version}"
    if deployed.runtime and deployed.runtime != built_runtime:
        notes.append(f"{deployed.target} runs {plain(deployed.runtime)}, and this rebuild is for "
                     f"{built_runtime}: give --python-version "
                     f"{plain(deployed.runtime.removeprefix('python'))}.")  # fmt: skip
    if deployed.architecture and deployed.architecture != config.architecture:
        notes.append(f"{deployed.target} runs on {plain(deployed.architecture)}, and this rebuild "
                     f"is for {config.architecture}: give --architecture "
                     f"{plain(deployed.architecture)}.")  # fmt: skip
    return notes

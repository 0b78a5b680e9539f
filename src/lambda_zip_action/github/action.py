"""The action from start to end, and the CLI's two GitHub subcommands.

`lambda-zip action` runs as the GitHub Action, from `INPUT_*`: the inputs read and checked, the
build (verified unless told otherwise), the comparison with the baseline, then the report in
the step summary and a file, the outputs, and the sticky pull-request comment.
`lambda-zip comment` posts a report written by an earlier run, for the `workflow_run` half of
the fork pattern; its token comes from the environment, never from the command line.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from actions_toolkit import core  # type: ignore[import-untyped]

from lambda_zip_action.config import make_config
from lambda_zip_action.errors import ConfigError, LambdaZipError
from lambda_zip_action.functions import Selection, plan
from lambda_zip_action.github.baseline import baseline_sha256, compare_packages
from lambda_zip_action.github.comments import (
    CommentResult,
    find_pull_request,
    marker_for,
    upsert_sticky_comment,
)
from lambda_zip_action.github.errors import GitHubError, ReadOnlyTokenError
from lambda_zip_action.github.functions import run_functions
from lambda_zip_action.github.inputs import (
    ActionInputs,
    build_options,
    read_inputs,
    within_workspace,
)
from lambda_zip_action.github.pipeline import Built, ensure_interpreter, run_pipeline
from lambda_zip_action.github.rest import GitHubClient, validate_token
from lambda_zip_action.github.runner import (
    PULL_REQUEST_EVENTS,
    group,
    log,
    mask,
    pull_request_number,
    safe,
    set_output,
    write_summary,
)
from lambda_zip_action.github.subjects import SUFFIX as SUBJECTS
from lambda_zip_action.github.subjects import write_subjects
from lambda_zip_action.outputs import Artifact, atomic_output
from lambda_zip_action.proof.drift_data import document, render_document
from lambda_zip_action.proof.drift_report import DriftReport, render
from lambda_zip_action.sbom import sbom_path

DEFAULT_API_URL = "https://api.github.com"


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Run `action` or `comment`; errors become annotations and exit codes here."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    try:
        if args.command == "comment":
            return run_comment(args, env)
        outcome = run_action(env)
    except LambdaZipError as exc:
        core.error(safe(f"lambda-zip {exc.kind} error: {exc.message}"))
        return exc.exit_code
    if outcome.reproducible is False:
        core.error(
            "The package is NOT reproducible: a rebuild from scratch gave other bytes. The "
            "job log's Build group explains each difference."
        )
        return 1
    return 0


def run_action(env: Mapping[str, str]) -> Outcome:
    """The whole action. Raises LambdaZipError; `run` turns it into an annotation."""
    inputs = read_inputs(env)
    mask(env, inputs.token)
    # Installers, git and the verifying rebuild have no use for the token.
    env = {name: value for name, value in env.items() if name != "INPUT_GITHUB_TOKEN"}
    workspace = Path(env.get("GITHUB_WORKSPACE") or Path.cwd())
    project = (workspace / inputs.working_directory).resolve()
    the_plan = plan(project, build_options(inputs, project), env.get("SOURCE_DATE_EPOCH"),
                    Selection(inputs.functions, inputs.deploy_config))  # fmt: skip
    if the_plan is not None:
        outputs, text, reproducible = run_functions(inputs, env, workspace, the_plan)
        write_summary(env, text)
        for name, value in outputs.items():
            set_output(env, name, value)
        return Outcome(outputs, text, reproducible, maybe_comment(inputs, env, text))
    config = make_config(project, build_options(inputs, project), env.get("SOURCE_DATE_EPOCH"))
    within_workspace(config, workspace)
    config = ensure_interpreter(config, env)
    scratch = Path(tempfile.mkdtemp(prefix="lambda-zip-action-", dir=env.get("RUNNER_TEMP")))
    try:
        built = run_pipeline(config, env, verify_build=inputs.verify, title="Build")
        report, layer_report = compare_packages(inputs, project, built, env, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    text = render(report)
    report_path = built.result.output.with_name(built.result.output.name + ".report.md")
    write_report(report_path, text)
    data = [(report, built.result.manifest)]
    layer_report_path = None
    if layer_report is not None and built.result.layer is not None:
        layer_text = render(layer_report)
        layer_output = built.result.layer.output
        layer_report_path = layer_output.with_name(layer_output.name + ".report.md")
        write_report(layer_report_path, layer_text)
        data.append((layer_report, built.result.layer.manifest))
        text += "\n" + layer_text
    write_data(report_path, data)
    write_summary(env, text)
    outputs = outputs_for(built, report, report_path, layer_report, layer_report_path)
    output = built.result.output
    outputs["subjects"] = str(write_subjects(output.with_name(output.name + SUBJECTS),
                                             [built.result], workspace))  # fmt: skip
    for name, value in outputs.items():
        set_output(env, name, value)
    comment = maybe_comment(inputs, env, text)
    return Outcome(outputs, text, built.reproducible, comment)


def write_report(path: Path, text: str) -> None:
    """The report beside the zip, written as the zip is: to a temporary file in the same
    directory, then renamed over `path`; a symlink committed at `path` is replaced, never
    written through (it pointed outside the workspace)."""
    with atomic_output(path) as stream:
        stream.write(text.encode("utf-8"))


def data_path(report_path: Path) -> Path:
    """Where the report's data goes: `<output>.report.json` beside `<output>.report.md`."""
    return report_path.with_suffix(".json")


def write_data(report_path: Path, reports: list[tuple[DriftReport, Path]]) -> None:
    """The reports as data (proof.drift_data), for a trusted job to render: the fork pattern."""
    with atomic_output(data_path(report_path)) as stream:
        stream.write(document(reports))


def run_comment(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """`lambda-zip comment`: post the report of an earlier run on its pull request, rendered
    here from that run's data (proof.drift_data), never taken as markdown."""
    token = validate_token(env.get("GITHUB_TOKEN", ""), "GITHUB_TOKEN")
    mask(env, token)
    body = render_document(Path(args.report))
    api_url = args.api_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL
    number = args.pr
    if (number is None) == (args.head_sha is None) or (args.head_sha is None) != (
        args.head_repo is None
    ):
        raise ConfigError(
            "Give either --pr N, or --head-sha and --head-repo (from the workflow_run event) "
            "to find the pull request from GitHub's own record of the run."
        )
    if number is None:
        with GitHubClient(api_url, token) as client:
            number = find_pull_request(client, args.repo, args.head_sha, args.head_repo)
    result = post_comment(
        api_url,
        token,
        repo=args.repo,
        number=number,
        name=args.name,
        body=body,
        author=args.author,
    )
    sys.stdout.write(f"{result.action} comment {result.comment_id} {result.html_url}\n")
    return 0


@dataclass(frozen=True)
class Outcome:
    """What one run of the action produced; `outputs` are the action's outputs by name."""

    outputs: dict[str, str]
    report: str
    reproducible: bool | None
    comment: CommentResult | None


def outputs_for(
    built: Built,
    report: DriftReport,
    report_path: Path,
    layer_report: DriftReport | None = None,
    layer_report_path: Path | None = None,
) -> dict[str, str]:
    archive = built.result.archive
    changed = report.changed
    outputs = {
        "path": str(built.result.output),
        "sha256": archive.sha256,
        "base64-sha256": archive.base64_sha256,
        "md5": archive.md5,
        "s3-etag-5mib": built.result.etags.s3_etag_5mib,
        "s3-etag-8mib": built.result.etags.s3_etag_8mib,
        "size": str(archive.size),
        "content-digest": archive.content_digest,
        "manifest": str(built.result.manifest),
        "sbom": str(sbom_path(built.result.output)) if archive.sbom_sha256 else "",
        "changed": "" if changed is None else str(changed).lower(),
        "reproducible": "" if built.reproducible is None else str(built.reproducible).lower(),
        "report": str(report_path),
        "report-data": str(data_path(report_path)),
        "baseline-sha256": baseline_sha256(report),
    }
    return outputs | layer_outputs(built.result.layer, layer_report, layer_report_path)


def layer_outputs(
    layer: Artifact | None, report: DriftReport | None, report_path: Path | None
) -> dict[str, str]:
    """The layer-* outputs; all empty without split."""
    names = ("path", "sha256", "base64-sha256", "md5", "s3-etag-5mib", "s3-etag-8mib", "size",
             "content-digest", "manifest", "sbom", "changed", "report",
             "baseline-sha256")  # fmt: skip
    if layer is None:
        return {f"layer-{name}": "" for name in names}
    changed = report.changed if report is not None else None
    values = {
        "path": str(layer.output),
        "sha256": layer.archive.sha256,
        "base64-sha256": layer.archive.base64_sha256,
        "md5": layer.etags.md5,
        "s3-etag-5mib": layer.etags.s3_etag_5mib,
        "s3-etag-8mib": layer.etags.s3_etag_8mib,
        "size": str(layer.archive.size),
        "content-digest": layer.archive.content_digest,
        "manifest": str(layer.manifest),
        "sbom": str(sbom_path(layer.output)) if layer.archive.sbom_sha256 else "",
        "changed": "" if changed is None else str(changed).lower(),
        "report": str(report_path or ""),
        "baseline-sha256": baseline_sha256(report),
    }
    return {f"layer-{name}": values[name] for name in names}


def post_comment(
    api_url: str,
    token: str,
    *,
    repo: str,
    number: int,
    name: str,
    body: str,
    author: str | None = None,
) -> CommentResult:
    with GitHubClient(api_url, token, author_login=author) as client:
        expected = client.viewer_login()
        result = upsert_sticky_comment(client, repo, number, marker_for(name), body)
    if result.action == "created" and result.author_login.casefold() != expected.casefold():
        # Found only now: the next run would not recognise this comment as its own.
        core.warning(
            f"This token writes comments as {result.author_login}, not {expected}: set "
            f"comment-author (lambda-zip comment --author) to {result.author_login}, or every "
            "run adds another comment."
        )
    return result


def maybe_comment(inputs: ActionInputs, env: Mapping[str, str], body: str) -> CommentResult | None:
    if inputs.comment == "false":
        return None
    number = pull_request_number(env)
    on_pull_request = env.get("GITHUB_EVENT_NAME") in PULL_REQUEST_EVENTS
    if number is None or (inputs.comment == "auto" and not on_pull_request):
        if inputs.comment == "true":
            core.warning("comment is true, but this run has no pull request to comment on.")
        return None
    if not inputs.token:
        core.warning("No github-token: the report is in the job summary only.")
        return None
    try:
        with group("Pull-request comment"):
            result = post_comment(
                env.get("GITHUB_API_URL") or DEFAULT_API_URL,
                inputs.token,
                repo=env.get("GITHUB_REPOSITORY", ""),
                number=number,
                name=inputs.name,
                body=body,
                author=inputs.comment_author,
            )
            log(f"{result.action} comment {result.comment_id} {result.html_url}")
            return result
    except ReadOnlyTokenError as exc:
        core.warning(f"{exc.message} Forks: see the two-workflow pattern in docs/action.md.")
    except GitHubError as exc:
        if inputs.comment == "true":
            raise
        core.warning(f"The pull-request comment was not posted: {exc.message}")
    return None

"""The GitHub layer: action inputs in; the CLI's pipeline; outputs, summary and comment out.

This is the one module that knows about GitHub Actions: `INPUT_*` variables, workflow commands
(groups, annotations, masks, outputs through actions-toolkit), the step summary, the event
payload and the REST API. Everything else is the same pipeline `lambda-zip build|verify|diff`
runs, so whatever the action does can be reproduced on a laptop:

    lambda-zip verify --project fn --python-version 3.12        # the build and its proof
    git worktree add --detach /tmp/base origin/main              # the baseline ...
    lambda-zip build --project /tmp/base/fn --output /tmp/base.zip
    lambda-zip diff /tmp/base.zip fn/dist/lambda.zip --format markdown
    lambda-zip comment --report fn/dist/lambda.zip.report.md --pr 7 --repo o/r --name fn

Two subcommands are added to the CLI: `action` (run as the GitHub Action, from `INPUT_*`) and
`comment` (post a report written by an earlier run, for the `workflow_run` half of the fork
pattern; the token comes from the environment, never from the command line).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast

from actions_toolkit import core, file_command  # type: ignore[import-untyped]

from lambda_zip_action.build import Artifact, BuildResult, build
from lambda_zip_action.config import BuildConfig, make_config
from lambda_zip_action.deploy_output import etag_comparison
from lambda_zip_action.errors import ConfigError, InterpreterError, LambdaZipError
from lambda_zip_action.etags import S3ETags
from lambda_zip_action.events import Event
from lambda_zip_action.github_api import (
    CommentResult,
    GitHubClient,
    GitHubError,
    ReadOnlyTokenError,
    marker_for,
    validate_token,
)
from lambda_zip_action.install import uv_binary
from lambda_zip_action.interpreter import find_interpreter
from lambda_zip_action.markdown import visible
from lambda_zip_action.proof.diff import diff
from lambda_zip_action.proof.drift_report import DriftReport, Package, render
from lambda_zip_action.proof.model import DiffResult
from lambda_zip_action.verify import render_verify, verify

DEFAULT_API_URL = "https://api.github.com"
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
CommentMode = Literal["auto", "true", "false"]
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


@dataclass(frozen=True)
class ActionInputs:
    """The action's inputs, validated once. Empty optional inputs are None (use the default)."""

    working_directory: str
    sources: tuple[str, ...]
    requirements: str | None
    python_version: str | None
    architecture: str | None
    installer: str | None
    layout: str | None
    output: str | None
    verify: bool
    compare_to: str | None
    baseline_ref: str | None
    comment: CommentMode
    token: str
    name: str
    comment_author: str | None = None
    no_build: bool = True
    split: bool = False
    layer_compare_to: str | None = None

    def __repr__(self) -> str:
        return f"ActionInputs(name={self.name!r}, token=<redacted>)"


@dataclass(frozen=True)
class Outcome:
    """What one run of the action produced; `outputs` are the action's outputs by name."""

    outputs: dict[str, str]
    report: str
    reproducible: bool | None
    comment: CommentResult | None


def _input(env: Mapping[str, str], name: str) -> str:
    # Composite actions get no INPUT_* of their own: action.yml maps each input with underscores.
    return env.get("INPUT_" + name.replace("-", "_").replace(" ", "_").upper(), "").strip()


def read_inputs(env: Mapping[str, str]) -> ActionInputs:
    """The inputs from `INPUT_*`; every problem is reported at once."""
    problems: list[str] = []

    def boolean(name: str, default: bool) -> bool:
        value = _input(env, name)
        if not value:
            return default
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        problems.append(f"input {name} is {value!r}; use true or false")
        return default

    comment = _input(env, "comment") or "auto"
    if comment not in ("auto", "true", "false"):
        problems.append(f"input comment is {comment!r}; use auto, true or false")
        comment = "auto"
    working_directory = _input(env, "working-directory") or "."
    name = _input(env, "name") or _default_name(working_directory)
    inputs = ActionInputs(
        working_directory=working_directory,
        sources=tuple(_input(env, "source").split()),
        requirements=_input(env, "requirements") or None,
        python_version=_input(env, "python-version") or None,
        architecture=_input(env, "architecture") or None,
        installer=_input(env, "installer") or None,
        layout=_input(env, "layout") or None,
        output=_input(env, "output") or None,
        verify=boolean("verify", True),
        compare_to=_input(env, "compare-to") or None,
        baseline_ref=_input(env, "baseline-ref") or None,
        comment=cast("CommentMode", comment),
        token=_token(_input(env, "github-token"), "input github-token", problems),
        name=name,
        comment_author=_input(env, "comment-author") or None,
        no_build=boolean("no-build", True),
        split=boolean("split", False),
        layer_compare_to=_input(env, "layer-compare-to") or None,
    )
    if inputs.compare_to and inputs.baseline_ref:
        problems.append("give compare-to or baseline-ref, not both")
    if inputs.layer_compare_to and not inputs.split:
        problems.append("layer-compare-to needs split: true")
    if inputs.layer_compare_to and inputs.baseline_ref:
        problems.append("give layer-compare-to or baseline-ref, not both")
    if problems:
        raise ConfigError("Invalid action inputs: " + "; ".join(problems) + ".")
    return inputs


def _token(value: str, where: str, problems: list[str]) -> str:
    if not value:
        return ""
    try:
        return validate_token(value, where)
    except ConfigError as exc:
        problems.append(exc.message.rstrip("."))
        return ""


def mask(env: Mapping[str, str], secret: str) -> None:
    """`::add-mask::` the secret, only where a runner reads workflow commands."""
    if secret and env.get("GITHUB_ACTIONS") == "true":
        core.set_secret(secret)


def within_workspace(config: BuildConfig, workspace: Path) -> None:
    """Every path the build reads or writes must lie inside the workspace (symlinks resolved)."""
    root = workspace.resolve()
    paths = [
        ("working-directory", config.project_dir),
        *(("source", source) for source in config.sources),
        ("requirements", config.requirements),
        ("output", config.output),
        ("manifest", config.manifest),
    ]
    outside = []
    for what, path in paths:
        if path is None:
            continue
        try:
            path.resolve().relative_to(root)
        except ValueError:
            outside.append(f"{what} {visible(str(path))}")
    if outside:
        raise ConfigError(
            f"In the action every path must stay inside the workspace {root}; these do not: "
            + "; ".join(outside)
            + ". Give paths relative to working-directory that stay inside the repository."
        )


def _default_name(working_directory: str) -> str:
    name = Path(working_directory).name
    return name if name not in ("", ".", "..") else "lambda"


# --- building -----------------------------------------------------------------------------


def build_options(inputs: ActionInputs, project: Path) -> dict[str, Any]:
    """CLI options for `make_config`; paths in inputs are relative to the working directory."""
    return {
        "sources": [project / s for s in inputs.sources] or None,
        "requirements": project / inputs.requirements if inputs.requirements else None,
        "python_version": inputs.python_version,
        "architecture": inputs.architecture,
        "installer": inputs.installer,
        "layout": inputs.layout,
        "output": project / inputs.output if inputs.output else None,
        "no_build": inputs.no_build,
        "split": True if inputs.split else None,
    }


def ensure_interpreter(config: BuildConfig, env: Mapping[str, str]) -> BuildConfig:
    """Find CPython X.Y for bytecode (uv, PATH, pyenv), else ask uv to install it.

    `uv python install` needs the network; when it fails too the error says what to do.
    """
    if not config.compile or config.python is not None:
        return config
    try:
        found = find_interpreter(config.python_version, None, env)
    except InterpreterError as missing:
        core.info(f"No CPython {config.python_version} here; trying uv python install")
        why = _uv_python_install(config.python_version, env)
        try:
            found = find_interpreter(config.python_version, None, env)
        except InterpreterError:
            raise InterpreterError(
                f"{missing.message} `uv python install {config.python_version}` failed as well "
                f"({why}). Add actions/setup-python with python-version {config.python_version} "
                "before this action, or allow the runner to download Python."
            ) from None
    return replace(config, python=found.path)


def _uv_python_install(version: str, env: Mapping[str, str]) -> str:
    """Run `uv python install`; the last line it printed, to explain a failure."""
    try:
        installed = subprocess.run(
            [uv_binary(), "python", "install", version],
            env={**env, "UV_PYTHON_DOWNLOADS": "automatic"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return (installed.stderr.strip().splitlines() or [f"exit {installed.returncode}"])[-1]


@dataclass(frozen=True)
class Built:
    result: BuildResult
    reproducible: bool | None  # None: not verified


def run_pipeline(
    config: BuildConfig, env: Mapping[str, str], *, verify_build: bool, title: str
) -> Built:
    with _group(title):
        if verify_build:
            verified = verify(config, env, _show_event)
            _log(render_verify(verified).rstrip("\n"))
            return Built(verified.first, verified.reproducible)
        return Built(build(config, env, _show_event), None)


def build_baseline(
    inputs: ActionInputs,
    project: Path,
    ref: str,
    env: Mapping[str, str],
    *,
    scratch: Path,
    config: BuildConfig,
) -> Built:
    """Build `ref` from a detached worktree with the same project-relative settings."""
    top = Path(_git(["rev-parse", "--show-toplevel"], project, env)).resolve()
    relative = project.resolve().relative_to(top)
    commit = _resolve_commit(ref, top, env)
    tree = scratch / f"baseline-{commit[:12]}"
    _git(["worktree", "add", "--detach", str(tree), commit], top, env)
    try:
        base_project = tree / relative
        options = build_options(inputs, base_project)
        options["output"] = scratch / "baseline" / config.output.name
        if config.layer_output is not None:
            options["layer_output"] = scratch / "baseline" / config.layer_output.name
        options["python"] = config.python
        base_config = make_config(base_project, options, env.get("SOURCE_DATE_EPOCH"))
        return run_pipeline(
            base_config, env, verify_build=inputs.verify, title=f"Baseline: {commit[:12]}"
        )
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(tree)],
            cwd=top,
            env=dict(env),
            capture_output=True,
            check=False,
        )


def _resolve_commit(ref: str, top: Path, env: Mapping[str, str]) -> str:
    try:
        return _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top, env)
    except ConfigError:
        pass
    # A shallow checkout (actions/checkout's default) lacks the base commit: fetch just it.
    try:
        _git(["fetch", "--no-tags", "--depth=1", "origin", ref], top, env)
        return _git(["rev-parse", "--verify", "FETCH_HEAD^{commit}"], top, env)
    except ConfigError as exc:
        raise ConfigError(
            f"The baseline ref {ref!r} is not in this checkout and could not be fetched from "
            f"origin ({exc.message}). Check it out with `fetch-depth: 0`, or give another "
            "baseline-ref."
        ) from None


def _git(arguments: list[str], cwd: Path, env: Mapping[str, str]) -> str:
    completed = subprocess.run(
        ["git", *arguments], cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or [f"exit {completed.returncode}"])[-1]
        raise ConfigError(f"git {arguments[0]} failed in {cwd}: {last}")
    return completed.stdout.strip()


# --- comparing ----------------------------------------------------------------------------


def parse_sha256(value: str) -> str | None:
    """A sha256 given as 64 hex digits or as base64 (Lambda's CodeSha256), as hex; else None."""
    if _HEX_SHA256.fullmatch(value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def _package(result: BuildResult, reproducible: bool | None) -> Package:
    archive = result.archive
    return Package(
        archive.sha256, archive.base64_sha256, archive.size, result.sizes.unzipped, reproducible
    )


def compare(
    inputs: ActionInputs,
    project: Path,
    new: Built,
    env: Mapping[str, str],
    scratch: Path,
) -> DriftReport:
    """The drift report against compare-to, baseline-ref (or the PR's base), or nothing."""
    return compare_packages(inputs, project, new, env, scratch)[0]


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
    layer_new = Package(layer.archive.sha256, layer.archive.base64_sha256, layer.archive.size,
                        layer.sizes.unzipped, new.reproducible)  # fmt: skip
    if inputs.compare_to or inputs.layer_compare_to:
        function = (
            _compare(inputs, project, new, env, scratch)
            if inputs.compare_to
            else DriftReport(inputs.name, _package(new.result, new.reproducible), None)
        )
        if not inputs.layer_compare_to:
            return function, DriftReport(layer_name, layer_new, None)
        return function, _against(
            inputs.layer_compare_to, layer_name, layer_new, layer.output, layer.etags, project
        )
    baseline: list[Built] = []
    function = _compare(inputs, project, new, env, scratch, keep=baseline)
    if not baseline or baseline[0].result.layer is None:
        return function, DriftReport(layer_name, layer_new, None)
    base_layer = baseline[0].result.layer
    result = diff(base_layer.output, layer.output)
    old = _old_side(result, layer_new, baseline[0].reproducible)
    return function, DriftReport(layer_name, layer_new, old, function.old_label, result)


def _against(
    value: str, name: str, new: Package, output: Path, etags: S3ETags, project: Path
) -> DriftReport:
    """A report against a hash, an S3 ETag, or a zip or manifest file given as compare-to."""
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
    return DriftReport(name, new, _old_side(result, new, None), "compare-to", result)


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
        return _against(
            inputs.compare_to, inputs.name, new_package, output, new.result.etags, project
        )
    ref = inputs.baseline_ref or _pull_request_base(env)
    if ref is None:
        return DriftReport(inputs.name, new_package, None)
    try:
        base = build_baseline(inputs, project, ref, env, scratch=scratch, config=new.result.config)
    except ConfigError as exc:
        if inputs.baseline_ref:
            raise
        # The PR's base may predate this package: there is then nothing to compare with.
        core.warning(f"No baseline from the pull request's base {ref[:12]}: {exc.message}")
        return DriftReport(inputs.name, new_package, None)
    if keep is not None:
        keep.append(base)
    result = diff(base.result.output, output)
    old = _old_side(result, new_package, base.reproducible)
    label = ref[:12] if _COMMIT.fullmatch(ref) else ref
    return DriftReport(inputs.name, new_package, old, label, result)


def _old_side(result: DiffResult, new: Package, verified: bool | None) -> Package:
    sha = result.old.sha256 or ""
    unzipped = None if new.unzipped is None else new.unzipped - result.files.total_size_change
    return Package(sha, b64(sha) if sha else None, result.old.size, unzipped, verified)


def _existing(value: str, project: Path) -> Path:
    for candidate in (project / value, Path(value)):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"compare-to {value!r} is neither a sha256 (64 hex digits, or the 44-character base64 "
        "that Lambda reports as CodeSha256), nor an S3 ETag (32 hex digits, or `<32 hex>-N` "
        "for a multipart upload, quoted or not), nor an existing zip or manifest file."
    )


def load_event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _pull_request_base(env: Mapping[str, str]) -> str | None:
    if env.get("GITHUB_EVENT_NAME") not in PULL_REQUEST_EVENTS:
        return None
    base = (load_event(env).get("pull_request") or {}).get("base") or {}
    sha = base.get("sha")
    return str(sha) if isinstance(sha, str) and sha else None


def pull_request_number(env: Mapping[str, str]) -> int | None:
    event = load_event(env)
    number = (event.get("pull_request") or {}).get("number", event.get("number"))
    return number if isinstance(number, int) and not isinstance(number, bool) else None


# --- publishing ---------------------------------------------------------------------------


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
        "changed": "" if changed is None else str(changed).lower(),
        "reproducible": "" if built.reproducible is None else str(built.reproducible).lower(),
        "report": str(report_path),
        "baseline-sha256": _baseline_sha256(report),
    }
    return outputs | layer_outputs(built.result.layer, layer_report, layer_report_path)


def _baseline_sha256(report: DriftReport | None) -> str:
    old = report.old if report is not None else None
    return old.sha256 if old is not None and _HEX_SHA256.fullmatch(old.sha256) else ""


def layer_outputs(
    layer: Artifact | None, report: DriftReport | None, report_path: Path | None
) -> dict[str, str]:
    """The layer-* outputs; all empty without split."""
    names = ("path", "sha256", "base64-sha256", "md5", "s3-etag-5mib", "s3-etag-8mib", "size",
             "content-digest", "manifest", "changed", "report", "baseline-sha256")  # fmt: skip
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
        "changed": "" if changed is None else str(changed).lower(),
        "report": str(report_path or ""),
        "baseline-sha256": _baseline_sha256(report),
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
        result = client.upsert_sticky_comment(repo, number, marker_for(name), body)
    if result.action == "created" and result.author_login.casefold() != expected.casefold():
        # Found only now: the next run would not recognise this comment as its own.
        core.warning(
            f"This token writes comments as {result.author_login}, not {expected}: set "
            f"comment-author (lambda-zip comment --author) to {result.author_login}, or every "
            "run adds another comment."
        )
    return result


def _maybe_comment(inputs: ActionInputs, env: Mapping[str, str], body: str) -> CommentResult | None:
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
        with _group("Pull-request comment"):
            result = post_comment(
                env.get("GITHUB_API_URL") or DEFAULT_API_URL,
                inputs.token,
                repo=env.get("GITHUB_REPOSITORY", ""),
                number=number,
                name=inputs.name,
                body=body,
                author=inputs.comment_author,
            )
            _log(f"{result.action} comment {result.comment_id} {result.html_url}")
            return result
    except ReadOnlyTokenError as exc:
        core.warning(f"{exc.message} Forks: see the two-workflow pattern in docs/action.md.")
    except GitHubError as exc:
        if inputs.comment == "true":
            raise
        core.warning(f"The pull-request comment was not posted: {exc.message}")
    return None


def set_output(env: Mapping[str, str], name: str, value: str) -> None:
    """Append one output to $GITHUB_OUTPUT, in the multi-line form actions-toolkit writes."""
    path = env.get("GITHUB_OUTPUT")
    if not path:
        core.set_output(name, value)
        return
    with Path(path).open("a", encoding="utf-8") as stream:
        stream.write(file_command.prepare_key_value_message(name, value) + "\n")


def write_summary(env: Mapping[str, str], text: str) -> None:
    path = env.get("GITHUB_STEP_SUMMARY")
    if path:
        with Path(path).open("a", encoding="utf-8") as stream:
            stream.write(text if text.endswith("\n") else text + "\n")


def run_action(env: Mapping[str, str]) -> Outcome:
    """The whole action. Raises LambdaZipError; `main` turns it into an annotation."""
    inputs = read_inputs(env)
    mask(env, inputs.token)
    # Installers, git and the verifying rebuild have no use for the token.
    env = {name: value for name, value in env.items() if name != "INPUT_GITHUB_TOKEN"}
    workspace = Path(env.get("GITHUB_WORKSPACE") or Path.cwd())
    project = (workspace / inputs.working_directory).resolve()
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
    report_path.write_text(text, encoding="utf-8")
    layer_report_path = None
    if layer_report is not None and built.result.layer is not None:
        layer_text = render(layer_report)
        layer_output = built.result.layer.output
        layer_report_path = layer_output.with_name(layer_output.name + ".report.md")
        layer_report_path.write_text(layer_text, encoding="utf-8")
        text += "\n" + layer_text
    write_summary(env, text)
    outputs = outputs_for(built, report, report_path, layer_report, layer_report_path)
    for name, value in outputs.items():
        set_output(env, name, value)
    comment = _maybe_comment(inputs, env, text)
    return Outcome(outputs, text, built.reproducible, comment)


def run_comment(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    token = validate_token(env.get("GITHUB_TOKEN", ""), "GITHUB_TOKEN")
    mask(env, token)
    try:
        body = Path(args.report).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the report {args.report}: {exc}.") from exc
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
            number = client.find_pull_request(args.repo, args.head_sha, args.head_repo)
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


# --- the CLI's side -----------------------------------------------------------------------


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Run `action` or `comment`; errors become annotations and exit codes here."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    try:
        if args.command == "comment":
            return run_comment(args, env)
        outcome = run_action(env)
    except LambdaZipError as exc:
        core.error(_safe(f"lambda-zip {exc.kind} error: {exc.message}"))
        return exc.exit_code
    if outcome.reproducible is False:
        core.error(
            "The package is NOT reproducible: a rebuild from scratch gave other bytes. The "
            "job log's Build group explains each difference."
        )
        return 1
    return 0


def _show_event(event: Event) -> None:
    if event.level == "warning":
        core.warning(_safe(event.message))
    elif event.level == "stage":
        _log("==> " + event.message)
    elif event.level == "info":
        _log("    " + event.message)


def _safe(text: str) -> str:
    # Names from the pull request must not start a workflow command (`::...`) on a line.
    return visible(text).replace("::", ":\u2060:")


def _log(text: str) -> None:
    for line in text.splitlines() or [""]:
        core.info(_safe(line))


@contextmanager
def _group(title: str) -> Iterator[None]:
    core.start_group(title)
    try:
        yield
    finally:
        core.end_group()

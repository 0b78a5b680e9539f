"""The command line: parse, run the pipeline, render. The only place that prints for the CLI."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from lambda_zip_action import __version__
from lambda_zip_action.build import BuildResult, SharedWork, build
from lambda_zip_action.config import BuildConfig, make_config
from lambda_zip_action.errors import ConfigError, LambdaZipError
from lambda_zip_action.escape import no_commands, plain
from lambda_zip_action.events import Event
from lambda_zip_action.options import add_build_options, given
from lambda_zip_action.proof.explain import render_verify
from lambda_zip_action.proof.verify import verify
from lambda_zip_action.runtimes import ARCHITECTURES, RUNTIMES


def _build_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--project",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="project directory: holds pyproject.toml and the lock (default: .)",
    )
    add_build_options(parser)
    add("--jobs", type=int, metavar="N", help="parallel workers (never changes the bytes)")
    add(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="keep compiled bytecode and deflated large files here between builds (default: "
        "$LAMBDA_ZIP_CACHE_DIR, else ~/.cache/lambda-zip); never changes the bytes",
    )
    add(
        "--no-cache",
        action="store_true",
        help="compile and compress everything afresh (also: LAMBDA_ZIP_NO_CACHE=1)",
    )
    add(
        "--function",
        action="append",
        metavar="NAME",
        help="build only this function of the deploy configuration (template.yaml, "
        "serverless.yml, cdk.out, *.tf, Chalice, Zappa, [tool.lambda-zip.functions]); "
        "repeatable (default: every declared function)",
    )
    add(
        "--deploy-config",
        metavar="FILE",
        help="the deploy configuration to read when the project holds several",
    )
    add("--json", action="store_true", help="print the result as one JSON object on stdout")
    # Used by verify's second build; not for users.
    add("--reverse-traversal", action="store_true", help=argparse.SUPPRESS)
    add("--rebuild-sdists", action="store_true", help=argparse.SUPPRESS)
    add("--rebuild-from-source", action="append", default=[], help=argparse.SUPPRESS)
    add("--proving-cache", action="store_true", help=argparse.SUPPRESS)
    add("--rebuild-into", type=Path, help=argparse.SUPPRESS)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambda-zip",
        description="Build byte-for-byte reproducible AWS Lambda zips for Python projects.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build_parser = commands.add_parser("build", help="build the zip and its manifest")
    _build_options(build_parser)
    build_parser.add_argument(
        "--verify", action="store_true", help="then rebuild from scratch and compare (as verify)"
    )
    verify_parser = commands.add_parser(
        "verify",
        help="build, rebuild in a different environment, compare; exit 0 reproducible, "
        "1 not reproducible, 2 build failed",
    )
    _build_options(verify_parser)

    functions_parser = commands.add_parser(
        "functions",
        help="list the functions the project's deploy configuration declares, as build would "
        "build them (nothing is built); --json for a workflow's matrix",
    )
    functions_parser.add_argument(
        "--project", type=Path, default=Path(), metavar="DIR", help="project directory"
    )
    functions_parser.add_argument(
        "--deploy-config", metavar="FILE", help="the deploy configuration, when there are several"
    )
    functions_parser.add_argument("--json", action="store_true", help="one JSON object")

    diff_parser = commands.add_parser(
        "diff", help="explain how two zips (or manifests) differ; exit 1 when the bytes differ"
    )
    diff_parser.add_argument(
        "old",
        help="the package before: a zip (any tool's), a lambda-zip manifest, or what is deployed "
        "on AWS: s3://BUCKET/KEY[?versionId=ID], lambda:FUNCTION[:QUALIFIER], a layer version's "
        "ARN (needs boto3: lambda-zip-action[aws])",
    )
    diff_parser.add_argument("new", type=Path, help="the package after: a zip or a manifest")
    diff_parser.add_argument(
        "--format",
        choices=["text", "markdown", "json"],
        default="text",
        help="text for a terminal; markdown is the Action's report (summary line, your files, "
        "dependencies, size, hashes); json for tools (default: text)",
    )
    diff_parser.add_argument(
        "--full",
        action="store_true",
        help="markdown: list every changed file unfolded, a distribution's files one by one",
    )

    audit_parser = commands.add_parser(
        "audit",
        help="rebuild the project (or a commit of it, --ref) and compare it with what is deployed "
        "on AWS: exit 0 byte for byte the same, 1 it differs (the drift report says how), 2 error",
    )
    audit_parser.add_argument(
        "deployed",
        metavar="DEPLOYED",
        help="lambda:FUNCTION[:QUALIFIER] (or its ARN), a layer version's ARN, or "
        "s3://BUCKET/KEY[?versionId=ID]; credentials from the usual AWS chain",
    )
    audit_parser.add_argument(
        "--ref", metavar="REF", help="build this git commit (from a detached worktree)"
    )
    _build_options(audit_parser)

    inspect_parser = commands.add_parser(
        "inspect", help="lint any Lambda zip for reproducibility and runtime hazards"
    )
    inspect_parser.add_argument("zip", type=Path, help="the zip to lint, built by any tool")
    inspect_parser.add_argument(
        "--python-version",
        choices=list(RUNTIMES),
        metavar="X.Y",
        help="the Lambda runtime it is for (default: inferred from its .pyc files)",
    )
    inspect_parser.add_argument(
        "--architecture",
        choices=[*ARCHITECTURES, "aarch64"],
        help="the Lambda architecture it is for (default: inferred from its ELF files)",
    )
    inspect_parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output (default: text)"
    )
    inspect_parser.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    _github_commands(commands)
    return parser


def _github_commands(commands: Any) -> None:
    """Add `action` and `comment` to the CLI's subcommands (an argparse subparsers object)."""
    commands.add_parser(
        "action",
        help="run as the GitHub Action: inputs from INPUT_* variables (see docs/action.md)",
    )
    comment = commands.add_parser(
        "comment",
        help="post a drift report, rendered from another run's data, as the sticky pull-request "
        "comment (token from GITHUB_TOKEN)",
    )
    comment.add_argument(
        "--report",
        type=Path,
        required=True,
        metavar="FILE",
        help="the report's data that run wrote (the action's report-data output, "
        "<output>.report.json); every field is checked and the comment is rendered here",
    )
    comment.add_argument("--pr", type=int, metavar="N", help="the pull request's number")
    comment.add_argument(
        "--head-sha",
        metavar="SHA",
        help="instead of --pr: the pull request whose head is this commit (workflow_run.head_sha)",
    )
    comment.add_argument(
        "--head-repo",
        metavar="OWNER/NAME",
        help="with --head-sha: the repository it comes from (workflow_run.head_repository)",
    )
    comment.add_argument(
        "--author",
        metavar="LOGIN",
        help="the login the token comments as, e.g. my-app[bot] (default: asked from GitHub)",
    )
    comment.add_argument(
        "--repo", required=True, metavar="OWNER/NAME", help="the repository of the pull request"
    )
    comment.add_argument("--name", default="lambda", help="the package's name in the marker")
    comment.add_argument(
        "--api-url", metavar="URL", help="REST root (default: $GITHUB_API_URL or api.github.com)"
    )


def config_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> BuildConfig:
    return make_config(args.project, given(args), env.get("SOURCE_DATE_EPOCH"))


class _Progress:
    """Human progress on stderr: a line per stage, warnings, and how far a long stage is.

    On a terminal a counter is rewritten in place. Elsewhere (a CI log) each stage that took a
    while ends with a line of its count and time, and a stage still running after
    HEARTBEAT seconds says how far it is every HEARTBEAT seconds, so a log never goes quiet.
    """

    HEARTBEAT = 5.0

    def __init__(
        self, stream: TextIO, clock: Callable[[], float] = time.monotonic, beat: bool = True
    ) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.clock = clock
        self.stage_started = clock()
        self.last_beat = self.stage_started
        self.counted: tuple[str, int, int] | None = None
        self.stage = ""
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        if beat and not self.live:
            # Stages without counts (an install) still say they are alive.
            threading.Thread(target=self._beat, daemon=True).start()

    def _beat(self) -> None:
        while not self.stopped.wait(self.HEARTBEAT):
            now = self.clock()
            with self.lock:
                if self.stage and now - self.last_beat >= self.HEARTBEAT and self.counted is None:
                    self.last_beat = now
                    self._write(f"    still {self.stage} ({now - self.stage_started:.0f} s)")

    def __call__(self, event: Event) -> None:
        with self.lock:
            self._event(event)

    def _event(self, event: Event) -> None:
        now = self.clock()
        if event.level == "progress":
            self.counted = (event.message, event.done, event.total)
            if self.live:
                end = "\n" if event.done == event.total else ""
                self.stream.write(f"\r    {event.message}: {event.done}/{event.total}{end}")
                self.stream.flush()
            elif now - self.last_beat >= self.HEARTBEAT and event.done < event.total:
                self.last_beat = now
                self._write(f"    {event.message}: {event.done:,} of {event.total:,} "
                            f"({now - self.stage_started:.0f} s)")  # fmt: skip
            return
        if event.level == "stage":
            self._finish_stage(now)
            self.stage_started = self.last_beat = now
            self.stage = event.message[:1].lower() + event.message[1:]
        prefix = {"stage": "==> ", "info": "    ", "warning": "warning: "}[event.level]
        self._write(prefix + event.message)

    def close(self) -> None:
        self.stopped.set()
        with self.lock:
            self._finish_stage(self.clock())
            self.stage = ""

    def _finish_stage(self, now: float) -> None:
        took = now - self.stage_started
        if not self.live and self.counted is not None and took >= 1.0:
            name, _, total = self.counted
            self._write(f"    {name}: {total:,} in {took:.1f} s")
        self.counted = None

    def _write(self, line: str) -> None:
        # Messages carry names from the project and its dependencies (a package built from
        # source is named from its own metadata): control characters are shown, never sent.
        self.stream.write(no_commands(plain(line)) + "\n")
        self.stream.flush()


def result_document(result: BuildResult) -> dict[str, Any]:
    from lambda_zip_action.deploy_output import artifact_document, layer_document

    document = {
        **artifact_document(
            result.output, result.manifest, result.archive, result.sizes, result.etags
        ),
        "python-version": result.config.python_version,
        "architecture": result.config.architecture,
        "distributions": [{"name": d.name, "version": d.version} for d in result.distributions],
        "built-from-source": list(result.built_from_source),
        "warnings": list(result.warnings),
    }
    if result.layer is not None:
        document["layer"] = layer_document(result.layer)
    if result.fresh_groups:
        # verify's rebuild: what it compiled afresh, so that verify can prove those entries.
        document["compiled-afresh"] = [
            {"key": group.key, "sha256": list(group.sha256),
             "failed": [list(failure) for failure in group.failures]}
            for group in result.fresh_groups
        ]  # fmt: skip
    return document


def render_result(result: BuildResult) -> str:
    from lambda_zip_action.deploy_output import render_artifact

    text = render_artifact(result.output, result.manifest, result.archive, result.sizes,
                           result.etags)  # fmt: skip
    if result.layer is not None:
        layer = result.layer
        text += render_artifact(layer.output, layer.manifest, layer.archive, layer.sizes,
                                layer.etags, "layer")  # fmt: skip
    return text


def build_cache_dir(args: argparse.Namespace, env: Mapping[str, str]) -> Path | None:
    if args.no_cache or env.get("LAMBDA_ZIP_NO_CACHE", "") not in ("", "0"):
        return None
    if args.cache_dir is not None:
        return Path(args.cache_dir).resolve()
    if env.get("LAMBDA_ZIP_CACHE_DIR"):
        return Path(env["LAMBDA_ZIP_CACHE_DIR"]).resolve()
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".cache")
    return Path(base) / "lambda-zip"


def _run_build(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from lambda_zip_action.functions import Selection, plan

    selection = Selection(tuple(args.function or ()), args.deploy_config, args.rebuild_into)
    the_plan = plan(args.project, given(args), env.get("SOURCE_DATE_EPOCH"), selection)
    progress = _Progress(sys.stderr)
    try:
        if the_plan is not None:
            return _build_functions(args, env, the_plan, progress)
        config = config_from_args(args, env)
        return _build_and_report(args, env, config, progress)
    finally:
        progress.close()


def _build_functions(
    args: argparse.Namespace, env: Mapping[str, str], the_plan: Any, progress: _Progress
) -> int:
    """Every declared function (or those --function names): build or verify each, then write
    them all with the index."""
    from lambda_zip_action.functions import (
        FunctionBuild,
        build_functions,
        function_document,
        index_document,
    )

    cache = build_cache_dir(args, env)
    checking = args.command == "verify" or args.verify
    explained: list[str] = []
    project = the_plan.functions[0].config.project_dir
    for note in the_plan.deploy.notes:
        progress(Event("info", note))

    def announce(build: FunctionBuild) -> None:
        spec = build.spec
        declared = f", declared in {spec.origin}" if spec.origin else ""
        progress(Event("stage", f"Function {spec.name} ({spec.tool}{declared})"))

    shared = SharedWork(Path(tempfile.mkdtemp(prefix="lambda-zip-shared-")))

    def run(config: BuildConfig) -> tuple[BuildResult, Any]:
        result = build(config, env, progress, workers=args.jobs, cache_dir=cache,
                       rebuild_sdists=args.rebuild_sdists,
                       reverse_traversal=args.reverse_traversal,
                       rebuild_from_source=tuple(args.rebuild_from_source),
                       proving_cache=args.proving_cache, shared=shared)  # fmt: skip
        return result, None

    try:
        if checking:
            from lambda_zip_action.proof.verify_functions import verify_functions

            built = []
            for one, verified in verify_functions(the_plan, given(args), env, progress,
                                                  args.jobs, cache, shared, announce):  # fmt: skip
                explained.append(render_verify(verified))
                built.append(one)
        else:
            built = build_functions(the_plan, run, announce)
    finally:
        shutil.rmtree(shared.directory, ignore_errors=True)
    document = index_document(built, the_plan, project)  # build_functions wrote it
    reproducible = all(b.verified is None or b.verified.reproducible for b in built)
    if args.json:
        for key, kind in (("functions", "function"), ("layers", "layer")):
            document[key] = [{**result_document(b.result), **function_document(b, project)}
                             for b in built if b.spec.kind == kind]  # fmt: skip
        if checking:
            document["reproducible"] = reproducible
        _out(sys.stdout, json.dumps(document, sort_keys=True) + "\n")
        if not reproducible:
            _out(sys.stderr, "".join(explained))
    else:
        for index, one in enumerate(built):
            spec = one.spec.spec
            handler = f", handler {spec.handler.value}" if spec.handler else ""
            _out(sys.stdout, f"function {spec.name} ({one.result.config.runtime.identifier} "
                             f"{one.result.config.architecture}{handler})\n"
                             + render_result(one.result)
                             + (explained[index] if checking else ""))  # fmt: skip
        if the_plan.index is not None:
            _out(sys.stdout, f"index {the_plan.index}\n")
    return 0 if reproducible else 1


def _build_and_report(
    args: argparse.Namespace, env: Mapping[str, str], config: BuildConfig, progress: _Progress
) -> int:
    cache = build_cache_dir(args, env)
    if args.command == "verify" or args.verify:
        verified = verify(config, env, progress, workers=args.jobs, cache_dir=cache)
        document = {**result_document(verified.first), "reproducible": verified.reproducible,
                    "rebuild-sha256": verified.second_sha256}  # fmt: skip
        if verified.layer is not None:
            document["layer"]["rebuild-sha256"] = verified.layer.second_sha256
        if args.json:
            _out(sys.stdout, json.dumps(document, sort_keys=True) + "\n")
            if not verified.reproducible:
                _out(sys.stderr, render_verify(verified))
        else:
            _out(sys.stdout, render_result(verified.first) + render_verify(verified))
        return verified.exit_code
    result = build(
        config,
        env,
        progress,
        workers=args.jobs,
        rebuild_sdists=args.rebuild_sdists,
        reverse_traversal=args.reverse_traversal,
        cache_dir=cache,
        rebuild_from_source=tuple(args.rebuild_from_source),
        proving_cache=args.proving_cache,
    )
    if args.json:
        _out(sys.stdout, json.dumps(result_document(result), sort_keys=True) + "\n")
    else:
        _out(sys.stdout, render_result(result))
    return 0


def _run_functions(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from lambda_zip_action.functions import Selection, plan, plan_document

    the_plan = plan(args.project, {}, env.get("SOURCE_DATE_EPOCH"),
                    Selection(deploy_config=args.deploy_config))  # fmt: skip
    if the_plan is None:
        from lambda_zip_action.deploy import TOOLS, _paths

        seen = [str(p.relative_to(args.project.resolve())) for finder, _ in TOOLS
                for p in _paths(finder(args.project.resolve()))]  # fmt: skip
        raise ConfigError(
            f"{args.project.resolve()} declares no function: "
            + (f"{', '.join(plain(s) for s in seen)} declares no Lambda function in Python"
               if seen else "no template.yaml, serverless.yml, cdk.out, *.tf, "
               ".chalice/config.json, zappa_settings.* or [tool.lambda-zip.functions]")
            + ". `lambda-zip build` builds it as one package."
        )  # fmt: skip
    document = plan_document(the_plan)
    if args.json:
        _out(sys.stdout, json.dumps(document, sort_keys=True) + "\n")
        return 0
    for row in (*document["functions"], *document["layers"]):
        handler = f" handler {row['handler']}" if row["handler"] else " (layer)"
        line = (f"{row['name']}: {row['runtime']} {row['architecture']}{handler}, code "
                f"{row['code-dir']}, declared in {row['declared-in']}")  # fmt: skip
        _out(sys.stdout, plain(line) + "\n")
    return 0


def _run_diff(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from lambda_zip_action.aws import looks_like_target

    if not looks_like_target(args.old):
        return _diff_files(args, Path(args.old))
    from lambda_zip_action.proof.deployed import fetched_for_diff

    with fetched_for_diff(args.old, args.new, env) as (path, verdict):
        if path is not None:
            return _diff_files(args, path)
        _out(sys.stdout, verdict[1] + "\n")
        return verdict[0]


def _diff_files(args: argparse.Namespace, old: Path) -> int:
    from lambda_zip_action.proof.diff import diff, diff_exit_code, run_diff

    if args.format == "markdown":
        from lambda_zip_action.proof.drift_report import from_diff, render

        result = diff(old, args.new)
        text, code = (
            render(from_diff(result, args.new.name), full=args.full),
            diff_exit_code(result),
        )
    else:
        text, code = run_diff(old, args.new, args.format)
    _out(sys.stdout, text if text.endswith("\n") else text + "\n")
    return code


def _run_audit(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from lambda_zip_action.audit import Request, audit
    from lambda_zip_action.proof.drift_report import render

    names = args.function or []
    if len(names) > 1:
        raise ConfigError("audit compares one package with what is deployed: give --function once.")
    cache = build_cache_dir(args, env)
    progress = _Progress(sys.stderr)

    def run(config: BuildConfig) -> BuildResult:
        return build(config, env, progress, workers=args.jobs, cache_dir=cache)

    request = Request(args.deployed, args.project, given(args), args.ref,
                      names[0] if names else None, args.deploy_config)  # fmt: skip
    try:
        found = audit(request, env, run, progress)
    finally:
        progress.close()
    report = found.against.report
    notes = [*found.notes, *([found.against.note] if found.against.note else [])]
    if args.json:
        document = {
            "deployed": str(found.deployed.target),
            "deployed-sha256": found.deployed.sha256,
            "sha256": report.new.sha256,
            "commit": found.commit,
            "same": found.same,
            "notes": notes,
        }
        _out(sys.stdout, json.dumps(document, sort_keys=True) + "\n")
    elif found.same:
        what = f"commit {found.commit}" if found.commit else found.built
        _out(sys.stdout, plain(f"production is {what}, byte for byte: {found.deployed.target} "
                               f"has sha256 {report.new.sha256}") + "\n")  # fmt: skip
    else:
        _out(sys.stdout, plain(f"production is NOT {found.built}: {found.deployed.target} "
                               "differs from the rebuild") + "\n\n" + render(report))  # fmt: skip
    for note in notes:
        _out(sys.stderr, f"warning: {plain(note)}\n")
    return 0 if found.same else 1


def _run_inspect(args: argparse.Namespace) -> int:
    from lambda_zip_action.proof.inspect import run_inspect

    architecture = "arm64" if args.architecture == "aarch64" else args.architecture
    text, code = run_inspect(args.zip, args.python_version, architecture, args.format, args.strict)
    _out(sys.stdout, text if text.endswith("\n") else text + "\n")
    return code


def _out(stream: TextIO, text: str) -> None:
    """Everything the CLI prints: names from projects and zips never start a workflow command
    in a CI log (escape.no_commands)."""
    stream.write(no_commands(text))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    # SIGTERM (CI cancelling a job) unwinds like Ctrl-C, so temporary files are removed.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    environment = dict(os.environ if env is None else env)
    args = make_parser().parse_args(argv)
    if args.command in ("action", "comment"):
        # The GitHub layer (and its HTTP client) is imported only for these two commands.
        try:
            from lambda_zip_action.github.action import run as run_github
        except ImportError as exc:
            _out(
                sys.stderr,
                f"lambda-zip: configuration error: `lambda-zip {args.command}` needs the GitHub "
                f"packages, and {exc.name or 'one'} cannot be imported: install the tool with "
                "its dependencies (pip install lambda-zip-action).\n",
            )
            return 2
        return run_github(args, environment)
    try:
        if args.command in ("build", "verify"):
            return _run_build(args, environment)
        if args.command == "functions":
            return _run_functions(args, environment)
        if args.command == "diff":
            return _run_diff(args, environment)
        if args.command == "audit":
            return _run_audit(args, environment)
        return _run_inspect(args)
    except LambdaZipError as exc:
        # Messages quote names from the tree or the zip: never raw control characters.
        _out(sys.stderr, f"lambda-zip: {exc.kind} error: {plain(exc.message)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        _out(sys.stderr, "lambda-zip: interrupted; no output was written.\n")
        return 130
    except (RecursionError, MemoryError) as exc:  # the net under every parser of hostile input
        why = "nested too deeply" if isinstance(exc, RecursionError) else "too large"
        _out(
            sys.stderr,
            f"lambda-zip: input error: an input of `lambda-zip {args.command}` is {why} to read;"
            " nothing was written. Check the project's TOML files and the zips or manifests.\n",
        )
        return 2

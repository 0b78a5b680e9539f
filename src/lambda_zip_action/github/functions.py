"""The action for a project whose deploy configuration declares functions.

Every declared function (or those the `function` input names) is built and verified as the
CLI's `lambda-zip build` builds it, into a staging directory, then moved into place together
with the index (`dist/lambda-zip.json`). Each is compared with its own baseline (the same
function built from the base commit; a function the base does not declare is new), and the
step summary and the one sticky comment hold a table with a row per function, then each
function's report. Outputs: `functions` (JSON: name -> its hashes, paths, changed,
reproducible), `index`, and `changed` / `reproducible` for the whole set; the single-package
outputs (`path`, `sha256`, ...) are set when exactly one function was built.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambda_zip_action.build import BuildResult, SharedWork
from lambda_zip_action.config import BuildConfig
from lambda_zip_action.errors import ConfigError
from lambda_zip_action.functions import (
    FunctionBuild,
    Plan,
    build_functions,
)
from lambda_zip_action.github.baseline import compare_packages
from lambda_zip_action.github.inputs import ActionInputs, within_workspace
from lambda_zip_action.github.pipeline import Built, ensure_interpreter, run_pipeline
from lambda_zip_action.github.subjects import SUFFIX, write_subjects
from lambda_zip_action.limits import UNZIPPED_LIMIT, ZIPPED_LIMIT
from lambda_zip_action.markdown import escape_inline
from lambda_zip_action.proof.drift_report import DriftReport, render


@dataclasses.dataclass(frozen=True)
class FunctionOutcome:
    name: str
    built: Built
    report: DriftReport
    report_path: Path
    layer_report: DriftReport | None


def write_report(path: Path, text: str) -> None:
    from lambda_zip_action.github.action import write_report as write

    write(path, text)


def write_data(report_path: Path, reports: list[tuple[DriftReport, Path]]) -> None:
    from lambda_zip_action.github.action import write_data as write

    write(report_path, reports)


def run_functions(
    inputs: ActionInputs, env: Mapping[str, str], workspace: Path, the_plan: Plan
) -> tuple[dict[str, str], str, bool | None]:
    """Build, compare and report every planned function: (outputs, report text, reproducible)."""
    count = len(the_plan.functions)
    if count > 1 and (inputs.compare_to or inputs.layer_compare_to):
        raise ConfigError(
            f"compare-to names one package, but {count} functions are built "
            f"({', '.join(f.spec.name for f in the_plan.functions)}): compare each with its "
            "baseline (baseline-ref, or a pull request's base), or pick one with the function "
            "input."
        )
    for planned in the_plan.functions:
        within_workspace(planned.config, workspace)
    project = the_plan.functions[0].config.project_dir
    shared = SharedWork(Path(tempfile.mkdtemp(prefix="lambda-zip-shared-",
                                              dir=env.get("RUNNER_TEMP"))))  # fmt: skip
    current: list[FunctionBuild] = []
    verified: dict[str, bool | None] = {}

    def start(planned: FunctionBuild) -> None:
        current[:] = [planned]

    def run(config: BuildConfig) -> tuple[BuildResult, Any]:
        name = current[0].spec.name
        one = run_pipeline(ensure_interpreter(config, env), env, verify_build=inputs.verify,
                           title=f"Build {name}", shared=shared)  # fmt: skip
        verified[name] = one.reproducible
        return one.result, None

    try:
        built = build_functions(the_plan, run, start)
    finally:
        shutil.rmtree(shared.directory, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix="lambda-zip-action-", dir=env.get("RUNNER_TEMP")))
    outcomes = []
    try:
        for one in built:
            name = one.spec.spec.name
            result = Built(one.result, verified.get(name))
            report, layer_report = compare_packages(
                dataclasses.replace(inputs, name=name), project, result, env, scratch
            )
            text = render(report) + ("\n" + render(layer_report) if layer_report else "")
            report_path = one.result.output.with_name(one.result.output.name + ".report.md")
            write_report(report_path, text)
            data = [(report, one.result.manifest)]
            if layer_report is not None and one.result.layer is not None:
                data.append((layer_report, one.result.layer.manifest))
            write_data(report_path, data)
            outcomes.append(FunctionOutcome(name, result, report, report_path, layer_report))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    text = summary(inputs.name, outcomes)
    reproducible = None if not inputs.verify else all(o.built.reproducible for o in outcomes)
    first = built[0].result.output
    listed = the_plan.index.with_suffix(SUFFIX) if the_plan.index else first.with_name(
        first.name + SUFFIX)  # fmt: skip
    subjects = write_subjects(listed, [one.result for one in built], workspace)
    return (outputs(outcomes, the_plan, reproducible) | {"subjects": str(subjects)}, text,
            reproducible)  # fmt: skip


def summary(name: str, outcomes: list[FunctionOutcome]) -> str:
    """The table of every function, then each function's own report."""
    changed = [o for o in outcomes if o.report.changed]
    unknown = [o for o in outcomes if o.report.old is None]
    verdict = f"{len(changed)} of {len(outcomes)} functions changed" + (
        f", {len(unknown)} with nothing to compare against" if unknown else ""
    )
    lines = [
        f"### Lambda functions {escape_inline(name)}: {verdict}",
        "",
        "| function | runtime | changed | zipped | unzipped | reproducible |",
        "|---|---|---|---:|---:|---|",
    ]
    for outcome in outcomes:
        result = outcome.built.result
        report = outcome.report
        state = "new" if report.old is None else ("**yes**" if report.changed else "no")
        proof = {True: "yes", False: "**NO**", None: "not verified"}[outcome.built.reproducible]
        lines.append(
            f"| {escape_inline(outcome.name)} | {result.config.runtime.identifier} "
            f"{result.config.architecture} | {state} | {_share(result.archive.size, ZIPPED_LIMIT)}"
            f" | {_share(result.sizes.unzipped, UNZIPPED_LIMIT)} | {proof} |"
        )
    lines.append("")
    for outcome in outcomes:
        lines.append(render(outcome.report).replace("### ", "#### ", 1))
        if outcome.layer_report is not None:
            lines.append(render(outcome.layer_report).replace("### ", "#### ", 1))
    return "\n".join(lines).rstrip("\n") + "\n"


def _share(size: int, limit: int) -> str:
    return f"{size / 1048576:.1f} MiB ({100 * size / limit:.0f}% of {limit // 1048576} MiB)"


def outputs(
    outcomes: list[FunctionOutcome], the_plan: Plan, reproducible: bool | None
) -> dict[str, str]:
    from lambda_zip_action.github.action import outputs_for

    rows: dict[str, Any] = {}
    for outcome in outcomes:
        one = outputs_for(outcome.built, outcome.report, outcome.report_path,
                          outcome.layer_report, outcome.report_path)  # fmt: skip
        rows[outcome.name] = {key: value for key, value in one.items() if value != ""}
        if len(outcomes) > 1:
            one = dict.fromkeys(one, "")  # the one-package outputs say nothing of several
    changed = [o.report.changed for o in outcomes]
    return {
        **one,
        "functions": json.dumps(rows, sort_keys=True),
        "index": str(the_plan.index or ""),
        "changed": "" if None in changed else str(any(changed)).lower(),
        "reproducible": "" if reproducible is None else str(reproducible).lower(),
    }


__all__ = ["run_functions", "summary"]

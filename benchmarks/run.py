"""Run the issue 5 benchmarks and write docs/benchmarks.md and docs/benchmarks.png.

    .venv/bin/python -m benchmarks.run --fixtures small,medium,large --runs 5 --cold-runs 3 \\
        --out docs/benchmarks.md
    .venv/bin/python -m benchmarks.run --quick --fixtures small --out /tmp/bench.md

Needs the `bench` extra (matplotlib), CPython 3.12, zip, and network to the package index.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks import monorepo
from benchmarks.fresh import measure_fresh
from benchmarks.methods import METHODS, Caches, Job, MethodFailed, Tools, child_env, measure
from benchmarks.monorepo import FUNCTIONS
from benchmarks.probes import archive_times, import_times, machine, package_shape, versions
from benchmarks.report import Results, Sample, write
from benchmarks.stages import profile

PROJECTS = Path(__file__).resolve().parent / "projects"
FIXTURES = ("small", "medium", "large")
# Where the stage profile of build, rebuild and verify runs.
PROFILED = ("medium", "large")
DEFAULT_PYTHON = next(
    iter(sorted((Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions")
                .glob("3.12.*/bin/python3.12"), reverse=True)),
    Path(shutil.which("python3.12") or "python3.12"),
)  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--fixtures", default=",".join(FIXTURES), help="comma-separated: small,medium,large")
    add("--runs", type=int, default=5, help="timed warm-cache runs per method (default 5)")
    add("--cold-runs", type=int, default=3, help="timed cold-cache runs per method (default 3)")
    add("--import-runs", type=int, default=15, help="fresh processes per import variant")
    add("--archive-runs", type=int, default=5, help="runs of the archive-stage comparison")
    add("--profile-runs", type=int, default=3, help="stage-profile runs per kind (medium, large)")
    add("--fresh-runs", type=int, default=3, help="fresh-runner runs per kind (medium, large)")
    add("--quick", action="store_true", help="2 warm, 1 cold, 5 imports, 2 archive, 1 profile")
    add("--out", type=Path, default=Path("docs/benchmarks.md"), help="the report to write")
    add("--chart", type=Path, help="the PNG to write (default: the report's name, .png)")
    add("--python", type=Path, default=DEFAULT_PYTHON, help="CPython 3.12, the target")
    add("--work", type=Path, help="scratch directory (default: a new temporary one, removed)")
    return parser


def _tools(python: Path) -> Tools:
    from lambda_zip_action.installers import uv_binary

    lambda_zip = Path(sys.executable).parent / "lambda-zip"
    help_text = subprocess.run(
        [str(lambda_zip), "build", "--help"], capture_output=True, text=True, check=True
    ).stdout
    return Tools(python, lambda_zip, Path(uv_binary()), "--verify" in help_text)


def _log(message: str) -> None:
    sys.stderr.write(f"[bench {datetime.datetime.now():%H:%M:%S}] {message}\n")
    sys.stderr.flush()


def _rounds(
    results: Results,
    fixture: str,
    cache: str,
    *,
    runs: int,
    tools: Tools,
    work: Path,
    warm_caches: Caches,
    keep: Path,
) -> None:
    project = PROJECTS / fixture
    for run in range(runs):
        # Rotate the order each run so drift (thermal, page cache, network) spreads evenly.
        order = METHODS[run % len(METHODS) :] + METHODS[: run % len(METHODS)]
        for method in order:
            scratch = work / f"{fixture}-{cache}-{run}-{method.key}"
            caches = warm_caches
            if cache == "cold":
                caches = Caches.under(scratch)
            job = Job(project, scratch / "job", tools, child_env(os.environ, caches))
            outcome = measure(method, job)
            results.samples.setdefault((fixture, method.key, cache), []).append(
                Sample(outcome.seconds, outcome.peak_rss, outcome.own_rss)
            )
            _log(f"{fixture} {cache} run {run + 1}/{runs} ({method.key}) {outcome.seconds:.2f} s")
            if method.key == "d":
                shutil.copyfile(outcome.archive, keep)
            shutil.rmtree(scratch, ignore_errors=True)


def run(args: argparse.Namespace) -> Results:
    if args.quick:
        args.runs, args.cold_runs, args.import_runs, args.archive_runs = 2, 1, 5, 2
        args.profile_runs, args.fresh_runs = 1, 1
    fixtures = [name.strip() for name in args.fixtures.split(",") if name.strip()]
    unknown = [name for name in fixtures if not (PROJECTS / name / "requirements.txt").is_file()]
    if unknown:
        raise SystemExit(f"unknown fixture(s) {', '.join(unknown)}; known: {', '.join(FIXTURES)}")
    tools = _tools(args.python)
    results = Results(
        command=shlex.join(["python", "-m", "benchmarks.run", *sys.argv[1:]]),
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine(),
        versions=versions(args.python, tools.uv, tools.lambda_zip),
        fixtures=fixtures,
        runs={"warm": args.runs, "cold": args.cold_runs, "import": args.import_runs,
              "archive": args.archive_runs, "profile": args.profile_runs},
        verify_mode="`lambda-zip build --verify`" if tools.has_verify else
        "`--verify` missing: two builds in different TMPDIRs, then `lambda-zip diff`",
    )  # fmt: skip
    work = args.work or Path(tempfile.mkdtemp(prefix="lambda-zip-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        warm = Caches.under(work / "warm")
        archives = {fixture: work / f"{fixture}.zip" for fixture in fixtures}
        for fixture in fixtures:
            _log(f"{fixture}: filling the warm caches (untimed)")
            for method in (METHODS[0], METHODS[2], METHODS[3], METHODS[4]):
                scratch = work / f"{fixture}-fill-{method.key}"
                env = child_env(os.environ, warm)
                measure(method, Job(PROJECTS / fixture, scratch, tools, env))
                shutil.rmtree(scratch)
            _rounds(
                results,
                fixture,
                "warm",
                runs=args.runs,
                tools=tools,
                work=work,
                warm_caches=warm,
                keep=archives[fixture],
            )
        for fixture in fixtures:
            _rounds(
                results,
                fixture,
                "cold",
                runs=args.cold_runs,
                tools=tools,
                work=work,
                warm_caches=warm,
                keep=archives[fixture],
            )
        for fixture in fixtures:
            _log(f"{fixture}: importing the handler, {args.import_runs} times per variant")
            results.shapes[fixture] = package_shape(archives[fixture])
            results.imports[fixture] = import_times(
                args.python, archives[fixture], work / f"{fixture}-imports", args.import_runs
            )
        for fixture in [f for f in fixtures if f in PROFILED] or fixtures[:1]:
            _log(f"{fixture}: stage times of build, rebuild and verify, {args.profile_runs} each")
            results.stages[fixture] = profile(
                PROJECTS / fixture, args.python, child_env(os.environ, warm), args.profile_runs
            )
        if "medium" in fixtures:
            _log(f"monorepo: {FUNCTIONS} functions of medium's lock against one, {args.runs} runs")
            results.monorepo = monorepo.measure(tools.lambda_zip, work / "monorepo",
                                                child_env(os.environ, warm), args.runs)  # fmt: skip
        for fixture in [f for f in fixtures if f in PROFILED] or fixtures[:1]:
            _log(f"{fixture}: a fresh runner, {args.fresh_runs} runs per kind")
            results.fresh[fixture] = measure_fresh(tools, fixture, work, args.fresh_runs)
        biggest = max(fixtures, key=lambda f: results.shapes[f].unzipped)
        _log(f"{biggest}: archive stage against zip -X -r -6")
        results.archive_fixture = biggest
        results.archive = archive_times(
            archives[biggest], work / "archive-stage", args.archive_runs, os.cpu_count() or 1
        )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        results = run(args)
    except MethodFailed as exc:
        sys.stderr.write(f"benchmark failed: {exc}\n")
        return 1
    chart = args.chart or args.out.with_suffix(".png")
    write(results, args.out, chart)
    _log(f"wrote {args.out} and {chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

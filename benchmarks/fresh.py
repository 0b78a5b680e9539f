"""A fresh hosted runner: every cache empty, then with the action's build cache restored.

For each fixture, interleaved run by run, each kind in a new scratch directory with empty pip
and uv caches (as a runner starts):

- `seed recipe`: (b), pip install -t --no-compile, touch, compileall, touch, zip -r.
- `action, cold`: the action's run step (`lambda-zip action`, with the inputs and GITHUB_*
  variables a push event gives it, verify on) with an empty build cache.
- `action, cache restored`: the same, its build cache first copied from what an earlier run of
  the action left (what actions/cache restores; the copy is timed, as the restore is part of
  the job). That earlier run is the untimed first run on `main`, cold.

    .venv/bin/python -m benchmarks.fresh medium      # prints the medians and the ratios
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.methods import METHODS, Caches, Job, Tools, child_env, measure

PROJECTS = Path(__file__).resolve().parent / "projects"
KINDS = ("seed recipe", "action, cold", "action, cache restored")
SEED = METHODS[1]  # (b)


@dataclass
class FreshTimes:
    samples: dict[str, list[float]] = field(default_factory=dict)

    def median(self, kind: str) -> float | None:
        found = self.samples.get(kind)
        return statistics.median(found) if found else None

    def ratio(self, kind: str) -> float | None:
        seed, other = self.median("seed recipe"), self.median(kind)
        return None if seed is None or other is None or not seed else other / seed


def _action(
    lambda_zip: Path, fixture: Path, scratch: Path, env: Mapping[str, str], cache: Path
) -> float:
    """The action's run step on a copy of `fixture`, timed; `cache` is its build cache."""
    workspace = scratch / "workspace"
    shutil.copytree(fixture, workspace / "fn")
    runner_temp = scratch / "runner-temp"
    runner_temp.mkdir()
    action_env = {
        **env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_REPOSITORY": "octo/app",
        "GITHUB_OUTPUT": str(scratch / "output"),
        "GITHUB_STEP_SUMMARY": str(scratch / "summary.md"),
        "RUNNER_TEMP": str(runner_temp),
        "INPUT_WORKING_DIRECTORY": "fn",
        "INPUT_PYTHON_VERSION": "3.12",
        "INPUT_VERIFY": "true",
        "INPUT_COMMENT": "false",
        "INPUT_NO_BUILD": "true",
        "LAMBDA_ZIP_CACHE_DIR": str(cache),
    }
    started = time.perf_counter()
    completed = subprocess.run(
        [str(lambda_zip), "action"], env=action_env, cwd=runner_temp, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        tail = (completed.stdout + completed.stderr)[-3000:]
        raise RuntimeError(f"lambda-zip action failed on {fixture.name}:\n{tail}")
    return seconds


def measure_fresh(tools: Tools, fixture: str, work: Path, runs: int) -> FreshTimes:
    project = PROJECTS / fixture
    times = FreshTimes()
    # The first run on main: cold, untimed; its build cache is what later runs restore.
    saved = work / f"{fixture}-saved-cache"
    first = work / f"{fixture}-first"
    _action(tools.lambda_zip, project, first, child_env(os.environ, Caches.under(first)), saved)
    shutil.rmtree(first, ignore_errors=True)
    for run in range(runs):
        order = KINDS[run % len(KINDS) :] + KINDS[: run % len(KINDS)]
        for kind in order:
            scratch = work / f"{fixture}-fresh-{run}-{KINDS.index(kind)}"
            env = child_env(os.environ, Caches.under(scratch))  # every installer cache empty
            if kind == "seed recipe":
                seconds = measure(SEED, Job(project, scratch / "job", tools, env)).seconds
            else:
                cache = scratch / "lambda-zip-cache"
                started = time.perf_counter()
                if kind == "action, cache restored":
                    shutil.copytree(saved, cache)
                restore = time.perf_counter() - started
                seconds = restore + _action(tools.lambda_zip, project, scratch, env, cache)
            times.samples.setdefault(kind, []).append(seconds)
            sys.stderr.write(f"[fresh] {fixture} run {run + 1}/{runs} {kind}: {seconds:.2f} s\n")
            shutil.rmtree(scratch, ignore_errors=True)
    return times


def main(argv: list[str]) -> int:
    from benchmarks.run import DEFAULT_PYTHON, _tools

    fixtures = argv or ["medium"]
    work = Path(tempfile.mkdtemp(prefix="lambda-zip-fresh-"))
    try:
        tools = _tools(DEFAULT_PYTHON)
        for fixture in fixtures:
            times = measure_fresh(tools, fixture, work, runs=3)
            for kind in KINDS:
                samples = " ".join(f"{s:.2f}" for s in times.samples[kind])
                sys.stdout.write(f"{fixture} {kind:24} median {times.median(kind):.2f} s  "
                                 f"({samples})  / seed {times.ratio(kind):.2f}\n")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

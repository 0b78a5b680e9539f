"""Where the time of a build, of verify's rebuild and of a verified build goes, per stage.

    .venv/bin/python -m benchmarks.stages large [--runs 3]

Three things are timed, interleaved run by run, from the stage lines each emits:

- `build`: one `lambda-zip build` in process (`build()`), as (d) runs it;
- `rebuild`: verify's second build alone: the exact command, environment and directory that
  `verify` starts (`verify.rebuild_invocation`), its stage lines on stderr timed as they come;
- `verify`: `verify()` in process, as (e) runs it: the first build's stages, the rebuild
  starting alongside it ("Rebuilding"), the wait for the rebuild ("Waiting") and the
  comparison ("Comparing");
- `first-verify`: the same with a copy of the warm cache whose bytecode proofs are removed
  (made untimed before each run): the first verify after the bytecode was cached by plain
  builds, whose rebuild compiles every group afresh.

benchmarks.run calls `profile` on medium and large with its warm caches and puts the medians in
docs/benchmarks.md. For where the time goes inside a stage, run the same command under py-spy
(`py-spy record --subprocesses -o profile.svg -- ...`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROJECTS = Path(__file__).resolve().parent / "projects"
KINDS = ("build", "rebuild", "verify", "first-verify")


@dataclass
class StageTimes:
    """kind -> list of runs, each run an ordered {stage: seconds}."""

    runs: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    def stages(self, kind: str) -> list[str]:
        names: list[str] = []
        for run in self.runs.get(kind, []):
            names += [name for name in run if name not in names]
        return names

    def median(self, kind: str, stage: str) -> float | None:
        runs = self.runs.get(kind)
        return statistics.median(run.get(stage, 0.0) for run in runs) if runs else None

    def total(self, kind: str) -> float | None:
        runs = self.runs.get(kind)
        return statistics.median(sum(run.values()) for run in runs) if runs else None


def _segments(marks: list[tuple[str, float]], started: float, finished: float) -> dict[str, float]:
    """Stage name -> seconds from its line to the next (the first segment is `setup`)."""
    times = {"setup": (marks[0][1] if marks else finished) - started}
    for (name, start), (_, end) in zip(marks, [*marks[1:], ("end", finished)], strict=True):
        times[name] = times.get(name, 0.0) + end - start
    return times


def _config(fixture: Path, python: Path, output: Path, env: Mapping[str, str]) -> object:
    from lambda_zip_action.cli import config_from_args, make_parser

    args = make_parser().parse_args(
        ["build", "--project", str(fixture), "--python-version", "3.12",
         "--python", str(python), "--output", str(output)]
    )  # fmt: skip
    return config_from_args(args, env)


def _in_process(kind: str, fixture: Path, python: Path, env: Mapping[str, str]) -> dict[str, float]:
    from lambda_zip_action.build import build
    from lambda_zip_action.config import BuildConfig
    from lambda_zip_action.events import Event
    from lambda_zip_action.proof.verify import verify

    cache = Path(env["LAMBDA_ZIP_CACHE_DIR"]) if env.get("LAMBDA_ZIP_CACHE_DIR") else None
    with tempfile.TemporaryDirectory(prefix="lambda-zip-stages-") as work:
        if kind == "first-verify" and cache is not None:
            unproven = Path(work) / "cache"
            shutil.copytree(cache, unproven)
            for proof in unproven.rglob("proven.json"):
                proof.unlink()
            cache = unproven
        config = _config(fixture, python, Path(work) / "lambda.zip", env)
        assert isinstance(config, BuildConfig)
        marks: list[tuple[str, float]] = []

        def on_event(event: Event) -> None:
            if event.level == "stage":
                marks.append((event.message.split(" ")[0], time.perf_counter()))

        started = time.perf_counter()
        if kind in ("verify", "first-verify"):
            result = verify(config, env, on_event, cache_dir=cache)
            if not result.reproducible:
                raise RuntimeError(f"{fixture.name} is not reproducible: the profile is void")
        else:
            build(config, env, on_event, cache_dir=cache)
        return _segments(marks, started, time.perf_counter())


def _rebuild(fixture: Path, python: Path, env: Mapping[str, str]) -> dict[str, float]:
    from lambda_zip_action.config import BuildConfig
    from lambda_zip_action.proof.verify import rebuild_invocation

    work = Path(tempfile.mkdtemp(prefix="lambda-zip-stages-"))
    try:
        config = _config(fixture, python, work / "lambda.zip", env)
        assert isinstance(config, BuildConfig)
        cache = Path(env["LAMBDA_ZIP_CACHE_DIR"]) if env.get("LAMBDA_ZIP_CACHE_DIR") else None
        command, child_env, cwd = rebuild_invocation(config, python, env, work, None, (), cache)
        marks: list[tuple[str, float]] = []
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            env=child_env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        tail: list[str] = []
        for line in process.stderr:
            if line.startswith("==> "):
                marks.append((line[4:].split(" ")[0], time.perf_counter()))
            tail = [*tail[-5:], line]
        code = process.wait()
        finished = time.perf_counter()
        if code != 0:
            raise RuntimeError(f"the rebuild of {fixture.name} failed: {''.join(tail)}")
        return _segments(marks, started, finished)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def profile(fixture: Path, python: Path, env: Mapping[str, str], runs: int) -> StageTimes:
    """`runs` of each kind, interleaved (the order rotates run by run)."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = StageTimes()
    for run in range(runs):
        order = KINDS[run % len(KINDS) :] + KINDS[: run % len(KINDS)]
        for kind in order:
            measured = (
                _rebuild(fixture, python, env)
                if kind == "rebuild"
                else _in_process(kind, fixture, python, env)
            )
            times.runs.setdefault(kind, []).append(measured)
    return times


def render(fixture: str, times: StageTimes) -> str:
    lines = [f"{fixture}: medians of {len(times.runs.get('build', []))} runs"]
    for kind in KINDS:
        total = times.total(kind) or 0.0
        lines.append(f"  {kind}: {total:.2f} s")
        for stage in times.stages(kind):
            median = times.median(kind, stage) or 0.0
            share = 100 * median / total if total else 0.0
            lines.append(f"    {stage:<10} {median:7.2f} s  {share:5.1f} %")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    from benchmarks.run import DEFAULT_PYTHON

    parser = argparse.ArgumentParser(prog="python -m benchmarks.stages")
    parser.add_argument("fixture", choices=sorted(p.name for p in PROJECTS.iterdir()))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", type=Path, default=DEFAULT_PYTHON)
    args = parser.parse_args(argv)
    times = profile(PROJECTS / args.fixture, args.python, os.environ, args.runs)
    sys.stdout.write(render(args.fixture, times))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time each stage of one `lambda-zip build`, from the stage events the build emits.

    .venv/bin/python -m benchmarks.stages large [--runs 3]

Prints seconds and share per stage (install, stage, compile, archive + manifest) for the
fixture, with the caches in UV_CACHE_DIR. For where the time goes inside a stage, run the
same command under py-spy (`py-spy record --subprocesses -o profile.svg -- ...`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.run import DEFAULT_PYTHON, PROJECTS


def stage_times(fixture: str, python: Path) -> dict[str, float]:
    from lambda_zip_action.build import build
    from lambda_zip_action.cli import config_from_args, make_parser
    from lambda_zip_action.events import Event

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="lambda-zip-stages-") as work:
        args = make_parser().parse_args(
            ["build", "--project", str(PROJECTS / fixture), "--python-version", "3.12",
             "--python", str(python), "--output", str(Path(work) / "lambda.zip")]
        )  # fmt: skip
        marks: list[tuple[str, float]] = []

        def on_event(event: Event) -> None:
            if event.level == "stage":
                marks.append((event.message.split(" ")[0], time.perf_counter()))

        started = time.perf_counter()
        build(config_from_args(args, env), env, on_event)
        finished = time.perf_counter()
    times = {"setup": marks[0][1] - started}
    for (name, start), (_, end) in zip(marks, [*marks[1:], ("end", finished)], strict=True):
        times[name] = times.get(name, 0.0) + end - start
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stages")
    parser.add_argument("fixture", choices=sorted(p.name for p in PROJECTS.iterdir()))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", type=Path, default=DEFAULT_PYTHON)
    args = parser.parse_args(argv)
    runs = [stage_times(args.fixture, args.python) for _ in range(args.runs)]
    total = statistics.median(sum(run.values()) for run in runs)
    sys.stdout.write(f"{args.fixture}: median of {args.runs} builds, {total:.2f} s\n")
    for name in runs[0]:
        median = statistics.median(run.get(name, 0.0) for run in runs)
        sys.stdout.write(f"  {name:<10} {median:7.2f} s  {100 * median / total:5.1f} %\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

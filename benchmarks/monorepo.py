"""A monorepo of functions sharing one lock: every function built and verified by one command,
against one function of the same dependencies.

The project is made from the medium fixture: `[tool.lambda-zip.functions]` declares FUNCTIONS
functions, each with its own code directory (`functions/fnN/app.py`), all installing the
project's `requirements.txt` (medium's lock). Timed, interleaved run by run with a
warm cache: `lambda-zip build --verify --function Fn0` (one function) and `lambda-zip build
--verify` (all of them), and the same two without --verify.

    .venv/bin/python -m benchmarks.monorepo          # prints the medians and the ratios
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

from benchmarks.methods import Caches, child_env

PROJECTS = Path(__file__).resolve().parent / "projects"
FUNCTIONS = 10
# (label, extra arguments): one function and every function, built and verified.
KINDS = (
    ("one, build", ("--function", "Fn0")),
    ("all, build", ()),
    ("one, verify", ("--verify", "--function", "Fn0")),
    ("all, verify", ("--verify",)),
)


@dataclass
class MonorepoTimes:
    functions: int
    samples: dict[str, list[float]] = field(default_factory=dict)

    def median(self, kind: str) -> float | None:
        found = self.samples.get(kind)
        return statistics.median(found) if found else None

    def ratio(self, what: str) -> float | None:
        one, every = self.median(f"one, {what}"), self.median(f"all, {what}")
        return None if one is None or every is None or not one else every / one


def make_project(directory: Path, functions: int = FUNCTIONS) -> Path:
    """The monorepo: medium's lock at the root, `functions` code directories, each declared in
    [tool.lambda-zip.functions] with that one lock."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECTS / "medium" / "requirements.txt", directory / "requirements.txt")
    tables = ['[project]\nname = "monorepo"\nversion = "0"\nrequires-python = ">=3.12"\n']
    for index in range(functions):
        code = directory / "functions" / f"fn{index}"
        code.mkdir(parents=True, exist_ok=True)
        (code / "app.py").write_text(
            "import json\n\nimport pydantic\n\n\n"
            f"def handler(event, context):\n    return json.dumps({{'function': {index}}})\n"
        )
        tables.append(
            f'[tool.lambda-zip.functions.Fn{index}]\nsource = "functions/fn{index}"\n'
            'handler = "app.handler"\npython-version = "3.12"\n'
            'requirements = "requirements.txt"\n'
        )
    (directory / "pyproject.toml").write_text("\n".join(tables))
    return directory


def _run(lambda_zip: Path, project: Path, extra: tuple[str, ...], env: Mapping[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(
        [str(lambda_zip), "build", "--project", str(project), *extra],
        env=dict(env), capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"lambda-zip build {' '.join(extra)} failed: {completed.stderr[-2000:]}")
    return seconds


def measure(lambda_zip: Path, work: Path, env: Mapping[str, str], runs: int) -> MonorepoTimes:
    """Warm caches first (untimed), then `runs` rounds of every kind, the order rotating."""
    project = make_project(work / "monorepo")
    times = MonorepoTimes(FUNCTIONS)
    for _, extra in KINDS:
        _run(lambda_zip, project, extra, env)
    for run in range(runs):
        order = KINDS[run % len(KINDS) :] + KINDS[: run % len(KINDS)]
        for label, extra in order:
            times.samples.setdefault(label, []).append(_run(lambda_zip, project, extra, env))
    return times


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="lambda-zip-monorepo-"))
    try:
        env = child_env(os.environ, Caches.under(work / "caches"))
        lambda_zip = Path(sys.executable).parent / "lambda-zip"
        times = measure(lambda_zip, work, env, runs=5)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for label, _ in KINDS:
        samples = " ".join(f"{s:.2f}" for s in times.samples[label])
        sys.stdout.write(f"{label:12} median {times.median(label):.2f} s   ({samples})\n")
    for what in ("build", "verify"):
        sys.stdout.write(f"{FUNCTIONS} functions / one, {what}: {times.ratio(what):.2f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

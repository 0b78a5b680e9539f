"""The five ways to build a Lambda zip that the benchmark compares, each timed end to end.

(a) pip install -t, zip -r; (b) the familiar reproducible-ish recipe (touch, compileall, touch,
zip -r); (c) uv pip install --target, zip -r; (d) lambda-zip build; (e) lambda-zip build --verify.
All install the same hash-pinned requirements for CPython 3.12 on manylinux x86_64, with the
target interpreter, and put the handler beside the dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

PYTHON_VERSION = "3.12"
PIP_PLATFORM = "manylinux2014_x86_64"
UV_PLATFORM = "x86_64-manylinux_2_17"
# One time for every file, as the recipe in (b) does; any fixed value would do.
FIXED_TOUCH_TIME = "202001010000"


@dataclass(frozen=True)
class Tools:
    python: Path  # the target interpreter, CPython 3.12
    lambda_zip: Path
    uv: Path
    has_verify: bool  # whether `lambda-zip build --verify` exists in this checkout
    # The interpreter that runs lambda-zip (the console script's): (d) and (e) run the same CLI
    # through OWN_RSS_WRAPPER, which also reports the tool's own peak RSS.
    harness_python: Path = Path(sys.executable)


# `lambda-zip ARGS` as the console script runs it (cli.main), then the peak resident set of this
# process alone (getrusage RUSAGE_SELF: threads included, uv, pip and the compilers excluded)
# written to the file named by the first argument.
OWN_RSS_WRAPPER = """
import resource, sys
report = sys.argv.pop(1)
from lambda_zip_action.cli import main
try:
    code = main(sys.argv[1:])
finally:
    with open(report, "w") as stream:
        stream.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))
raise SystemExit(code)
"""


@dataclass(frozen=True)
class Caches:
    pip: Path
    uv: Path
    lambda_zip: Path  # lambda-zip's bytecode cache (LAMBDA_ZIP_CACHE_DIR)

    @classmethod
    def under(cls, directory: Path) -> Caches:
        return cls(directory / "pip-cache", directory / "uv-cache", directory / "lambda-zip-cache")


@dataclass(frozen=True)
class Outcome:
    seconds: float
    peak_rss: int  # bytes: the largest resident set of any process in the method's tree
    archive: Path
    own_rss: int | None = None  # bytes: the lambda-zip process alone ((d) and (e))


class MethodFailed(Exception):
    """A step of a method exited with an error: the benchmark's numbers would be meaningless."""


def child_env(env: Mapping[str, str], caches: Caches) -> dict[str, str]:
    """The environment of every step: bytecode writing on, one cache per tool, no extra wheels."""
    dropped = ("PYTHONDONTWRITEBYTECODE", "PIP_FIND_LINKS")
    cleaned = {k: v for k, v in env.items() if k not in dropped}
    cleaned.update(
        UV_CACHE_DIR=str(caches.uv),
        PIP_CACHE_DIR=str(caches.pip),
        LAMBDA_ZIP_CACHE_DIR=str(caches.lambda_zip),
        UV_PYTHON_DOWNLOADS="never",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return cleaned


def run_step(command: list[str], env: Mapping[str, str], cwd: Path | None = None) -> int:
    """Run one command; return its peak RSS in bytes (wait4 reports the tree's largest)."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = output.decode("utf-8", "replace").strip().splitlines()[-15:]
        raise MethodFailed(f"{' '.join(command)} exited {process.returncode}:\n" + "\n".join(tail))
    return usage.ru_maxrss * 1024


@dataclass(frozen=True)
class Job:
    fixture: Path  # the fixture project: requirements.txt and src/
    work: Path  # an empty directory for this run
    tools: Tools
    env: dict[str, str]

    @property
    def requirements(self) -> Path:
        return self.fixture / "requirements.txt"

    @property
    def archive(self) -> Path:
        return self.work / "lambda.zip"

    @property
    def own_rss_report(self) -> Path:
        return self.work / "own-rss"


def _pip_install(job: Job, target: Path, compile_bytecode: bool) -> int:
    command = [
        str(job.tools.python), "-m", "pip", "install", "--quiet",
        "--target", str(target),
        "--platform", PIP_PLATFORM, "--only-binary=:all:",
        "--python-version", PYTHON_VERSION, "--implementation", "cp",
        "--no-input", "--progress-bar", "off",
        "-r", str(job.requirements),
    ]  # fmt: skip
    if not compile_bytecode:
        command.insert(4, "--no-compile")
    return run_step(command, job.env)


def _uv_install(job: Job, target: Path) -> int:
    command = [
        str(job.tools.uv), "pip", "install", "--quiet",
        "--target", str(target),
        "--python", str(job.tools.python),
        "--python-platform", UV_PLATFORM, "--python-version", PYTHON_VERSION,
        "--only-binary", ":all:",
        "-r", str(job.requirements),
    ]  # fmt: skip
    return run_step(command, job.env)


def _add_handler_and_zip(job: Job, target: Path) -> int:
    shutil.copytree(job.fixture / "src", target, dirs_exist_ok=True)
    return run_step(["zip", "-r", "-q", str(job.archive), "."], job.env, cwd=target)


def _touch_all(job: Job, target: Path) -> int:
    return run_step(
        ["find", ".", "-exec", "touch", "-h", "-t", FIXED_TOUCH_TIME, "{}", "+"], job.env, target
    )


def pip_zip(job: Job) -> int:
    target = job.work / "package"
    return max(_pip_install(job, target, compile_bytecode=True), _add_handler_and_zip(job, target))


def pip_recipe(job: Job) -> int:
    target = job.work / "package"
    peaks = [_pip_install(job, target, compile_bytecode=False)]
    shutil.copytree(job.fixture / "src", target, dirs_exist_ok=True)
    peaks.append(_touch_all(job, target))
    peaks.append(run_step([str(job.tools.python), "-m", "compileall", "-q", "."], job.env, target))
    peaks.append(_touch_all(job, target))
    peaks.append(run_step(["zip", "-r", "-q", str(job.archive), "."], job.env, cwd=target))
    return max(peaks)


def uv_zip(job: Job) -> int:
    target = job.work / "package"
    return max(_uv_install(job, target), _add_handler_and_zip(job, target))


def _lambda_zip(job: Job, output: Path, *extra: str) -> list[str]:
    return [
        str(job.tools.harness_python), "-c", OWN_RSS_WRAPPER, str(job.own_rss_report), "build",
        "--project", str(job.fixture),
        "--python-version", PYTHON_VERSION,
        "--python", str(job.tools.python),
        "--output", str(output),
        "--json", *extra,
    ]  # fmt: skip


def lambda_zip(job: Job) -> int:
    return run_step(_lambda_zip(job, job.archive), job.env)


def lambda_zip_verify(job: Job) -> int:
    if job.tools.has_verify:
        return run_step(_lambda_zip(job, job.archive, "--verify"), job.env)
    # Before `--verify` existed: two builds from different temporary directories, then diff.
    peaks = []
    for name in ("first", "second"):
        temp = job.work / f"tmp-{name}"
        temp.mkdir()
        output = job.archive if name == "first" else job.work / "second.zip"
        peaks.append(run_step(_lambda_zip(job, output), {**job.env, "TMPDIR": str(temp)}))
    diff = [str(job.tools.lambda_zip), "diff", str(job.archive), str(job.work / "second.zip")]
    peaks.append(run_step(diff, job.env))
    return max(peaks)


@dataclass(frozen=True)
class Method:
    key: str
    label: str
    run: Callable[[Job], int]


METHODS = (
    Method("a", "pip install -t + zip -r", pip_zip),
    Method("b", "pip -t + touch + compileall + touch + zip -r", pip_recipe),
    Method("c", "uv pip install --target + zip -r", uv_zip),
    Method("d", "lambda-zip build", lambda_zip),
    Method("e", "lambda-zip build --verify", lambda_zip_verify),
)


def measure(method: Method, job: Job) -> Outcome:
    job.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    peak = method.run(job)
    seconds = time.perf_counter() - started
    if not job.archive.is_file():
        raise MethodFailed(f"({method.key}) {method.label} wrote no {job.archive}")
    own = int(job.own_rss_report.read_text()) if job.own_rss_report.is_file() else None
    return Outcome(seconds, peak, job.archive, own)

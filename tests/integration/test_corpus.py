"""The real-world corpus: dependency sets real Lambda functions ship, built the way users build.

Each case in tests/corpus/ (see its README.md) is a small function project whose handler imports
every top-level module its locked dependencies ship. For every case and target (x86_64 and
arm64, Python 3.12 and 3.13) the real CLI builds the zip with uv and with pip, and:

- a target the case expects to fail fails with both installers, exit code 2 and the case's words
  in the message; every other target builds with both;
- uv and pip give the same bytes;
- every ELF file is built for the target's machine (arm64 zips are checked statically);
- the zip ships every top-level module the case names, and warns only as the case expects;
- one target (x86_64, 3.12) is rebuilt from a copy elsewhere, in another time zone, under umask
  077 and without the bytecode cache: the same bytes; and its zip runs the Lambda way (extracted,
  read-only, another user): the handler works and every module it and the case name is imported
  from the bytecode the zip ships.

The builds of one target run concurrently (uv and pip) and share a bytecode cache with all other
builds of the session; the cache is keyed by each file's content, interpreter and compile rules,
so a hit gives the bytes a fresh compile would, and the repeat build, which never reads it,
checks that. Slow tier: `pytest -m corpus --run-slow` runs just this; CI runs it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from test_determinism import FAR_TIME_ZONE, restrict_like_umask_077
from test_lambda_run import bytecode_trouble, extract, pyc_of, run_python, source_compilations

import support
from support import interpreter, tool_env

CORPUS = support.TESTS / "corpus"
ARCHITECTURES = ("x86_64", "arm64")
PYTHONS = ("3.12", "3.13")
INSTALLERS = ("uv", "pip")
# The target whose zip is run the Lambda way and rebuilt elsewhere.
RUN_ARCHITECTURE, RUN_PYTHON = "x86_64", "3.12"
ELF_MACHINE = {"x86_64": 62, "arm64": 183}
BUILD_TIMEOUT = 1200
RESULT_MARK = "CORPUS-RESULT "

pytestmark = [pytest.mark.slow, pytest.mark.corpus]


@dataclass(frozen=True)
class Case:
    name: str
    covers: str
    modules: tuple[str, ...]
    project: str  # the directory holding pyproject.toml and the lock, relative to the case
    fails: dict[str, tuple[str, ...]]  # target -> regular expressions the error must match
    warnings: tuple[str, ...]  # regular expressions every warning of a build must match one of
    expect_warnings: tuple[str, ...]  # regular expressions each matching some warning of a build

    @property
    def directory(self) -> Path:
        return CORPUS / self.name

    def expects_failure(self, architecture: str, python_version: str) -> bool:
        return f"{architecture}-{python_version}" in self.fails


def load_case(directory: Path) -> Case:
    spec = tomllib.loads((directory / "case.toml").read_text())
    known = {"covers", "modules", "project", "fails", "warnings", "expect-warnings"}
    unknown = set(spec) - known
    assert not unknown, f"{directory}/case.toml: unknown keys {sorted(unknown)}"
    targets = {f"{a}-{p}" for a in ARCHITECTURES for p in PYTHONS}
    fails = {target: tuple(entry["patterns"]) for target, entry in spec.get("fails", {}).items()}
    assert set(fails) <= targets, f"{directory}/case.toml: unknown targets {set(fails) - targets}"
    return Case(
        name=directory.name,
        covers=spec["covers"],
        modules=tuple(spec["modules"]),
        project=spec.get("project", "."),
        fails=fails,
        warnings=tuple(spec.get("warnings", ())),
        expect_warnings=tuple(spec.get("expect-warnings", ())),
    )


CASES = [load_case(path.parent) for path in sorted(CORPUS.glob("*/case.toml"))]
BUILDING = [case for case in CASES if not case.expects_failure(RUN_ARCHITECTURE, RUN_PYTHON)]


@dataclass
class Outcome:
    installer: str
    returncode: int
    stdout: str
    stderr: str
    output: Path
    report: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.installer} build (exit {self.returncode}):\n{self.stderr[-4000:]}"


def build_command(
    project: Path, output: Path, architecture: str, python_version: str, installer: str
) -> list[str]:
    return [
        sys.executable, "-m", "lambda_zip_action", "build",
        "--project", str(project),
        "--python-version", python_version,
        "--python", str(interpreter(python_version)),
        "--architecture", architecture,
        "--installer", installer,
        "--output", str(output),
        "--json",
    ]  # fmt: skip


def run_builds(
    jobs: dict[str, tuple[list[str], Path]], env: dict[str, str], logs: Path
) -> dict[str, Outcome]:
    """Run the labelled (command, zip) builds concurrently; output goes to files, no pipe fills."""
    logs.mkdir(parents=True, exist_ok=True)
    running = []
    for label, (command, _) in jobs.items():
        stdout = (logs / f"{label}.out").open("w+")
        stderr = (logs / f"{label}.err").open("w+")
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
        )
        running.append((label, process, stdout, stderr))
    outcomes = {}
    for label, process, stdout, stderr in running:
        try:
            returncode = process.wait(timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            returncode = process.wait()
        with stdout, stderr:
            stdout.seek(0)
            stderr.seek(0)
            outcome = Outcome(label, returncode, stdout.read(), stderr.read(), jobs[label][1])
        if returncode == 0:
            outcome.report = json.loads(outcome.stdout)
        outcomes[label] = outcome
    return outcomes


class Corpus:
    """The session's builds, made once per (case, target) and shared by the tests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache = root / "bytecode-cache"
        self.built: dict[tuple[str, str, str], dict[str, Outcome]] = {}

    def build(self, case: Case, architecture: str, python_version: str) -> dict[str, Outcome]:
        key = (case.name, architecture, python_version)
        if key not in self.built:
            where = self.root / case.name / f"{architecture}-{python_version}"
            project = case.directory / case.project
            jobs = {}
            for installer in INSTALLERS:
                output = where / f"{installer}.zip"
                command = build_command(project, output, architecture, python_version, installer)
                jobs[installer] = ([*command, "--cache-dir", str(self.cache)], output)
            self.built[key] = run_builds(jobs, tool_env(LAMBDA_ZIP_NO_CACHE=None), where)
        return self.built[key]

    def built_zip(self, case: Case, architecture: str, python_version: str) -> Outcome:
        """The uv build of a target that must build; the test fails if it did not."""
        outcome = self.build(case, architecture, python_version)["uv"]
        assert outcome.returncode == 0, outcome.describe()
        return outcome


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    yield Corpus(tmp_path_factory.mktemp("corpus"))


def normalised(text: str) -> str:
    return text.lower().replace("_", "-")


def entry_table(path: Path) -> dict[str, tuple[int, int, int]]:
    with zipfile.ZipFile(path) as archive:
        return {i.filename: (i.CRC, i.file_size, i.external_attr >> 16) for i in archive.infolist()}


def describe_difference(first: Path, second: Path) -> str:
    a, b = entry_table(first), entry_table(second)
    lines = [f"only in {first.name}: {name}" for name in sorted(set(a) - set(b))]
    lines += [f"only in {second.name}: {name}" for name in sorted(set(b) - set(a))]
    lines += [
        f"differs: {name} (crc, size, mode) {a[name]} != {b[name]}"
        for name in sorted(set(a) & set(b))
        if a[name] != b[name]
    ]
    shown = lines[:40] + ([f"... and {len(lines) - 40} more"] if len(lines) > 40 else [])
    return "\n".join(shown) or "same entries, other bytes (order, dates or headers)"


def top_level_names(path: Path) -> set[str]:
    """Importable top-level names in the zip: packages, modules and extension modules."""
    names = set()
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            first, _, rest = name.partition("/")
            if rest:
                if not first.endswith((".dist-info", ".data")) and first != "__pycache__":
                    names.add(first)
            elif first.endswith((".py", ".so")):
                names.add(first.split(".", 1)[0])
    return names


def elf_machines(path: Path) -> dict[str, int]:
    """e_machine of every ELF file in the zip, found by content rather than by name."""
    machines = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir() or info.file_size < 20:
                continue
            with archive.open(info) as member:
                header = member.read(20)
            if header[:4] == b"\x7fELF":
                assert header[4] == 2, f"{info.filename} is not a 64-bit ELF"
                machines[info.filename] = int.from_bytes(header[18:20], "little")
    return machines


def case_id(case: Case) -> str:
    return case.name


TARGETS = [
    pytest.param(
        case, architecture, python_version, id=f"{case.name}-{architecture}-{python_version}"
    )
    for case in CASES
    for architecture in ARCHITECTURES
    for python_version in PYTHONS
]


@pytest.mark.parametrize(("case", "architecture", "python_version"), TARGETS)
def test_uv_and_pip_give_the_same_zip(
    corpus: Corpus, case: Case, architecture: str, python_version: str
) -> None:
    outcomes = corpus.build(case, architecture, python_version)
    target = f"{architecture}-{python_version}"

    if case.expects_failure(architecture, python_version):
        for outcome in outcomes.values():
            assert outcome.returncode == 2, f"{target} must fail: {outcome.describe()}"
            message = normalised(outcome.stderr)
            for pattern in case.fails[target]:
                assert re.search(normalised(pattern), message), (
                    f"{target}: {pattern!r} not in the {outcome.describe()}"
                )
            assert "Traceback" not in outcome.stderr, outcome.describe()
            assert not outcome.output.exists(), f"{outcome.output} written by a failed build"
        return

    for outcome in outcomes.values():
        assert outcome.returncode == 0, f"{target}: {outcome.describe()}"
    uv, pip = outcomes["uv"], outcomes["pip"]
    assert uv.report["sha256"] == pip.report["sha256"], (
        f"{target}: uv and pip zips differ:\n{describe_difference(uv.output, pip.output)}"
    )
    assert uv.output.read_bytes() == pip.output.read_bytes()

    missing = set(case.modules) - top_level_names(uv.output)
    assert not missing, f"{target}: the zip lacks top-level modules {sorted(missing)}"
    assert "handler" in top_level_names(uv.output)

    machines = elf_machines(uv.output)
    wrong = {name: m for name, m in machines.items() if m != ELF_MACHINE[architecture]}
    assert not wrong, f"{target}: ELF files for another machine: {wrong}"

    for outcome in outcomes.values():
        unexpected = [
            warning
            for warning in outcome.report["warnings"]
            if not any(re.search(p, str(warning), re.IGNORECASE) for p in case.warnings)
        ]
        assert not unexpected, f"{target}, {outcome.installer}: unexpected warnings {unexpected}"
        for pattern in case.expect_warnings:
            assert any(
                re.search(pattern, str(w), re.IGNORECASE) for w in outcome.report["warnings"]
            ), f"{target}, {outcome.installer}: no warning matches {pattern!r}"


@pytest.mark.parametrize("case", BUILDING, ids=case_id)
def test_repeat_build_elsewhere_is_identical(corpus: Corpus, case: Case, tmp_path: Path) -> None:
    reference = corpus.built_zip(case, RUN_ARCHITECTURE, RUN_PYTHON)

    # Another place (deeper, another name), another time zone, umask 077, no bytecode cache.
    copy = tmp_path / "elsewhere" / "checkout" / case.name
    shutil.copytree(case.directory, copy)
    restrict_like_umask_077(copy)
    output = tmp_path / "repeat.zip"
    command = build_command(copy / case.project, output, RUN_ARCHITECTURE, RUN_PYTHON, "uv")
    under_umask_077 = ["sh", "-c", 'umask 077 && exec "$@"', "sh", *command, "--no-cache"]
    env = tool_env(TZ=FAR_TIME_ZONE)
    repeat = run_builds({"repeat": (under_umask_077, output)}, env, tmp_path)["repeat"]

    assert repeat.returncode == 0, repeat.describe()
    assert repeat.report["sha256"] == reference.report["sha256"], (
        f"the repeat build differs:\n{describe_difference(reference.output, repeat.output)}"
    )


def without_import_log(stderr: str) -> str:
    """What a failed run printed, without the `python -v` import and shutdown lines."""
    noise = re.compile(r"^(# |import |Python \d|Type \"help\")")
    return "\n".join(line for line in stderr.splitlines() if not noise.match(line))[-4000:]


def import_check_code(modules: tuple[str, ...]) -> str:
    """Call the handler, then import each module; print where each came from, and leave
    without interpreter teardown, as Lambda's runtime does."""
    return (
        "import importlib, json, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from handler import handler\n"
        "result = handler({}, None)\n"
        "found = {}\n"
        f"for name in {list(modules)!r}:\n"
        "    module = importlib.import_module(name)\n"
        "    path = list(getattr(module, '__path__', []))\n"
        "    found[name] = [getattr(module, '__file__', None), path]\n"
        "document = {'result': result, 'modules': found}\n"
        f"print({RESULT_MARK!r} + json.dumps(document, default=str))\n"
        # Lambda's runtime never tears the interpreter down after an invocation; pyarrow's
        # thread pools sometimes abort in that teardown ("terminate called without an active
        # exception", seen once in a full CI run), which says nothing about the package.
        "import os\n"
        "sys.stdout.flush(); sys.stderr.flush()\n"
        "os._exit(0)\n"
    )


@pytest.mark.parametrize("case", BUILDING, ids=case_id)
def test_function_runs_the_lambda_way(corpus: Corpus, case: Case, tmp_path: Path) -> None:
    built = corpus.built_zip(case, RUN_ARCHITECTURE, RUN_PYTHON)
    task = extract(built.output, tmp_path / "var-task")

    completed = run_python(RUN_PYTHON, import_check_code(case.modules), task)

    assert completed.returncode == 0, without_import_log(completed.stderr)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARK)]
    assert len(lines) == 1, completed.stdout[-4000:]
    document = json.loads(lines[0][len(RESULT_MARK) :])
    result = document["result"]
    assert result["ok"] is True
    failed = sorted(name for name, passed in result["checks"].items() if passed is not True)
    assert not failed, f"handler checks failed: {failed}"

    log = completed.stderr
    root = str(task)
    for name, (file, path) in document["modules"].items():
        where = [file] if file else path
        assert where, f"{name}: neither __file__ nor __path__"
        assert all(str(entry).startswith(root + "/") for entry in where), (
            f"{name} was not imported from the zip: {where}"
        )
        if file and file.endswith(".py"):
            module = file[len(root) + 1 :]
            pyc = f"{root}/{pyc_of(module, RUN_PYTHON)}"
            assert f"# {pyc} matches {file}\n" in log, f"{name}: shipped .pyc not used"
    assert source_compilations(log, task) == []
    assert bytecode_trouble(log) == []
    assert f"# {root}/{pyc_of('handler.py', RUN_PYTHON)} matches {root}/handler.py\n" in log

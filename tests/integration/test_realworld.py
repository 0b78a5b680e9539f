"""The real-world corpus: public Lambda projects' layouts, built the way a new user builds them.

Each case in tests/realworld/ (see its README.md) reproduces the layout and deploy
configuration of a public project (SAM, Serverless, CDK's cdk.out, Terraform, Chalice, Zappa,
plain uv and Poetry); tests/realworld/cases.toml says what its deploy configuration declares.
Each case is copied to a temporary directory and built from its root; then for every declared
function (and layer):

- the index (dist/lambda-zip.json) lists it with the declared handler, runtime and
  architecture, and the hashes of the zip it names;
- (a) the handler's module is in the zip and defines the handler's name;
- (b) run the Lambda way (extracted with unzip, read-only, owned by another user, the
  declared CPython without privileges and with no PYTHON* variable but PYTHONPATH), the
  handler's import compiles no module of the package from source and uses the shipped .pyc;
- (c) every ELF file is for the declared architecture and needs no newer glibc than the
  runtime's;
- (d) every package of the function's dependency file is shipped (a .dist-info);
- (e) nothing of the project but the function's own code is shipped: no deploy tooling,
  docs, tests, events, lock or requirements files, secrets;
- (f) the handler is loaded by AWS's runtime interface client (awslambdaric, from PyPI, in a
  virtual environment of the declared CPython) against a loopback Runtime API, which then
  invokes it with the case's event and checks the response.

arm64 packages can't run on this x86_64 machine: their ELF files are checked statically, and
the handler is imported (b, f: the runtime's init) but invoked only when the zip holds no ELF
file; the corpus's arm64 handlers load their native modules on first use, as the cold-start
advice goes, so their import is pure Python.

A case with `error` must fail: exit 2, its patterns in a message without a traceback, no zip.

ZERO_FLAGS switches between `lambda-zip build` with no flag at all (the multi-function build)
and one build per function with explicit flags, until the deploy readers land.
Slow tier: `pytest -m realworld --run-slow` runs just this; CI runs it.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from test_lambda_run import bytecode_trouble, pyc_of, source_compilations

from elfinfo import is_elf, read_needs
from lambda_zip_action.runtimes import RUNTIMES

import support
from loopback_aws import runtime_api
from support import interpreter, require_tools, tool_env
from unprivileged import give_away, make_read_only, unprivileged

# The one-line switch: True once `lambda-zip build` with no flags builds every declared function.
ZERO_FLAGS = True

CORPUS = support.TESTS / "realworld"
SPEC = tomllib.loads((CORPUS / "cases.toml").read_text())
AWSLAMBDARIC = "awslambdaric==4.2.2"
HOST_ARCHITECTURE = "x86_64"
BUILD_TIMEOUT = 900
RUNTIME_TIMEOUT = 60
# Top-level names of a package that are the project's tooling, docs, tests or secrets.
FORBIDDEN = re.compile(
    r"^(template\.ya?ml|samconfig\.(toml|ya?ml)|serverless(\.env)?\.ya?ml|cdk\.json|cdk\.out"
    r"|package(-lock)?\.json|node_modules|.*\.tf|\.chalice|zappa_settings\..*|tests?|docs"
    r"|scripts|events|statemachine|README.*|requirements.*\.(txt|in)|\.env.*|Dockerfile"
    r"|\.dockerignore|\.gitignore|\.python-version|pyproject\.toml|uv\.lock|poetry\.lock"
    r"|buildspec\.ya?ml|\.pre-commit-config\.yaml|source\.bat|\.aws-sam|\.serverless)$"
)

pytestmark = [pytest.mark.slow, pytest.mark.realworld]


@dataclass(frozen=True)
class Target:
    """A function or a layer the case declares."""

    case: str
    name: str
    code_dir: str
    runtime: str
    architecture: str
    dependencies: str | None
    handler: str | None = None  # None for a layer
    layers: tuple[str, ...] = ()
    event: str = "{}"
    expect: str = "{}"
    invoke: bool = True
    gaps: tuple[tuple[str, str], ...] = ()
    # Top-level modules the deploy tool itself adds to every package (Chalice's runtime).
    added_by_tool: tuple[str, ...] = ()

    @property
    def python_version(self) -> str:
        return self.runtime.removeprefix("python")

    @property
    def is_layer(self) -> bool:
        return self.handler is None


def load_targets(case: str, kind: str) -> list[Target]:
    targets = []
    for entry in SPEC[case].get(kind, []):
        targets.append(
            Target(
                case=case,
                name=entry["name"],
                code_dir=entry.get("code-dir", entry.get("content-dir", ".")),
                runtime=entry["runtime"],
                architecture=entry["architecture"],
                dependencies=entry.get("dependencies"),
                handler=entry.get("handler"),
                layers=tuple(entry.get("layers", ())),
                event=entry.get("event", "{}"),
                expect=entry.get("expect", "{}"),
                invoke=entry.get("invoke", True),
                gaps=tuple(sorted(entry.get("gaps", {}).items())),
                added_by_tool=tuple(entry.get("added-by-tool", ())),
            )
        )
    return targets


BUILDING = [case for case in SPEC if "error" not in SPEC[case]]
FAILING = [case for case in SPEC if "error" in SPEC[case]]
FUNCTIONS = [t for case in BUILDING for t in load_targets(case, "functions")]
LAYERS = [t for case in BUILDING for t in load_targets(case, "layers")]


def simulate_checkout(project: Path) -> None:
    """What a working copy has beside the committed files: `npm install`'s node_modules."""
    if (project / "package.json").exists():
        plugin = project / "node_modules" / "serverless-python-requirements"
        plugin.mkdir(parents=True)
        (plugin / "package.json").write_text('{"name": "serverless-python-requirements"}\n')
        (plugin / "index.js").write_text(
            "module.exports = class ServerlessPythonRequirements {};\n"
        )


def explicit_commands(case: str) -> dict[str, list[str]]:
    """One build per function and layer with every flag given (the stand-in for zero flags).

    The project is the target's code directory, or the directory of its dependency file when
    that lies outside (a Poetry project's pyproject.toml above src/); a layer's sources are its
    content directory (which holds only its requirements.txt, never packed).
    """
    commands = {}
    for target in load_targets(case, "layers") + load_targets(case, "functions"):
        project = target.code_dir
        if target.dependencies and not target.dependencies.startswith(target.code_dir + "/"):
            project = str(Path(target.dependencies).parent)
        command = [
            "--project", project,
            "--python-version", target.python_version,
            "--architecture", target.architecture,
            "--output", f"dist/{target.name}.zip",
        ]  # fmt: skip
        if target.is_layer:
            command += ["--layout", "layer", "--source", target.code_dir]
        commands[target.name] = command
    return commands


@dataclass
class Built:
    project: Path
    failures: dict[str, str]  # what failed ("*": the whole build) and the build's stderr
    index: dict[str, Any]


class Corpus:
    """Each case built once per session, from a copy of it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[str, Built] = {}
        self.venvs: dict[str, Path] = {}

    def build(self, case: str) -> Built:
        if case in self.built:
            return self.built[case]
        project = self.root / case
        shutil.copytree(CORPUS / case, project, symlinks=True)
        simulate_checkout(project)
        env = tool_env(LAMBDA_ZIP_NO_CACHE=None, LAMBDA_ZIP_CACHE_DIR=str(self.root / "cache"))
        base = [sys.executable, "-m", "lambda_zip_action", "build"]
        commands = (
            {"*": base}
            if ZERO_FLAGS
            else {name: base + flags for name, flags in explicit_commands(case).items()}
        )
        failures = {}
        for name, command in commands.items():
            completed = subprocess.run(
                command, cwd=project, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                text=True, timeout=BUILD_TIMEOUT, check=False,
            )  # fmt: skip
            if completed.returncode != 0:
                failures[name] = f"exit {completed.returncode}:\n{completed.stderr}"
        index_path = project / "dist" / "lambda-zip.json"
        if ZERO_FLAGS and index_path.exists():
            index = json.loads(index_path.read_text())
        else:
            index = self.index_of_explicit_builds(case, project)
        self.built[case] = Built(project, failures, index)
        return self.built[case]

    @staticmethod
    def index_of_explicit_builds(case: str, project: Path) -> dict[str, Any]:
        """The index the multi-function build writes, made from what the explicit builds wrote."""

        def entry(target: Target) -> dict[str, Any]:
            path = project / "dist" / f"{target.name}.zip"
            data = path.read_bytes() if path.exists() else b""
            return {
                "name": target.name,
                "zip": f"dist/{target.name}.zip",
                "manifest": f"dist/{target.name}.zip.manifest.json",
                "sha256": hashlib.sha256(data).hexdigest(),
                "base64-sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
                "handler": target.handler,
                "runtime": target.runtime,
                "python-version": target.python_version,
                "architecture": target.architecture,
                "code-dir": target.code_dir,
            }

        return {
            "schema": "lambda-zip/index/1",
            "functions": [entry(t) for t in load_targets(case, "functions")],
            "layers": [entry(t) for t in load_targets(case, "layers")],
        }

    def awslambdaric(self, version: str) -> Path:
        """A virtual environment of CPython `version` with the runtime interface client."""
        if version not in self.venvs:
            venv = self.root / f"awslambdaric-{version}"
            uv = [sys.executable, "-m", "uv"]
            env = tool_env()
            subprocess.run(
                [*uv, "venv", "--quiet", "--python", str(interpreter(version)), str(venv)],
                env=env, check=True,
            )  # fmt: skip
            subprocess.run(
                [*uv, "pip", "install", "--quiet", "--only-binary", ":all:",
                 "--python", str(venv / "bin" / "python"), AWSLAMBDARIC],
                env=env, check=True,
            )  # fmt: skip
            self.venvs[version] = venv
        return self.venvs[version]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    yield Corpus(tmp_path_factory.mktemp("realworld"))


def built_target(corpus: Corpus, target: Target) -> tuple[Built, dict[str, Any], Path]:
    built = corpus.build(target.case)
    for name in ("*", *target.layers, target.name):
        failure = built.failures.get(name, "")
        assert not failure, f"{target.case}: the build of {name} failed: {failure[-4000:]}"
    kind = "layers" if target.is_layer else "functions"
    entries = {entry["name"]: entry for entry in built.index.get(kind, [])}
    assert target.name in entries, (
        f"{target.case}: the index lists {kind} {sorted(entries)}, not {target.name}"
    )
    entry = entries[target.name]
    archive = built.project / entry["zip"]
    assert archive.is_file(), f"{target.case}/{target.name}: {entry['zip']} not written"
    return built, entry, archive


# -- the checks ------------------------------------------------------------------------------


def handler_parts(handler: str) -> tuple[str, str]:
    """`todos/create.create` -> (`todos/create`, `create`); `app.main.handler` -> `app/main`..."""
    module, _, function = handler.rpartition(".")
    return module.replace(".", "/"), function


def check_handler_present(archive: Path, handler: str) -> None:
    module, function = handler_parts(handler)
    with zipfile.ZipFile(archive) as opened:
        names = set(opened.namelist())
        candidates = [f"{module}.py", f"{module}/__init__.py"]
        found = [name for name in candidates if name in names]
        assert found, f"(a) handler module {module} is not in the zip (looked for {candidates})"
        tree = ast.parse(opened.read(found[0]))
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
    assert function in defined, f"(a) {found[0]} defines no {function}"


def check_native_files(archive: Path, architecture: str, python_version: str) -> int:
    glibc = RUNTIMES[python_version].glibc
    problems, count = [], 0
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            if info.is_dir() or info.file_size < 64:
                continue
            data = opened.read(info)
            if not is_elf(data):
                continue
            count += 1
            needs = read_needs(data)
            if needs.machine != architecture:
                problems.append(f"{info.filename}: built for {needs.machine}")
            if needs.glibc and needs.glibc > glibc:
                problems.append(f"{info.filename}: needs glibc {needs.glibc}, runtime has {glibc}")
    assert not problems, f"(c) native files wrong for {architecture}/{python_version}: {problems}"
    return count


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_packages(project: Path, dependency_file: str) -> set[str]:
    """The packages a dependency file says to ship: every pin of a requirements list (and of
    the lists it includes with -r), or the main dependencies of a pyproject.toml."""
    path = project / dependency_file
    if path.name == "pyproject.toml":
        data = tomllib.loads(path.read_text())
        listed = data.get("project", {}).get("dependencies", [])
        poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
        names = {re.split(r"[\s\[<>=!~;]", item, maxsplit=1)[0] for item in listed}
        return {canonical(n) for n in names | set(poetry)} - {"python"}
    names = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= declared_packages(path.parent, line[3:].strip())
        elif line and not line.startswith(("-", "\\")) and "==" in line:
            names.add(canonical(line.split("==", 1)[0].split("[", 1)[0]))
    return names


def shipped_distributions(archive: Path, prefix: str = "") -> set[str]:
    with zipfile.ZipFile(archive) as opened:
        tops = {name[len(prefix) :].split("/", 1)[0] for name in opened.namelist()}
    return {canonical(top[: -len(".dist-info")].rsplit("-", 1)[0]) for top in tops
            if top.endswith(".dist-info")}  # fmt: skip


def own_top_level(archive: Path) -> set[str]:
    """Top-level names of the zip that no shipped distribution's RECORD claims."""
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        claimed = set()
        for name in names:
            top = name.split("/", 1)[0]
            if top.endswith(".dist-info"):
                claimed.add(top)
                if name.endswith("/RECORD"):
                    for row in opened.read(name).decode().splitlines():
                        claimed.add(row.split(",", 1)[0].split("/", 1)[0])
            elif top.endswith(".libs"):  # auditwheel's vendored libraries
                claimed.add(top)
    return {name.split("/", 1)[0] for name in names} - claimed - {"__pycache__"}


def check_nothing_else_shipped(
    archive: Path, code_dir: Path, secret: str | None, added: tuple[str, ...] = ()
) -> None:
    own = own_top_level(archive) - set(added)
    forbidden = sorted(name for name in own if FORBIDDEN.match(name))
    assert not forbidden, f"(e) the project's tooling, docs, tests or secrets shipped: {forbidden}"
    outside = sorted(name for name in own if not (code_dir / name).exists())
    assert not outside, f"(e) shipped from outside the function's code directory: {outside}"
    if secret:
        with zipfile.ZipFile(archive) as opened:
            leaked = [i.filename for i in opened.infolist() if secret.encode() in opened.read(i)]
        assert not leaked, f"(e) the secret is shipped in {leaked}"


def extract(archive: Path, root: Path) -> Path:
    """unzip as Lambda does, then read-only and owned by someone else (as /var/task is)."""
    require_tools("unzip")
    root.mkdir(parents=True)
    subprocess.run(["unzip", "-q", str(archive), "-d", str(root)], check=True)
    give_away(root)
    make_read_only(root)
    return root


def run_under_awslambdaric(
    venv: Path, target: Target, task: Path, layers: list[Path], log_path: Path, invoke: bool
) -> tuple[str, Any, str]:
    """Start awslambdaric (`python -v`) on the handler; invoke it once when asked.

    Returns ("response" | "error" | "init-error" | "initialised", body, the import log)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LAMBDA_TASK_ROOT": str(task),
        "PYTHONPATH": ":".join([str(task), *(str(layer / "python") for layer in layers)]),
        "_HANDLER": target.handler or "",
        "AWS_LAMBDA_FUNCTION_NAME": target.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{target.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "corpus",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{target.runtime}",
    }
    python = venv / "bin" / "python"
    with runtime_api() as api, log_path.open("w+") as log:
        env["AWS_LAMBDA_RUNTIME_API"] = api.address
        process = subprocess.Popen(
            unprivileged([str(python), "-v", "-m", "awslambdaric", str(target.handler)]),
            env=env, cwd=str(task), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            outcome: tuple[str, Any] = ("no answer", None)
            for _ in range(RUNTIME_TIMEOUT * 10):
                if api.waiting.wait(0.1) or process.poll() is not None:
                    break
            if not api.results.empty():
                _, kind, body = api.result(timeout=1)
                outcome = (kind, body)
            elif api.waiting.is_set():
                outcome = ("initialised", None)
                if invoke:
                    request_id = api.invoke(json.loads(target.event))
                    got_id, kind, body = api.result(timeout=RUNTIME_TIMEOUT)
                    assert got_id == request_id
                    outcome = (kind, body)
        finally:
            process.terminate()
            process.wait(timeout=10)
        log.seek(0)
        return outcome[0], outcome[1], log.read()


def check_runs_the_lambda_way(
    corpus: Corpus, built: Built, target: Target, archive: Path, tmp_path: Path
) -> None:
    task = extract(archive, tmp_path / "var-task")
    layers = []
    for number, name in enumerate(target.layers):
        entry = next(e for e in built.index["layers"] if e["name"] == name)
        layers.append(extract(built.project / entry["zip"], tmp_path / f"opt-{number}"))
    has_native = check_native_files(archive, target.architecture, target.python_version) > 0
    invoke = target.invoke and (target.architecture == HOST_ARCHITECTURE or not has_native)
    venv = corpus.awslambdaric(target.python_version)

    kind, body, log = run_under_awslambdaric(
        venv, target, task, layers, tmp_path / "runtime.log", invoke
    )

    assert kind in ("response", "initialised"), (
        f"(f) awslambdaric: {kind} {json.dumps(body)[:2000]}\n"
        + "\n".join(line for line in log.splitlines() if not line.startswith(("#", "import ")))[
            -3000:
        ]
    )
    assert source_compilations(log, task) == [], "(b) modules compiled from source at import"
    for layer in layers:
        assert source_compilations(log, layer / "python") == [], "(b) layer compiled at import"
    roots = (str(task), *(str(layer) for layer in layers))
    trouble = [line for line in bytecode_trouble(log) if any(root in line for root in roots)]
    assert trouble == [], f"(b) the package's bytecode rejected, or written: {trouble}"
    module, _ = handler_parts(str(target.handler))
    source = f"{module}.py" if (task / f"{module}.py").exists() else f"{module}/__init__.py"
    pyc = f"{task}/{pyc_of(source, target.python_version)}"
    assert f"# {pyc} matches {task}/{source}\n" in log, f"(b) the handler's shipped {pyc} unused"
    if kind == "response":
        expected = json.loads(target.expect)
        got = {key: body.get(key) for key in expected} if isinstance(body, dict) else body
        assert got == expected, f"(f) the response {json.dumps(body)[:2000]}"


# -- the tests -------------------------------------------------------------------------------


def target_id(target: Target) -> str:
    return f"{target.case}-{target.name}"


def with_known_gaps(target: Target, checks: dict[str, Any]) -> None:
    """Run the named checks; a failure the case lists as a known gap is an expected failure,
    and a listed gap that no longer fails fails the test, so that cases.toml is kept true."""
    gaps = dict(target.gaps)
    expected_failures = []
    for name, check in checks.items():
        try:
            check()
        except AssertionError as error:
            if name not in gaps:
                raise
            expected_failures.append(f"{name}: {gaps[name]} ({str(error).splitlines()[0]})")
        else:
            assert name not in gaps, f"known gap {name!r} of {target.case} is fixed: remove it"
    if expected_failures:
        pytest.xfail("; ".join(expected_failures))


@pytest.mark.parametrize("target", FUNCTIONS, ids=target_id)
def test_function(corpus: Corpus, target: Target, tmp_path: Path) -> None:
    outputs: list[tuple[Built, dict[str, Any], Path]] = []
    with_known_gaps(target, {"build": lambda: outputs.append(built_target(corpus, target))})
    built, entry, archive = outputs[0]
    code_dir = built.project / target.code_dir

    def index() -> None:
        declared = {k: entry.get(k) for k in ("handler", "runtime", "architecture")}
        wanted = {"handler": target.handler, "runtime": target.runtime}
        wanted["architecture"] = target.architecture
        assert declared == wanted, f"index entry {entry}"
        digest = hashlib.sha256(archive.read_bytes())
        assert entry["sha256"] == digest.hexdigest()
        assert entry["base64-sha256"] == base64.b64encode(digest.digest()).decode()

    def dependencies() -> None:
        if target.dependencies:
            wanted = declared_packages(CORPUS / target.case, target.dependencies)
            missing = wanted - shipped_distributions(archive)
            assert not missing, f"(d) declared dependencies not shipped: {sorted(missing)}"

    with_known_gaps(
        target,
        {
            "index": index,
            "handler": lambda: check_handler_present(archive, str(target.handler)),
            "native": lambda: check_native_files(
                archive, target.architecture, target.python_version
            ),
            "dependencies": dependencies,
            "shipped": lambda: check_nothing_else_shipped(
                archive, code_dir, SPEC[target.case].get("secret"), target.added_by_tool
            ),
            "import": lambda: check_runs_the_lambda_way(corpus, built, target, archive, tmp_path),
        },
    )


@pytest.mark.parametrize("target", LAYERS, ids=target_id)
def test_layer(corpus: Corpus, target: Target) -> None:
    _, _, archive = built_target(corpus, target)
    with zipfile.ZipFile(archive) as opened:
        tops = {name.split("/", 1)[0] for name in opened.namelist()}
    assert tops == {"python"}, f"a layer holds python/ only, not {sorted(tops)}"
    check_native_files(archive, target.architecture, target.python_version)
    if target.dependencies:
        wanted = declared_packages(CORPUS / target.case, target.dependencies)
        missing = wanted - shipped_distributions(archive, prefix="python/")
        assert not missing, f"(d) declared dependencies not in the layer: {sorted(missing)}"


@pytest.mark.parametrize("case", FAILING)
def test_refused_with_file_and_line(corpus: Corpus, case: str) -> None:
    if not ZERO_FLAGS:
        pytest.skip("the file and line come from the deploy reader: runs once builds take no flag")
    built = corpus.build(case)
    stderr = built.failures.get("*", "")
    assert stderr.startswith("exit 2:"), stderr[-3000:] or "the build did not fail"
    assert "Traceback" not in stderr
    for pattern in SPEC[case]["error"]:
        assert re.search(pattern, stderr), f"{pattern!r} not in:\n{stderr[-3000:]}"
    assert not list(built.project.glob("dist/*.zip")), "a failed build wrote a zip"


def test_cases_cover_the_deploy_tools() -> None:
    # The coverage: at least 12 building projects, every tool, both architectures,
    # every runtime this machine has, a layer, a retired runtime and a secret.
    assert len(BUILDING) >= 12
    runtimes = {t.runtime for t in FUNCTIONS}
    assert runtimes >= {"python3.10", "python3.11", "python3.12", "python3.13"}
    assert {t.architecture for t in FUNCTIONS} == {"x86_64", "arm64"}
    assert LAYERS and FAILING and any("secret" in SPEC[c] for c in BUILDING)
    assert all((CORPUS / case).is_dir() for case in SPEC)
    assert sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) == sorted(SPEC)
    assert (CORPUS / "README.md").is_file()


def test_checks_catch_the_naive_package(corpus: Corpus, tmp_path: Path) -> None:
    # The checks fail on what people ship without the tool: `pip install -t` of the function's
    # requirements beside a copy of the whole project (`zip -r .`), with no bytecode.
    target = next(t for t in FUNCTIONS if t.case == "sam-hello")
    project = tmp_path / "project"
    shutil.copytree(CORPUS / target.case, project)
    subprocess.run(
        [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--target", str(project),
         "--python-version", target.python_version, "--python-platform", "x86_64-manylinux_2_17",
         "--only-binary", ":all:", "-r", str(project / str(target.dependencies))],
        env=tool_env(), check=True,
    )  # fmt: skip
    shutil.copy(project / "hello_world" / "app.py", project / "app.py")
    archive = tmp_path / "naive.zip"
    with zipfile.ZipFile(archive, "w") as naive:
        for path in sorted(project.rglob("*")):
            naive.write(path, path.relative_to(project).as_posix())
    code_dir = CORPUS / target.case / target.code_dir

    with pytest.raises(AssertionError, match=r"\(e\) the project's tooling.*template\.yaml"):
        check_nothing_else_shipped(archive, code_dir, None)
    with pytest.raises(AssertionError, match=r"\(c\) native files wrong.*built for x86_64"):
        check_native_files(archive, "arm64", target.python_version)
    with pytest.raises(AssertionError, match=r"\(a\) handler module handler is not in the zip"):
        check_handler_present(archive, "handler.lambda_handler")
    with pytest.raises(AssertionError, match=r"\(a\) hello_world/app\.py defines no handler"):
        check_handler_present(archive, "hello_world.app.handler")
    with pytest.raises(AssertionError, match=r"\(d\) declared dependencies not shipped"):
        missing = declared_packages(project, str(target.dependencies)) | {"orjson"}
        assert not missing - shipped_distributions(archive), "(d) declared dependencies not shipped"
    built = Built(project, {}, {"layers": []})
    with pytest.raises(AssertionError, match=r"\(b\) modules compiled from source"):
        check_runs_the_lambda_way(corpus, built, target, archive, tmp_path / "run")


def test_cdk_out_is_the_synthesized_copy_of_the_sources() -> None:
    # cdk.out was made by the real synthesizer (relock.sh synth): its asset is a copy of the
    # function's directory, named for its hash; an edit of the sources needs a new synth.
    project = CORPUS / "cdk-apigw-lambda"
    template = json.loads(
        (project / "cdk.out" / "ApigwHttpApiLambdaStack.template.json").read_text()
    )
    assets = {
        resource["Metadata"]["aws:asset:path"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert len(assets) == 1
    asset = project / "cdk.out" / assets.pop()
    source = project / "lambda" / "apigw-handler"
    assert sorted(p.name for p in asset.iterdir()) == sorted(p.name for p in source.iterdir())
    for path in source.iterdir():
        assert (asset / path.name).read_bytes() == path.read_bytes(), f"{path.name}: run synth"


@pytest.mark.parametrize("case", BUILDING)
def test_uv_and_pip_give_the_same_bytes(corpus: Corpus, case: str, tmp_path: Path) -> None:
    """The same project built with `--installer pip`, zero flags otherwise, in a fresh copy:
    every function's and layer's zip is the uv build's, byte for byte."""
    if not ZERO_FLAGS:
        pytest.skip("compares the zero-flag builds")
    built = corpus.build(case)
    if built.failures:
        pytest.fail(f"{case}: the uv build failed, nothing to compare", pytrace=False)
    project = tmp_path / case
    shutil.copytree(CORPUS / case, project, symlinks=True)
    simulate_checkout(project)
    completed = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--installer", "pip"],
        cwd=project, env=tool_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=BUILD_TIMEOUT, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-4000:]

    def zips(root: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((root / "dist").glob("*.zip"))}  # fmt: skip

    uv_zips, pip_zips = zips(built.project), zips(project)
    assert uv_zips, f"{case}: the uv build wrote no zip"
    assert pip_zips == uv_zips, f"{case}: pip {pip_zips} != uv {uv_zips}"

"""The package runs the way Lambda runs it, and uses the bytecode it ships.

Each zip is extracted with Info-ZIP `unzip` into a directory standing for /var/task (or /opt
for a layer), handed to another user and made read-only; then the target CPython, without
privileges (see unprivileged.py) and with a clean environment, imports the handler under
`python -v`. Its import log shows, module by module, whether the shipped .pyc was used
("matches"), was rejected ("bytecode is stale") or whether the source was compiled in memory
("code object from <...>.py"), which on Lambda happens on every cold start.

The last tests show the naive ways fail under the same harness: no bytecode at all, and
timestamp .pyc (compileall's default) in a zip whose dates are 1980.
"""

from __future__ import annotations

import json
import marshal
import os
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambda_zip_action.archive import write_zip
from lambda_zip_action.stage import collect, merge

from support import PROJECTS, build_project, interpreter, require_tools
from unprivileged import give_away, make_read_only, unprivileged

HOST_ARCHITECTURE = "x86_64"  # what this machine runs; arm64 zips are checked statically
VERSIONS = [
    pytest.param("3.10", marks=pytest.mark.slow),
    pytest.param("3.11", marks=pytest.mark.slow),
    "3.12",
    pytest.param("3.13", marks=pytest.mark.slow),
]
# Shipped modules whose .pyc the handler's imports must use: (module file, its .pyc directory).
SHIPPED_MODULES = (
    "app/handler.py",
    "app/__init__.py",
    "markupsafe/__init__.py",
    "dateutil/__init__.py",
    "dateutil/parser/_parser.py",
    "six.py",
)
ELF_MACHINE = {"x86_64": 62, "arm64": 183}

HANDLER_CALL = (
    "import json, sys; sys.path.insert(0, sys.argv[1]); from app.handler import handler; "
    "print(json.dumps(handler({}, None)))"
)
TRACEBACK_CALL = (
    "import json, sys, traceback; sys.path.insert(0, sys.argv[1]); "
    "from app.handler import handler\n"
    "try:\n    handler({'when': 'not a date'}, None)\n"
    "except ValueError as exc:\n"
    "    print(json.dumps([frame.filename for frame in traceback.extract_tb(exc.__traceback__)]))"
)


def build(project: str, version: str, output: Path, *options: str) -> dict[str, Any]:
    return build_project(PROJECTS / project, output, *options, version=version)


def extract(archive: Path, root: Path) -> Path:
    """unzip as Lambda does, then make the tree read-only and owned by someone else."""
    require_tools("unzip")
    root.mkdir(parents=True)
    subprocess.run(["unzip", "-q", str(archive), "-d", str(root)], check=True)
    give_away(root)
    make_read_only(root)
    return root


def run_python(version: str, code: str, path_entry: Path) -> subprocess.CompletedProcess[str]:
    """`python -v -c code path_entry` as the runtime user runs it, with no PYTHON* set."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run(
        unprivileged([str(interpreter(version)), "-v", "-c", code, str(path_entry)]),
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )


def invoke(version: str, path_entry: Path) -> tuple[dict[str, Any], str]:
    completed = run_python(version, HANDLER_CALL, path_entry)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, Any] = json.loads(completed.stdout)
    return result, completed.stderr


def cache_tag(version: str) -> str:
    return "cpython-" + version.replace(".", "")


def pyc_of(module: str, version: str) -> str:
    directory, _, name = module.rpartition("/")
    return f"{directory + '/' if directory else ''}__pycache__/{name[:-3]}.{cache_tag(version)}.pyc"


def source_compilations(log: str, root: Path) -> list[str]:
    """Modules under `root` compiled from source: "# code object from <path>.py" (no quotes)."""
    return re.findall(rf"^# code object from {re.escape(str(root))}/\S+\.py$", log, re.MULTILINE)


def bytecode_trouble(log: str) -> list[str]:
    """Lines where Python wrote, failed to write, or rejected bytecode."""
    pattern = (
        r"^# (created |could not create |bytecode is stale|.*bad magic number|.*hash mismatch)"
    )
    return [line for line in log.splitlines() if re.match(pattern, line)]


def assert_shipped_bytecode_used(log: str, root: Path, version: str) -> None:
    for module in SHIPPED_MODULES:
        pyc = f"{root}/{pyc_of(module, version)}"
        assert f"# {pyc} matches {root}/{module}\n" in log, f"{module}: shipped .pyc not used"
        assert f"# code object from '{pyc}'\n" in log
    assert source_compilations(log, root) == []
    assert bytecode_trouble(log) == []


def assert_handler_ok(result: dict[str, Any]) -> None:
    assert result["ok"] is True
    assert result["speedups"] is True, "markupsafe's compiled _speedups did not load"
    assert result["versions"] == {
        "markupsafe": "3.0.2",
        "python-dateutil": "2.9.0.post0",
        "six": "1.17.0",
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_function_runs_read_only_with_shipped_bytecode(version: str, tmp_path: Path) -> None:
    build("uvlock", version, tmp_path / "lambda.zip", "--architecture", HOST_ARCHITECTURE)
    task = extract(tmp_path / "lambda.zip", tmp_path / "var-task")

    result, log = invoke(version, task)

    assert_handler_ok(result)
    assert_shipped_bytecode_used(log, task, version)
    speedups = re.search(
        r"^# extension module 'markupsafe._speedups' loaded from '(.*)'$", log, re.MULTILINE
    )
    assert speedups is not None and speedups.group(1).startswith(f"{task}/markupsafe/")


def test_runtime_user_cannot_write_the_task_directory(tmp_path: Path) -> None:
    # The premise of every test here: like /var/task, the tree refuses writes to this process.
    task = tmp_path / "var-task"
    (task / "app").mkdir(parents=True)
    (task / "app" / "handler.py").write_text("")
    give_away(task)
    make_read_only(task)
    probe = "import sys, pathlib; pathlib.Path(sys.argv[1], 'app', '__pycache__').mkdir()"
    completed = run_python("3.12", probe, task)
    assert completed.returncode != 0
    assert "PermissionError" in completed.stderr
    assert not (task / "app" / "__pycache__").exists()


def test_poetry_lock_runs_with_shipped_bytecode(tmp_path: Path) -> None:
    build("poetry", "3.12", tmp_path / "lambda.zip")
    task = extract(tmp_path / "lambda.zip", tmp_path / "var-task")

    result, log = invoke("3.12", task)

    assert_handler_ok(result)
    assert_shipped_bytecode_used(log, task, "3.12")


def test_layer_runs_from_opt_python(tmp_path: Path) -> None:
    build("uvlock", "3.12", tmp_path / "layer.zip", "--layout", "layer")
    opt = extract(tmp_path / "layer.zip", tmp_path / "opt")
    assert sorted(p.name for p in opt.iterdir()) == ["python"]

    result, log = invoke("3.12", opt / "python")

    assert_handler_ok(result)
    assert_shipped_bytecode_used(log, opt / "python", "3.12")


@pytest.mark.parametrize(
    ("layout", "runtime_root"), [("function", "/var/task"), ("layer", "/opt/python")]
)
def test_bytecode_names_the_runtime_path(layout: str, runtime_root: str, tmp_path: Path) -> None:
    build("uvlock", "3.12", tmp_path / "lambda.zip", "--layout", layout)
    prefix = "python/" if layout == "layer" else ""
    with zipfile.ZipFile(tmp_path / "lambda.zip") as archive:
        pyc = archive.read(prefix + pyc_of("app/handler.py", "3.12"))
    # The build compiled with this path (no build directory in the bytes) ...
    assert marshal.loads(pyc[16:]).co_filename == f"{runtime_root}/app/handler.py"

    # ... and at import CPython points the code at wherever the source actually sits (on
    # Lambda, the same /var/task path), so tracebacks show real files.
    root = extract(tmp_path / "lambda.zip", tmp_path / "extracted")
    entry = root / prefix
    completed = run_python("3.12", TRACEBACK_CALL, entry)
    assert completed.returncode == 0, completed.stderr[-3000:]
    frames = json.loads(completed.stdout)
    assert frames[0] == "<string>"
    assert frames[1] == str(entry / "app" / "handler.py")
    assert all(frame.startswith(f"{entry}/") for frame in frames[1:])


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_native_libraries_match_the_architecture(architecture: str, tmp_path: Path) -> None:
    build("uvlock", "3.12", tmp_path / "lambda.zip", "--architecture", architecture)
    with zipfile.ZipFile(tmp_path / "lambda.zip") as archive:
        libraries = [name for name in archive.namelist() if re.search(r"\.so(\.|$)", name)]
        assert libraries, "the fixture ships markupsafe's compiled module"
        for name in libraries:
            header = archive.read(name)[:20]
            assert header[:4] == b"\x7fELF", name
            assert header[4] == 2, f"{name} is not a 64-bit ELF"
            machine = int.from_bytes(header[18:20], "little")
            assert machine == ELF_MACHINE[architecture], f"{name}: e_machine {machine}"


def test_naive_no_bytecode_compiles_every_cold_start(tmp_path: Path) -> None:
    build("uvlock", "3.12", tmp_path / "lambda.zip", "--no-compile")
    task = extract(tmp_path / "lambda.zip", tmp_path / "var-task")

    result, log = invoke("3.12", task)

    assert_handler_ok(result)
    assert f"# code object from {task}/app/handler.py\n" in log
    assert " matches " + str(task) not in log
    assert any(line.startswith("# could not create") for line in bytecode_trouble(log))


def test_naive_timestamp_bytecode_is_stale_after_extraction(tmp_path: Path) -> None:
    build("uvlock", "3.12", tmp_path / "plain.zip", "--no-compile")
    staging = tmp_path / "staging"
    with zipfile.ZipFile(tmp_path / "plain.zip") as archive:
        archive.extractall(staging)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SOURCE_DATE"))}
    subprocess.run(
        [
            str(interpreter("3.12")),
            "-m",
            "compileall",
            "-q",
            "--invalidation-mode",
            "timestamp",
            str(staging),
        ],
        env=env,
        check=True,
    )
    # The same writer and the same 1980 dates as a real build; only the .pyc mode differs.
    with (tmp_path / "timestamp.zip").open("wb") as out:
        write_zip(merge(collect(staging, "dependency"), layer=False), out, 6, None)
    task = extract(tmp_path / "timestamp.zip", tmp_path / "var-task")

    result, log = invoke("3.12", task)

    assert_handler_ok(result)
    assert "# bytecode is stale for 'app.handler'\n" in log
    assert f"# code object from {task}/app/handler.py\n" in log
    assert f"{task}/{pyc_of('app/handler.py', '3.12')} matches" not in log

"""The bytecode stage alone, with a real interpreter of the target version."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lambda_zip_action.compile import (
    CompileResult,
    cache_name,
    compile_entries,
    compiler_environment,
)
from lambda_zip_action.errors import CompileError
from lambda_zip_action.stage import Origin, StagedFile

from support import interpreter


def staged(root: Path, files: dict[str, str], origin: Origin = "dependency") -> list[StagedFile]:
    entries = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        entries.append(StagedFile(name, path, 0o644, origin))
    return entries


def run(
    entries: list[StagedFile], out: Path, version: str = "3.12", workers: int = 2
) -> CompileResult:
    return compile_entries(
        entries,
        interpreter(version),
        "cpython-" + version.replace(".", ""),
        "/var/task",
        out,
        "checked-hash",
        {"PATH": "/usr/bin:/bin", "PYTHONNODEBUGRANGES": "1", "PYTHONOPTIMIZE": "2"},
        workers,
    )


def content(entry: StagedFile) -> bytes:
    assert entry.path is not None, entry  # bytecode is a file, never a directory
    return entry.path.read_bytes()


def test_hash_based_pyc_with_runtime_paths(tmp_path: Path) -> None:
    entries = staged(tmp_path / "src", {"dep/mod.py": "X = 1\n"})
    entries += staged(
        tmp_path / "src", {"app/handler.py": "def handler(e, c):\n    return 1\n"}, "source"
    )
    result = run(entries, tmp_path / "out" / "pyc")
    names = {entry.name: entry for entry in result.bytecode}
    assert set(names) == {
        "dep/__pycache__/mod.cpython-312.pyc",
        "app/__pycache__/handler.cpython-312.pyc",
    }
    dep = content(names["dep/__pycache__/mod.cpython-312.pyc"])
    own = content(names["app/__pycache__/handler.cpython-312.pyc"])
    assert int.from_bytes(dep[4:8], "little") == 1  # unchecked-hash
    assert int.from_bytes(own[4:8], "little") == 3  # checked-hash
    assert int.from_bytes(dep[:2], "little") == 3531  # CPython 3.12's magic
    # co_filename is where Lambda will find the file; the build directory never leaks.
    assert b"/var/task/dep/mod.py" in dep
    assert str(tmp_path).encode() not in dep + own


def test_environment_never_reaches_the_compiler() -> None:
    env = compiler_environment({"PATH": "/bin", "PYTHONNODEBUGRANGES": "1", "PYTHONOPTIMIZE": "2"})
    assert env == {"PATH": "/bin", "PYTHONHASHSEED": "0", "LC_ALL": "C.UTF-8"}


def test_worker_count_never_changes_bytes(tmp_path: Path) -> None:
    files = {
        f"pkg/m{i:03d}.py": f"A{i} = {{'k{i}', 'x', 'y'}}\nB = 'shared string'\n"
        for i in range(300)
    }
    entries = staged(tmp_path / "src", files)
    outputs = []
    for workers in (1, 2, 5):
        result = run(entries, tmp_path / f"out{workers}" / "pyc", "3.10", workers)
        outputs.append([content(entry) for entry in result.bytecode])
    assert outputs[0] == outputs[1] == outputs[2]


def test_dependency_that_does_not_compile_ships_as_source(tmp_path: Path) -> None:
    entries = staged(tmp_path / "src", {"old/py2.py": "print 'hello'\n", "old/ok.py": "Y = 2\n"})
    result = run(entries, tmp_path / "out" / "pyc")
    assert [entry.name for entry in result.bytecode] == ["old/__pycache__/ok.cpython-312.pyc"]
    assert [name for name, _ in result.skipped] == ["old/py2.py"]


def test_own_code_that_does_not_compile_fails_the_build(tmp_path: Path) -> None:
    entries = staged(tmp_path / "src", {"app/broken.py": "def f(:\n"}, "source")
    with pytest.raises(CompileError, match=r"app/broken\.py"):
        run(entries, tmp_path / "out" / "pyc")


def test_cache_name() -> None:
    assert cache_name("a/b/mod.py", "cpython-313") == "a/b/__pycache__/mod.cpython-313.pyc"
    assert cache_name("top.py", "cpython-310") == "__pycache__/top.cpython-310.pyc"


def test_code_object_loads_in_the_target_interpreter(tmp_path: Path) -> None:
    entries = staged(tmp_path / "src", {"m.py": "VALUE = 41 + 1\n"})
    result = run(entries, tmp_path / "out" / "pyc", "3.11")
    pyc = result.bytecode[0].path
    assert pyc is not None
    loaded = subprocess.run(
        [str(interpreter("3.11")), "-c",
         "import marshal, sys; code = marshal.loads(open(sys.argv[1], 'rb').read()[16:]); "
         "namespace = {}; exec(code, namespace); print(code.co_filename, namespace['VALUE'])",
         str(pyc)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert loaded.stdout.split() == ["/var/task/m.py", "42"]

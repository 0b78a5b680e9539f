"""build: the orchestration, on projects without dependencies (the install stage runs, with
nothing to install), so every stage after it is real and each build takes a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambda_zip_action.build import BuildResult, build, source_rules
from lambda_zip_action.config import BuildConfig, make_config
from lambda_zip_action.errors import InterpreterError, LimitError, SourceError
from lambda_zip_action.events import Event
from lambda_zip_action.interpreter import probe
from lambda_zip_action.limits import ZIPPED_LIMIT
from lambda_zip_action.stage import SourceRules

from support import interpreter, tool_env


def project(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    root = tmp_path / "project"
    for name, text in (files if files is not None else {"src/handler.py": "X = 1\n"}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "src").mkdir(parents=True, exist_ok=True)
    return root


def config(root: Path, **options: Any) -> BuildConfig:
    return make_config(root, {"python_version": "3.12", "compile": False, **options})


def outputs(config: BuildConfig) -> dict[str, bytes]:
    """The bytes of every file in the output directory, temporary files included."""
    directory = config.output.parent
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()}


def test_a_build_writes_the_zip_and_the_manifest_that_describes_it(tmp_path: Path) -> None:
    root = project(tmp_path, {"src/handler.py": "def handler(e, c):\n    return 1\n"})
    python = interpreter("3.12")
    events: list[Event] = []
    cfg = config(root, compile=True, python=str(python))
    result = build(cfg, tool_env(), events.append, workers=1)
    data = cfg.output.read_bytes()
    assert result.archive.sha256 == hashlib.sha256(data).hexdigest()
    assert result.output == root / "dist" / "lambda.zip"
    with zipfile.ZipFile(cfg.output) as archive:
        assert archive.namelist() == [
            "__pycache__/", "__pycache__/handler.cpython-312.pyc", "handler.py",
        ]  # fmt: skip
        pyc = archive.read("__pycache__/handler.cpython-312.pyc")
    assert int.from_bytes(pyc[4:8], "little") == 3  # checked-hash: Lambda uses it
    assert result.interpreter == python
    assert result.distributions == ()
    assert result.requirements.kind == "none"
    assert result.layer is None
    manifest = json.loads(cfg.manifest.read_text())
    assert cfg.manifest == root / "dist" / "lambda.zip.manifest.json"
    assert manifest["archive"]["sha256"] == result.archive.sha256
    assert manifest["archive"]["s3-etag-5mib"] == result.etags.s3_etag_5mib == result.archive.md5
    assert manifest["target"] == {
        "python-version": "3.12",
        "architecture": "x86_64",
        "layout": "function",
        "platform": "x86_64-manylinux_2_34",
    }
    inputs = manifest["inputs"]
    assert inputs["source"] == ["src"]  # relative to the project: no local path
    assert inputs["requirements"]["kind"] == "none"
    assert inputs["interpreter"] == {"version": _version(python)}
    assert str(tmp_path) not in cfg.manifest.read_text()
    stages = [e.message for e in events if e.level == "stage"]
    assert stages == [
        "Reading no requirements",
        "No dependencies to install",
        "Staging sources",
        f"Compiling bytecode with CPython {_version(python)}",
        f"Writing {cfg.output}",
    ]
    notes = [e.message for e in events if e.level == "info"]
    assert any("packaging the sources only" in note for note in notes)


def _version(python: Path) -> str:
    found = probe(python, {"PATH": "/usr/bin:/bin"})
    assert found is not None
    return found.version


def test_the_same_inputs_give_the_same_bytes_whatever_the_walk_order(tmp_path: Path) -> None:
    files = {f"src/pkg{i}/m{j}.py": f"V = {i * j}\n" for i in range(4) for j in range(4)}
    root = project(tmp_path, files)
    first = build(config(root, output=str(tmp_path / "a" / "lambda.zip")), tool_env())
    second = build(
        config(root, output=str(tmp_path / "b" / "lambda.zip")), tool_env(), reverse_traversal=True
    )
    assert first.archive.sha256 == second.archive.sha256
    assert first.output.read_bytes() == second.output.read_bytes()
    assert first.output != second.output
    assert len(first.archive.entries) == 4 + 16


def test_a_build_over_the_size_limit_leaves_the_previous_outputs_untouched(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    previous = build(config(root), tool_env())
    before = outputs(previous.config)
    assert sorted(before) == ["lambda.zip", "lambda.zip.cdx.json", "lambda.zip.manifest.json"]
    # Zeros, stored (level 0): one byte over Lambda's limit for a direct upload, written fast.
    with (root / "src" / "big.bin").open("wb") as big:
        big.truncate(ZIPPED_LIMIT + 1)
    strict = config(root, fail_on_size_limit=True, compression_level=0)
    with pytest.raises(LimitError) as raised:
        build(strict, tool_env())
    assert raised.value.message.startswith(
        "lambda.zip exceeds Lambda's limits: the zip is 50.0 MiB, over Lambda's 50.0 MiB limit"
    )
    assert "Largest: big.bin 50.0 MiB" in raised.value.message
    # Same zip, same manifest, and no temporary file left beside them.
    assert outputs(strict) == before


def test_a_split_build_with_no_dependencies_writes_nothing(tmp_path: Path) -> None:
    root = project(tmp_path)
    before = outputs(build(config(root), tool_env()).config)
    split = config(root, split=True)
    assert split.layer_output is not None
    with pytest.raises(SourceError) as raised:
        build(split, tool_env())
    assert raised.value.message.startswith(
        "Nothing for the layer zip: no requirements installs no dependencies."
    )
    assert not split.layer_output.exists()
    assert outputs(split) == before


def test_sources_without_files_and_no_dependencies_are_refused(tmp_path: Path) -> None:
    root = project(tmp_path, {})
    (root / "src" / "empty").mkdir()  # directories only
    cfg = config(root)
    with pytest.raises(SourceError, match=r"^Nothing to package: .* hold no files"):
        build(cfg, tool_env())
    assert not cfg.output.exists() and not cfg.manifest.exists()


def test_without_bytecode_any_cpython_drives_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No CPython 3.13 can be found here: --no-compile builds with this Python instead, and
    a build that compiles says how its target was chosen."""
    root = project(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)  # uv would find the .venv of the current directory
    env = tool_env(PATH=str(empty), PYENV_ROOT=str(empty), UV_PYTHON_INSTALL_DIR=str(empty),
                   HOME=str(empty))  # fmt: skip
    result: BuildResult = build(config(root, python_version="3.13"), env)
    assert result.interpreter == Path(sys.executable)
    assert json.loads(result.manifest.read_text())["inputs"]["interpreter"] is None
    with zipfile.ZipFile(result.output) as archive:
        assert archive.namelist() == ["handler.py"]
    with pytest.raises(InterpreterError) as raised:
        build(config(root, python_version="3.13", compile=True), env)
    assert raised.value.message.startswith("No CPython 3.13 interpreter found")
    assert raised.value.message.endswith("The target was python3.13: the python-version setting.")


def test_source_rules_leave_out_the_output_directory_and_the_project_files(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, {"handler.py": "X = 1\n", "README.md": "# fn\n"})
    at_top = config(root, sources=[str(root)])
    rules = source_rules(at_top, root)
    assert rules.top_level and set(rules.never) == {"dist"}  # the zip's and manifest's directory
    assert (rules.excludes, rules.includes) == ((), ())
    separate = config(root, excludes=["*.md"], includes=["tests"])
    assert source_rules(separate, root / "src") == SourceRules(
        ("*.md",), ("tests",), python_version="3.12", architecture="x86_64"
    )
    # And the build: the project's own files and an earlier zip in dist/ stay out.
    (root / "dist").mkdir()
    (root / "dist" / "old.zip").write_bytes(b"PK")
    result = build(at_top, tool_env())
    with zipfile.ZipFile(result.output) as archive:
        assert archive.namelist() == ["handler.py", "src/"]

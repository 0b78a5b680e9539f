"""Real wheels whose layouts installers treat differently give one zip, whoever installs them.

Each case here was a real project's failure: pydantic-core's compressed tag set, greenlet's
`.data/headers`, jupyterlab-widgets' `.data/data`, PyYAML's empty `PyYAML.libs/`, pyjwt and
jwt both owning `jwt/`, a uv.lock path dependency that pip could not install, and `inspect`
judging setuptools' launchers and timestamp .pyc wrongly. Every build is a real uv or pip
install from the registry.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambda_zip_action.installed_tree import expand_tags
from lambda_zip_action.proof.inspect import inspect_zip, inspection_exit_code

import support

LAYOUTS = support.PROJECTS / "wheel-layouts"
INSTALLERS = ("uv", "pip")


def _build(project: Path, output: Path, installer: str, *extra: str) -> dict[str, Any]:
    return support.build_project(
        project, output, "--installer", installer, "--source", str(project / "src"), *extra
    )


@pytest.fixture(scope="module")
def layout_zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("layouts")
    zips = {}
    for installer in INSTALLERS:
        zips[installer] = out / f"{installer}.zip"
        _build(LAYOUTS, zips[installer], installer)
    return zips


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def _record(path: Path, dist_info: str) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        text = archive.read(f"{dist_info}/RECORD").decode()
    return [row[0] for row in csv.reader(io.StringIO(text)) if row]


def test_compressed_tag_sets_are_expanded() -> None:
    assert expand_tags(["cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"]) == (
        "cp312-cp312-manylinux2014_x86_64",
        "cp312-cp312-manylinux_2_17_x86_64",
    )
    assert expand_tags(["py2.py3-none-any"]) == ("py2-none-any", "py3-none-any")


def test_uv_and_pip_give_the_same_bytes(layout_zips: dict[str, Path]) -> None:
    """pydantic-core 2.27.2's WHEEL has one compressed `Tag:` line: it must build at all."""
    uv, pip = (layout_zips[i].read_bytes() for i in INSTALLERS)
    assert uv == pip
    names = _names(layout_zips["uv"])
    assert any(n.startswith("pydantic_core/_pydantic_core.cpython-312-x86_64") for n in names)


def test_modes_follow_content_not_the_installer(layout_zips: dict[str, Path]) -> None:
    """protobuf's abi3 wheel stores 0o777 without a file type: uv made every file 0755, pip
    0644. Now programs and libraries are 0755 and everything else 0644, from either."""
    for installer in INSTALLERS:
        with zipfile.ZipFile(layout_zips[installer]) as archive:
            modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
        assert modes["google/protobuf/__init__.py"] == 0o644, installer
        (extension,) = [n for n in modes if n.startswith("google/_upb/_message")]
        assert modes[extension] == 0o755, installer
        assert modes["yaml/__init__.py"] == 0o644


def test_headers_are_not_shipped(layout_zips: dict[str, Path]) -> None:
    """greenlet's greenlet.h: uv puts it in include/greenlet/, pip in include/python/greenlet/."""
    for installer in INSTALLERS:
        names = _names(layout_zips[installer])
        assert not [n for n in names if n.startswith("include/")], installer
        assert not [n for n in _record(layout_zips[installer], "greenlet-3.1.1.dist-info")
                    if n.startswith(("include/", "../"))]  # fmt: skip
        assert "greenlet/__init__.py" in names


def test_data_files_ship_and_are_recorded(layout_zips: dict[str, Path]) -> None:
    """jupyterlab-widgets' share/jupyter/...: both installers put it there, only uv's RECORD
    listed it (pip's said ../../share/...)."""
    for installer in INSTALLERS:
        names = _names(layout_zips[installer])
        shared = [n for n in names if n.startswith("share/jupyter/") and not n.endswith("/")]
        assert shared, installer
        rows = _record(layout_zips[installer], "jupyterlab_widgets-3.0.13.dist-info")
        assert set(shared) <= set(rows), installer


def test_empty_directories_of_a_wheel_are_dropped(layout_zips: dict[str, Path]) -> None:
    """PyYAML.libs/ is empty in PyYAML's wheel: uv creates it, pip does not."""
    for installer in INSTALLERS:
        names = _names(layout_zips[installer])
        assert "PyYAML.libs/" not in names, installer
        directories = {n for n in names if n.endswith("/")}
        assert all(any(m != d and m.startswith(d) for m in names) for d in directories)


def test_setuptools_launchers_are_not_inspect_errors(layout_zips: dict[str, Path]) -> None:
    """setuptools ships cli-64.exe and friends: Windows programs Python never loads."""
    names = _names(layout_zips["uv"])
    assert any(n.startswith("setuptools/cli-") and n.endswith(".exe") for n in names)
    result = inspect_zip(layout_zips["uv"], "3.12", "x86_64")
    assert not [f for f in result.findings if f.severity == "error"], result.findings
    assert inspection_exit_code(result) == 0
    assert "foreign-binary" in {f.code for f in result.findings}


def test_the_package_runs(layout_zips: dict[str, Path], tmp_path: Path) -> None:
    tree = tmp_path / "task"
    with zipfile.ZipFile(layout_zips["pip"]) as archive:
        archive.extractall(tree)
    completed = subprocess.run(
        [str(support.interpreter("3.12")), "-I", "-c",
         "import sys; sys.path.insert(0, sys.argv[1]); from app.handler import handler; "
         "print(handler({}, None))", str(tree)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "'pydantic_core': '2.27.2'" in completed.stdout
    assert "'yaml_c': True" in completed.stdout


@pytest.mark.parametrize("installer", INSTALLERS)
def test_two_distributions_owning_one_file_are_named(installer: str, tmp_path: Path) -> None:
    """pyjwt and jwt both install jwt/: uv merged them, pip kept one and then failed the
    RECORD check with advice about a modified cache."""
    project = support.PROJECTS / "collision"
    messages = set()
    for attempt in range(2):
        output = tmp_path / f"{attempt}.zip"
        completed = support.run_cli(
            "build", "--project", str(project), "--source", str(project / "src"),
            "--installer", installer, "--python-version", "3.12",
            "--python", str(support.interpreter("3.12")), "--output", str(output),
        )  # fmt: skip
        assert completed.returncode == 2, completed.stderr
        assert "Traceback" not in completed.stderr
        assert not output.exists()
        messages.add(completed.stderr.strip().splitlines()[-1])
    (message,) = messages  # the same error every time
    assert "jwt 1.3.1 and pyjwt 2.10.1 both install jwt/" in message, message
    assert "cache" not in message


def test_uv_lock_with_a_path_dependency_installs_with_pip(tmp_path: Path) -> None:
    """A monorepo's libs/shared beside hashed pins: pip refused the whole file before."""
    project = tmp_path / "monorepo"
    shutil.copytree(support.PROJECTS / "monorepo", project)
    results = {i: _build(project, tmp_path / f"{i}.zip", i) for i in INSTALLERS}
    assert results["uv"]["sha256"] == results["pip"]["sha256"]
    names = _names(tmp_path / "pip.zip")
    assert "shared/__init__.py" in names and "idna/__init__.py" in names
    # The path lies inside the project: the commit pins it, so there is no drift warning.
    for result in results.values():
        assert not [w for w in result["warnings"] if "not pinned" in w], result["warnings"]


def test_a_path_outside_the_repository_still_warns(tmp_path: Path) -> None:
    shared = tmp_path / "elsewhere" / "shared"
    shutil.copytree(support.PROJECTS / "monorepo" / "libs" / "shared", shared)
    project = tmp_path / "function"
    (project / "src").mkdir(parents=True)
    (project / "src" / "handler.py").write_text("import shared\n")
    (project / "requirements.txt").write_text(f"{shared}\n")
    result = _build(project, tmp_path / "out.zip", "uv")
    assert [w for w in result["warnings"] if "not pinned" in w and "shared" in w]


def _seed_recipe(tmp_path: Path, tz: str) -> Path:
    """The seed article's recipe: touch to one date, compileall (timestamp .pyc), zip -X."""
    tree = tmp_path / f"tree-{tz.replace('/', '-')}"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "mod.py").write_text("VALUE = 42\n")
    env = {**os.environ, "TZ": tz, "PYTHONDONTWRITEBYTECODE": ""}
    touch = ["touch", "-t", "202401020304.06"]
    subprocess.run([*touch, str(tree / "pkg" / "mod.py")], env=env, check=True)
    python = str(support.interpreter("3.12"))
    subprocess.run([python, "-m", "compileall", "-q", str(tree / "pkg")], env=env, check=True)
    output = tmp_path / f"{tree.name}.zip"
    subprocess.run(["zip", "-q", "-X", "-r", str(output), "pkg"], cwd=tree, env=env, check=True)
    return output


def _used_on_lambda(zip_path: Path, tmp_path: Path) -> bool:
    """Extract as Lambda does (UTC) and ask CPython whether it takes the .pyc."""
    task = tmp_path / f"task-{zip_path.stem}"
    env = {**os.environ, "TZ": "UTC"}
    subprocess.run(["unzip", "-q", str(zip_path), "-d", str(task)], env=env, check=True)
    completed = subprocess.run(
        [str(support.interpreter("3.12")), "-v", "-B", "-c", "import pkg.mod"],
        cwd=task, env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return "mod.cpython-312.pyc matches" in completed.stderr


@pytest.mark.parametrize(
    ("tz", "used"), [("UTC", True), ("Pacific/Kiritimati", False), ("America/Adak", False)]
)
def test_timestamp_pyc_verdict_matches_cpython(
    tz: str, used: bool, tmp_path: Path, interpreter: Callable[[str], Path]
) -> None:
    """Timestamp .pyc are used when the zip stores the source's time in UTC; inspect says
    which, and CPython on the extracted tree agrees."""
    support.require_tools("zip", "unzip")
    archive = _seed_recipe(tmp_path, tz)
    assert _used_on_lambda(archive, tmp_path) is used
    findings = {f.code: f for f in inspect_zip(archive, "3.12", None).findings}
    if used:
        assert "pyc-timestamp" in findings and findings["pyc-timestamp"].severity == "info"
        assert "pyc-timestamp-stale" not in findings
    else:
        stale = findings["pyc-timestamp-stale"]
        assert stale.severity == "warning"
        assert "local time zone" in stale.message
        assert "always stale" not in stale.message

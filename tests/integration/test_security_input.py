"""Hostile TOML and JSON: every bad input ends in one paragraph and exit 2, never a traceback.

A pull request controls the project's pyproject.toml and locks, and a baseline manifest handed
to `diff` (or to the action's compare-to) can come from anyone. Before: a pyproject nested
100,000 deep ended `build` and `verify` in a RecursionError traceback with exit 1 (which for
verify means "not reproducible"); a manifest with `Infinity`, a size given as a string, a bad
hex digest or deep nesting ended `diff` in a traceback; `source = {"/etc/..." = 1}` slipped
past the check that keeps settings inside the project; and a manifest that claimed the new
zip's sha256 while listing other files was reported identical.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import support
import zipcraft

DEEP = 100_000


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", *argv],
        cwd=cwd, env=support.tool_env(), capture_output=True, text=True, check=False,
        timeout=600,
    )  # fmt: skip


def refused(completed: subprocess.CompletedProcess[str], kind: str) -> str:
    """The one error line of a run that must end with exit 2 and nothing else."""
    assert completed.returncode == 2, completed.stderr[-3000:]
    assert "Traceback" not in completed.stderr, completed.stderr[-3000:]
    assert completed.stdout == ""
    lines = completed.stderr.splitlines()
    errors = [line for line in lines if line.startswith("lambda-zip:")]
    assert errors == [lines[-1]], completed.stderr[-3000:]
    assert lines[-1].startswith(f"lambda-zip: {kind} error: "), lines[-1]
    return lines[-1]


def function_project(root: Path, pyproject: str, files: dict[str, str] | None = None) -> Path:
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "handler.py").write_text("X = 1\n")
    (root / "pyproject.toml").write_text(pyproject)
    for name, text in (files or {}).items():
        (root / name).write_text(text)
    return root


def build_argv(root: Path, command: str = "build") -> list[str]:
    return [command, "--project", str(root), "--python-version", "3.12",
            "--python", str(support.interpreter("3.12"))]  # fmt: skip


NESTED = "a = " + "[" * DEEP + "]" * DEEP + "\n"


@pytest.mark.parametrize("command", ["build", "verify"])
def test_a_pyproject_nested_100000_deep(tmp_path: Path, command: str) -> None:
    root = function_project(tmp_path / "p", NESTED)
    line = refused(run(*build_argv(root, command), cwd=tmp_path), "configuration")
    assert "is not valid TOML (its arrays or inline tables are nested too deeply" in line
    assert not (root / "dist").exists()


def test_a_poetry_lock_nested_100000_deep(tmp_path: Path) -> None:
    root = function_project(tmp_path / "p", "", {"poetry.lock": NESTED})
    line = refused(run(*build_argv(root), cwd=tmp_path), "requirements")
    assert "poetry.lock is not valid TOML (its arrays or inline tables are nested" in line


@pytest.mark.parametrize(
    ("pyproject", "expected"),
    [
        (
            '[tool.lambda-zip]\nsource = {"/etc/ssl" = 1}\n',
            "source = {'/etc/ssl': 1} must be a string or a list",
        ),
        ("[tool.lambda-zip]\nexclude = 5\n", "exclude = 5 must be a string or a list of strings"),
        ('[tool.lambda-zip]\noutput = ["a", "b"]\n', "output = ['a', 'b'] must be a string"),
        ('[tool.lambda-zip]\nsplit = "yes"\n', "split = 'yes' must be true or false"),
        ("tool = 5\n", "[tool.lambda-zip] in"),
    ],
    ids=["source-table", "exclude-number", "output-list", "split-string", "tool-number"],
)
def test_pyproject_settings_of_the_wrong_type(
    tmp_path: Path, pyproject: str, expected: str
) -> None:
    """A table where a path is due used to pass the inside-the-project check (made on strings)
    and name /etc/ssl as a source; a number where a list is due was a TypeError."""
    root = function_project(tmp_path / "p", pyproject)
    line = refused(run(*build_argv(root), cwd=tmp_path), "configuration")
    assert expected in line


def test_a_project_table_of_the_wrong_type_declares_no_project(tmp_path: Path) -> None:
    """`project = 5` was an AttributeError traceback; it declares nothing to install."""
    root = function_project(tmp_path / "p", "project = 5\n")
    completed = run(*build_argv(root), "--output", str(tmp_path / "out.zip"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr


POETRY_LOCKS = {
    "name-number": '[[package]]\nname = 5\nversion = [1]\ngroups = ["main"]\n',
    "files-number": '[[package]]\nname = "six"\nversion = "1.16.0"\ngroups = ["main"]\nfiles = 5\n',
    "groups-number": '[[package]]\nname = "six"\nversion = "1.16.0"\ngroups = 5\n',
    "package-of-numbers": "package = [5]\n",
}


@pytest.mark.parametrize("lock", list(POETRY_LOCKS.values()), ids=list(POETRY_LOCKS))
def test_poetry_locks_of_the_wrong_shape(tmp_path: Path, lock: str) -> None:
    root = function_project(tmp_path / "p", "", {"poetry.lock": lock})
    line = refused(run(*build_argv(root), cwd=tmp_path), "requirements")
    assert "does not have the layout of a poetry.lock" in line


def test_a_uv_lock_of_the_wrong_shape(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "t"\nversion = "1"\ndependencies = ["six"]\n'
    lock = 'version = 1\n[[package]]\nname = "t"\nsource = { virtual = "." }\nmetadata = 5\n'
    root = function_project(tmp_path / "p", pyproject, {"uv.lock": lock})
    line = refused(run(*build_argv(root), cwd=tmp_path), "requirements")
    assert "uv.lock is out of date with pyproject.toml" in line


# --- manifests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A zip and its manifest, from a real build of a project without dependencies."""
    root = function_project(tmp_path_factory.mktemp("built") / "p", "")
    output = root.parent / "dist" / "lambda.zip"
    support.build_project(root, output)
    return output, output.with_name("lambda.zip.manifest.json")


def manifest_with(built: tuple[Path, Path], change: str) -> str:
    """The real manifest with one field made hostile, as JSON text."""
    document = json.loads(built[1].read_text())
    entry = next(e for e in document["entries"] if e["sha256"])
    if change == "infinity-size":
        entry["size"] = float("inf")
    elif change == "nan-size":
        entry["size"] = float("nan")
    elif change == "string-size":
        document["archive"]["size"] = str(document["archive"]["size"])
    elif change == "bad-hex":
        document["archive"]["sha256"] = "zz" + document["archive"]["sha256"][2:]
    elif change == "negative-size":
        entry["size"] = -1
    elif change == "listed-twice":
        document["entries"].append(dict(entry))
    elif change == "entry-not-object":
        document["entries"].append("x")
    text = json.dumps(document)
    if change == "nested-v2":
        return text[:-1] + ', "x": ' + "[" * DEEP + "]" * DEEP + "}"
    if change == "nested-v1":
        text = text.replace('"lambda-zip/manifest/2"', '"lambda-zip/manifest/1"')
        return text[:-1] + ', "x": ' + "[" * 900 + "]" * 900 + "}"
    return text


HOSTILE = {
    "infinity-size": "Infinity is not a JSON number",
    "nan-size": "NaN is not a JSON number",
    "string-size": "archive.size is '",
    "bad-hex": "archive.sha256 is 'zz",
    "negative-size": ".size is -1, not a whole number of bytes",
    "listed-twice": "is listed twice",
    "entry-not-object": "is 'x', not an object",
    "nested-v2": "it is nested too deeply",
    "nested-v1": "it is nested too deeply",
}


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
@pytest.mark.parametrize("change", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_manifests_for_diff(
    tmp_path: Path, built: tuple[Path, Path], change: str, fmt: str
) -> None:
    manifest = tmp_path / "baseline.json"
    manifest.write_text(manifest_with(built, change))
    for old, new in ((manifest, built[0]), (built[0], manifest)):
        completed = run("diff", str(old), str(new), "--format", fmt, cwd=tmp_path)
        line = refused(completed, "archive")
        assert f"{manifest} is not a usable lambda-zip manifest: " in line
        assert HOSTILE[change] in line, line


def test_a_deeply_nested_json_given_to_inspect(tmp_path: Path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text('{"x": ' + "[" * DEEP + "]" * DEEP + "}")
    line = refused(run("inspect", str(nested), cwd=tmp_path), "archive")
    assert "cannot be read as a zip" in line


def test_a_manifest_that_claims_the_zips_hash_but_lists_other_files(
    tmp_path: Path, built: tuple[Path, Path]
) -> None:
    """Before, diff took the claimed sha256 at its word: exit 0, "identical bytes"."""
    zip_path, honest = built
    document = json.loads(honest.read_text())
    entry = next(e for e in document["entries"] if e["path"] == "app/handler.py")
    entry["sha256"] = "0" * 64  # the handler swapped for something else, the hash kept
    lying = tmp_path / "lying.json"
    lying.write_text(json.dumps(document))
    line = refused(run("diff", str(lying), str(zip_path), cwd=tmp_path), "archive")
    assert f"{lying} is not a usable lambda-zip manifest: it gives the sha256 " in line
    assert "but lists other files ('app/handler.py' differs)" in line
    # The control: the honest manifest of the same zip is identical to it.
    completed = run("diff", str(honest), str(zip_path), cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_two_manifests_of_one_hash_that_list_other_files(
    tmp_path: Path, built: tuple[Path, Path]
) -> None:
    document = json.loads(built[1].read_text())
    document["entries"] = [e for e in document["entries"] if e["path"] != "app/handler.py"]
    shorter = tmp_path / "shorter.json"
    shorter.write_text(json.dumps(document))
    line = refused(run("diff", str(built[1]), str(shorter), cwd=tmp_path), "archive")
    assert "'app/handler.py' is only in the old side" in line


def test_a_zip_with_itself_is_still_identical(tmp_path: Path) -> None:
    """Two zips of one hash hold the same files by construction: no manifest to doubt."""
    zip_path = zipcraft.deterministic(tmp_path / "a.zip", {"a.py": b"a"})
    completed = run("diff", str(zip_path), str(zip_path), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr

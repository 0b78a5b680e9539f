"""One command builds every function a deploy configuration declares, as declared.

A SAM project built from its root with no flags: each function's code directory, dependency
file, runtime and architecture come from `template.yaml`; the index lists them; a wrong
declaration or a missing handler fails the whole build before any output is touched.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

import support

EXAMPLE = Path(__file__).parents[2] / "examples" / "sam-app"


def _names(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        return set(archive.namelist())


def _manifest(path: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads(path.read_text())
    return document


@pytest.fixture
def sam_app(tmp_path: Path) -> Path:
    project = tmp_path / "sam-app"
    shutil.copytree(EXAMPLE, project)
    return project


def test_a_sam_project_builds_every_function_as_declared_with_no_flags(sam_app: Path) -> None:
    built = support.run_cli("build", "--project", str(sam_app))
    assert built.returncode == 0, built.stderr
    index = json.loads((sam_app / "dist" / "lambda-zip.json").read_text())
    functions = {row["name"]: row for row in index["functions"]}
    assert sorted(functions) == ["HelloFunction", "OrdersFunction"]
    hello, orders = functions["HelloFunction"], functions["OrdersFunction"]
    # Globals give the runtime to both; OrdersFunction overrides the architecture.
    assert (hello["runtime"], hello["architecture"]) == ("python3.12", "x86_64")
    assert (orders["runtime"], orders["architecture"]) == ("python3.12", "arm64")
    assert hello["declared-in"].startswith("template.yaml:")
    hello_names = _names(sam_app / hello["zip"])
    orders_names = _names(sam_app / orders["zip"])
    # Each CodeUri is the root of its own zip, with its own requirements.txt installed.
    assert {"app.py", "__pycache__/app.cpython-312.pyc", "requests/__init__.py"} <= hello_names
    assert {"handler.py", "dateutil/parser/__init__.py", "six.py"} <= orders_names
    assert not any(name.startswith("requests/") for name in orders_names)
    for names in (hello_names, orders_names):
        assert "requirements.txt" not in names
        assert not any(n.split("/")[0] in {"events", "tests", "template.yaml"} for n in names)
    target = _manifest(sam_app / orders["manifest"])["target"]
    assert isinstance(target, dict) and target["architecture"] == "arm64"
    # The text output names each function and where the index is.
    assert "function OrdersFunction (python3.12 arm64, handler handler.handle)" in built.stdout


def test_function_picks_one_and_an_unknown_name_lists_the_declared(sam_app: Path) -> None:
    one = support.run_cli("build", "--project", str(sam_app), "--function", "OrdersFunction")
    assert one.returncode == 0, one.stderr
    assert sorted(p.name for p in (sam_app / "dist").glob("*.zip")) == ["OrdersFunction.zip"]
    unknown = support.run_cli("build", "--project", str(sam_app), "--function", "Nope")
    assert unknown.returncode == 2
    assert "HelloFunction" in unknown.stderr and "OrdersFunction" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_a_missing_handler_fails_every_function_and_leaves_the_outputs(sam_app: Path) -> None:
    first = support.run_cli("build", "--project", str(sam_app))
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (sam_app / "dist").iterdir()}
    # HelloFunction is built first and succeeds; OrdersFunction's handler is gone.
    (sam_app / "orders" / "handler.py").write_text("def other(event, context):\n    return 1\n")
    (sam_app / "hello" / "app.py").write_text("def lambda_handler(event, context):\n    return 2\n")
    failed = support.run_cli("build", "--project", str(sam_app))
    assert failed.returncode == 2
    assert "template.yaml:" in failed.stderr and "defines no handle" in failed.stderr
    assert "Runtime.HandlerNotFound" in failed.stderr
    after = {p.name: p.read_bytes() for p in (sam_app / "dist").iterdir()}
    assert after == before  # HelloFunction's new zip was not moved into place either


def test_a_flag_that_contradicts_the_declared_runtime_is_an_error(sam_app: Path) -> None:
    refused = support.run_cli("build", "--project", str(sam_app), "--python-version", "3.13")
    assert refused.returncode == 2
    assert "declares python3.12" in refused.stderr and "template.yaml:" in refused.stderr
    assert not (sam_app / "dist").exists()


def test_a_requires_python_the_declared_runtime_is_outside_of_is_an_error(sam_app: Path) -> None:
    (sam_app / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n'
                                            'requires-python = ">=3.13"\n')  # fmt: skip
    refused = support.run_cli("build", "--project", str(sam_app))
    assert refused.returncode == 2
    assert "python version 3.12 is outside the project's [project] requires-python" in (
        refused.stderr
    )
    assert "declared for HelloFunction in template.yaml:" in refused.stderr


def test_verify_proves_every_function(sam_app: Path) -> None:
    verified = support.run_cli("verify", "--project", str(sam_app), "--json")
    assert verified.returncode == 0, verified.stderr
    document = json.loads(verified.stdout)
    assert document["reproducible"] is True
    for row in document["functions"]:
        assert row["reproducible"] is True and row["rebuild-sha256"] == row["sha256"]
    index = json.loads((sam_app / "dist" / "lambda-zip.json").read_text())
    assert {r["name"]: r["sha256"] for r in index["functions"]} == {
        r["name"]: r["sha256"] for r in document["functions"]
    }


def test_the_same_commit_gives_the_same_zips_as_building_each_by_hand(sam_app: Path) -> None:
    """The declared build equals the hand-written one it replaces: --source, --requirements,
    --python-version and --architecture of the same function give the same bytes."""
    assert support.run_cli("build", "--project", str(sam_app)).returncode == 0
    by_hand = sam_app.parent / "by-hand.zip"
    manual = support.run_cli(
        "build", "--project", str(sam_app), "--source", str(sam_app / "orders"),
        "--requirements", str(sam_app / "orders" / "requirements.txt"),
        "--python-version", "3.12", "--architecture", "arm64",
        "--exclude", "requirements.txt", "--output", str(by_hand),
    )  # fmt: skip
    assert manual.returncode == 0, manual.stderr
    declared = sam_app / "dist" / "OrdersFunction.zip"
    with zipfile.ZipFile(declared) as a, zipfile.ZipFile(by_hand) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        assert all(a.read(n) == b.read(n) for n in a.namelist())


def test_a_check_that_fails_moves_nothing_into_place(sam_app: Path) -> None:
    """verify compares while every zip is staged: a rebuild that fails (functions.
    build_functions's `check` raising) leaves the previous zips beside the previous index."""
    from lambda_zip_action.build import build
    from lambda_zip_action.functions import Built, build_functions, plan
    from lambda_zip_action.proof.verify import RebuildError

    assert support.run_cli("build", "--project", str(sam_app)).returncode == 0
    before = {p.name: p.read_bytes() for p in (sam_app / "dist").iterdir()}
    (sam_app / "hello" / "app.py").write_text("def lambda_handler(event, context):\n    return 2\n")
    the_plan = plan(sam_app, {}, None)
    assert the_plan is not None
    seen: list[Path] = []

    def check(staged: list[Built]) -> list[Built]:
        seen.extend(one.result.output for one in staged)
        raise RebuildError("the verifying rebuild failed")

    with pytest.raises(RebuildError):
        build_functions(the_plan, lambda config: (build(config, support.tool_env()), None),
                        check=check)  # fmt: skip
    assert [p.name for p in seen] == ["HelloFunction.zip", "OrdersFunction.zip"]
    assert all(".lambda-zip-staging-" in str(p) for p in seen)
    assert {p.name: p.read_bytes() for p in (sam_app / "dist").iterdir()} == before


def test_building_one_function_keeps_the_others_in_the_index(sam_app: Path) -> None:
    """--function: the index still names every declared function, those not built as such,
    with no zip or hash; nothing comes from the previous index, which a pull request can
    commit (listing a committed zip as built and reproducible)."""
    assert support.run_cli("build", "--project", str(sam_app)).returncode == 0
    index = sam_app / "dist" / "lambda-zip.json"
    planted = json.loads(index.read_text())
    for row in planted["functions"]:
        row["reproducible"], row["note"] = True, "[approve](https://example.invalid) @org/admins"
    index.write_text(json.dumps(planted))
    one = support.run_cli("build", "--project", str(sam_app), "--function", "OrdersFunction")
    assert one.returncode == 0, one.stderr
    rows = {r["name"]: r for r in json.loads(index.read_text())["functions"]}
    assert list(rows) == ["HelloFunction", "OrdersFunction"]
    assert rows["OrdersFunction"]["built"] is True and "note" not in rows["OrdersFunction"]
    hello = rows["HelloFunction"]
    assert hello["built"] is False and hello["handler"] == "app.lambda_handler"
    assert not {"zip", "sha256", "reproducible", "note"} & set(hello)


def test_functions_says_what_is_wrong_with_the_project(tmp_path: Path, sam_app: Path) -> None:
    """Each was "declares no function" before: a project that does not exist, a pyproject that
    does not parse, a template.yaml of no function."""
    broken, empty = tmp_path / "broken", tmp_path / "empty"
    broken.mkdir()
    (broken / "pyproject.toml").write_text("x = [\n")
    empty.mkdir()
    (empty / "template.yaml").write_text("")
    for project, words in (
        (tmp_path / "nope", "is not a directory (it does not exist)"),
        (broken, "pyproject.toml is not valid TOML"),
        (empty, "template.yaml declares no Lambda function in Python"),
    ):
        said = support.run_cli("functions", "--project", str(project))
        assert said.returncode == 2 and words in said.stderr, said.stderr
        assert "Traceback" not in said.stderr
    # --deploy-config as a shell user types it, relative to the working directory; verify's
    # rebuild, run elsewhere, reads the same file.
    verified = support.run_cli("verify", "--project", "sam-app", "--deploy-config",
                               "sam-app/template.yaml", "--json", cwd=sam_app.parent)  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["reproducible"] is True

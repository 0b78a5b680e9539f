"""Common layouts build with no flags, the target Python comes from the project, secrets stay.

Each test is one stumble a new user met: a top-level `app.py` + `requirements.txt` project
with `.env`, `.venv`, `tests/` and `dist/` beside it; a `uv init --lib` project pinned to
3.12; the default Python that ignored the project; a credential shipped without a word.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lambda_zip_action.project import _poetry_constraint, target_python

import support


def _names(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        return set(archive.namelist())


def _build(project: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """A newcomer's command: no --source, no --python-version; --python only because the
    interpreters here are not on PATH."""
    return support.run_cli("build", "--project", str(project), "--json", *options)


@pytest.fixture
def top_level(tmp_path: Path) -> Path:
    project = tmp_path / "function"
    project.mkdir()
    (project / "app.py").write_text("import idna\n\n\ndef handler(e, c):\n    return 1\n")
    (project / "helpers").mkdir()
    (project / "helpers" / "__init__.py").write_text("X = 1\n")
    (project / "requirements.txt").write_text("idna==3.10\n")
    (project / ".python-version").write_text("3.12\n")
    (project / ".env").write_text("DATABASE_PASSWORD=hunter2\n")
    (project / "tests").mkdir()
    (project / "tests" / "test_app.py").write_text("def test_app():\n    pass\n")
    (project / ".pytest_cache").mkdir()
    (project / ".pytest_cache" / "README.md").write_text("cache\n")
    (project / "dist").mkdir()
    (project / "dist" / "old.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    python = support.interpreter("3.12")
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(project / ".venv")],
                   check=True)  # fmt: skip
    return project


def test_a_top_level_project_builds_with_no_flags(top_level: Path) -> None:
    """With .env, .venv, tests/, dist/ and caches beside the code: none of them ships."""
    completed = _build(top_level)
    assert completed.returncode == 0, completed.stderr
    assert "top-level layout" in completed.stderr
    # The dotenv file at the top is left out, and said so: never shipped silently.
    assert ".env left out too (local settings, often secrets: --include .env to ship it)" in (
        completed.stderr
    )
    assert "python3.12: from .python-version" in completed.stderr
    names = _names(top_level / "dist" / "lambda.zip")
    assert {"app.py", "helpers/__init__.py", "idna/__init__.py"} <= names
    assert "__pycache__/app.cpython-312.pyc" in names
    shipped_tops = {name.split("/")[0] for name in names}
    for never in (".venv", "tests", "dist", ".pytest_cache", "requirements.txt",
                  ".python-version", ".env"):  # fmt: skip
        assert never not in shipped_tops, never
    # A second build beside the first zip: the output directory is never packed.
    again = _build(top_level)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["sha256"] == json.loads(completed.stdout)["sha256"]
    # --source . is the same layout, not an error about the output lying inside it.
    dotted = support.run_cli(
        "build", "--project", str(top_level), "--source", str(top_level), "--json",
        "--output", str(top_level / "dist" / "dotted.zip"),
    )  # fmt: skip
    assert dotted.returncode == 0, dotted.stderr
    assert _names(top_level / "dist" / "dotted.zip") == names


def test_a_dotenv_file_below_the_top_is_refused(top_level: Path) -> None:
    """Only the project directory's own dotenv is local settings; one among the code is a
    secret about to ship, and the build stops."""
    (top_level / "helpers" / ".env").write_text("API_KEY=abc\n")
    completed = _build(top_level)
    assert completed.returncode == 2, completed.stderr
    message = completed.stderr.strip().splitlines()[-1]
    assert "helpers/.env looks like a credential" in message
    assert "--include 'helpers/.env'" in message
    assert "Traceback" not in completed.stderr
    assert not (top_level / "dist" / "lambda.zip").exists()


def test_defaults_can_be_overridden(top_level: Path) -> None:
    completed = _build(top_level, "--include", ".env", "--include", "tests")
    assert completed.returncode == 0, completed.stderr
    names = _names(top_level / "dist" / "lambda.zip")
    assert ".env" in names and "tests/test_app.py" in names
    assert ".venv/pyvenv.cfg" not in names


def test_a_private_key_in_src_is_refused_whatever_its_name(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "src").mkdir(parents=True)
    (project / "src" / "handler.py").write_text("X = 1\n")
    (project / "src" / "signing.txt").write_text(
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n"
    )
    (project / "src" / "cacert.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n")
    completed = _build(project, "--python-version", "3.12")
    assert completed.returncode == 2
    assert "signing.txt looks like a credential" in completed.stderr
    assert "cacert.pem" not in completed.stderr


def test_a_uv_lib_project_targets_its_python(tmp_path: Path) -> None:
    """`uv init --lib` with requires-python >=3.12,<3.13: no flags gave "No CPython 3.14"."""
    project = tmp_path / "lib"
    (project / "src" / "lib").mkdir(parents=True)
    (project / "src" / "lib" / "__init__.py").write_text("def handler(e, c):\n    return 1\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "lib"\nversion = "0.1.0"\nrequires-python = ">=3.12,<3.13"\n'
        "dependencies = []\n"
    )
    (project / ".python-version").write_text("3.12\n")
    completed = _build(project)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["python-version"] == "3.12"
    assert "src layout" in completed.stderr
    assert "lib/__pycache__/__init__.cpython-312.pyc" in _names(project / "dist" / "lambda.zip")


def test_the_missing_interpreter_error_says_how_the_version_was_chosen(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "src").mkdir(parents=True)
    (project / "src" / "handler.py").write_text("X = 1\n")
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\n')
    completed = _build(project)
    assert completed.returncode == 2
    message = completed.stderr.strip().splitlines()[-1]
    assert "No CPython 3.14 interpreter found" in message
    assert "the newest Lambda runtime, as the project sets no python-version" in message
    assert "--python-version" in message


def test_a_setting_outside_requires_python_is_an_error(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "src").mkdir(parents=True)
    (project / "src" / "handler.py").write_text("X = 1\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.12"\n'
    )
    completed = _build(project, "--python-version", "3.11")
    assert completed.returncode == 2
    assert "python version 3.11 is outside the project's [project] requires-python" in (
        completed.stderr
    )


def test_no_sources_says_where_it_looked(tmp_path: Path) -> None:
    project = tmp_path / "empty"
    project.mkdir()
    (project / "requirements.txt").write_text("idna==3.10\n")
    completed = _build(project, "--python-version", "3.12")
    assert completed.returncode == 2
    assert "no src/ directory and no Python module" in completed.stderr
    assert "--source DIR" in completed.stderr


@pytest.mark.parametrize(
    ("requires", "pinned", "expected", "why"),
    [
        (None, None, "3.14", "the newest Lambda runtime, as the project sets no"),
        (">=3.12", None, "3.14", "the newest Lambda runtime inside"),
        (">=3.12", "3.12", "3.12", "from .python-version, inside"),
        (">=3.12,<3.13", "3.11", "3.12", "3.11 is outside it"),
        (">=3.9", "3.9", "3.14", "3.9 is not a Lambda runtime this tool supports"),
        ("~=3.11.4", None, "3.11", "inside [project] requires-python"),
        (None, "3.13.0", "3.13", "from .python-version"),
    ],
)
def test_target_python_from_the_project(
    tmp_path: Path, requires: str | None, pinned: str | None, expected: str, why: str
) -> None:
    text = '[project]\nname = "p"\nversion = "0"\n'
    if requires is not None:
        text += f'requires-python = "{requires}"\n'
    (tmp_path / "pyproject.toml").write_text(text)
    if pinned is not None:
        (tmp_path / ".python-version").write_text(pinned + "\n")
    problems: list[str] = []
    choice = target_python(tmp_path, None, problems)
    assert (choice.value, problems) == (expected, [])
    assert why in choice.reason, choice.reason


def test_poetry_python_constraints() -> None:
    assert _poetry_constraint("^3.11") == ">=3.11,<4"
    assert _poetry_constraint("~3.12") == ">=3.12,<3.13"
    assert _poetry_constraint(">=3.10 <3.14") == ">=3.10,<3.14"
    (tmp_free,) = [target_python(Path("/nonexistent"), "3.12", [])]
    assert tmp_free.value == "3.12"


def test_a_uv_lock_out_of_date_with_pyproject_is_refused(tmp_path: Path) -> None:
    """A pin changed in pyproject.toml and not locked: the zip would ship the lock's version."""
    project = tmp_path / "p"
    shutil.copytree(support.PROJECTS / "uvlock", project)
    assert _build(project, "--python-version", "3.12").returncode == 0  # the lock as committed
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("markupsafe==3.0.2", "markupsafe==2.1.5"))
    completed = _build(project, "--python-version", "3.12")
    assert completed.returncode == 2, completed.stderr
    message = completed.stderr.strip().splitlines()[-1]
    assert "uv.lock is out of date with pyproject.toml" in message
    assert "asks for markupsafe==2.1.5, the lock was made for markupsafe==3.0.2" in message
    assert "Run `uv lock`" in message and "Traceback" not in completed.stderr
    pyproject.write_text(pyproject.read_text().replace('"markupsafe==2.1.5",\n', ""))
    dropped = _build(project, "--python-version", "3.12")
    assert "markupsafe is in the lock, not in pyproject.toml" in dropped.stderr


def test_requirements_that_pin_only_the_top_warn_of_drift(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (project / "requirements.txt").write_text("python-dateutil==2.9.0.post0\n")
    completed = _build(project, "--python-version", "3.12")
    assert completed.returncode == 0, completed.stderr
    warnings = json.loads(completed.stdout)["warnings"]
    assert any(
        "does not pin 1 of the distributions installed (six " in w and "resolve afresh" in w
        for w in warnings
    ), warnings
    # Pinned all the way down: no warning.
    (project / "requirements.txt").write_text("python-dateutil==2.9.0.post0\nsix==1.17.0\n")
    pinned = _build(project, "--python-version", "3.12")
    assert not any("does not pin" in w for w in json.loads(pinned.stdout)["warnings"])


def test_a_syntax_error_in_your_code_names_the_file_and_line(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "pkg").mkdir(parents=True)
    (project / "app.py").write_text("import json\n\nCONFIG = {\n")
    (project / "pkg" / "__init__.py").write_text("")
    (project / "pkg" / "mod.py").write_text("print 'hi'\n")
    (project / "requirements.txt").write_text("")
    completed = _build(project, "--python-version", "3.12")
    assert completed.returncode == 2, completed.stderr
    message = completed.stderr.strip().splitlines()[-1]
    assert "app.py: line 3: SyntaxError: '{' was never closed" in message
    assert "pkg/mod.py: line 1: SyntaxError: Missing parentheses in call to 'print'" in message
    assert "?. " not in message and "Traceback" not in completed.stderr


def test_a_top_level_project_keeps_its_inputs_and_local_settings_out(top_level: Path) -> None:
    """A requirements list of another name (given by --requirements) and direnv's .envrc at
    the top are the build's inputs and local settings, not modules: neither ships."""
    (top_level / "requirements.txt").rename(top_level / "deps.txt")
    (top_level / ".envrc").write_text("export AWS_PROFILE=prod\n")
    completed = _build(top_level, "--requirements", str(top_level / "deps.txt"))
    assert completed.returncode == 0, completed.stderr
    assert ".env, .envrc left out too" in completed.stderr
    names = _names(top_level / "dist" / "lambda.zip")
    assert "deps.txt" not in names and ".envrc" not in names and ".env" not in names
    assert "app.py" in names and "idna/__init__.py" in names


def test_a_lock_cannot_drive_the_terminal_through_the_freshness_error(tmp_path: Path) -> None:
    """The lock is the pull request's: a name in it reaches the error, escaped, never raw."""
    project = tmp_path / "p"
    shutil.copytree(support.PROJECTS / "uvlock", project)
    lock = project / "uv.lock"
    planted = '{ name = "x\\u001b]0;owned\\u0007\\u001b[2J", specifier = "==1" },\n'
    lock.write_text(
        lock.read_text().replace("requires-dist = [\n", "requires-dist = [\n    " + planted, 1)
    )
    # The name reaches the message as the lock spells it...
    from lambda_zip_action.errors import RequirementsError
    from lambda_zip_action.requirements import _toml
    from lambda_zip_action.uv_lock import check_uv_lock_current

    with pytest.raises(RequirementsError) as raised:
        check_uv_lock_current(lock, lock.read_bytes(), _toml)
    assert "\x1b]0;owned" in raised.value.message
    # ...and the terminal never receives it raw.
    completed = _build(project, "--python-version", "3.12")
    assert completed.returncode == 2, completed.stderr
    assert "is in the lock, not in pyproject.toml" in completed.stderr
    assert "\x1b" not in completed.stderr and "\x07" not in completed.stderr
    assert "\\x1b" in completed.stderr  # shown, not sent

"""Finding 1: the Action's Python never imports anything from the workspace.

A pull request controls the workspace. Modules planted there (a `lambda_zip_action/` package,
`requests.py`, `actions_toolkit.py`, `sitecustomize.py`, `usercustomize.py`, a `.pth`) must not
run inside the action, where the token is in the environment. The old command line
(`python -m lambda_zip_action action` from the workspace, the tool on PYTHONPATH) is run first
to show that the plant works; then the run step exactly as action.yml has it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import support

PLANTED = ("lambda_zip_action", "requests", "actions_toolkit", "sitecustomize", "usercustomize")


def plant(directory: Path, markers: Path) -> None:
    """Modules that leave a file in `markers` when imported."""

    def code(name: str) -> str:
        return (
            "import pathlib\n"
            f"pathlib.Path({str(markers)!r}, {name + '-' + directory.name!r}).write_text('ran')\n"
        )

    package = directory / "lambda_zip_action"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(code("lambda_zip_action"))
    (package / "__main__.py").write_text(code("lambda_zip_action.__main__"))
    for name in PLANTED[1:]:
        (directory / f"{name}.py").write_text(code(name))
    (directory / "zzz-planted.pth").write_text(
        f"import pathlib; pathlib.Path({str(markers)!r}, 'pth-{directory.name}')"
        ".write_text('ran')\n"
    )


def workspace(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "workspace"
    project = root / "fn"
    (project / "src" / "app").mkdir(parents=True)
    (project / "src" / "app" / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    (project / "pyproject.toml").write_text('[project]\nname = "fn"\nversion = "1"\n')
    markers = tmp_path / "markers"
    markers.mkdir()
    plant(root, markers)
    plant(project, markers)
    return root, markers


def action_env(root: Path, tmp_path: Path) -> dict[str, str]:
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    return support.tool_env(
        GITHUB_WORKSPACE=str(root),
        RUNNER_TEMP=str(runner_temp),
        GITHUB_ACTION_PATH=str(support.REPO_ROOT),
        GITHUB_OUTPUT=str(tmp_path / "github-output"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary"),
        GITHUB_EVENT_NAME="push",
        GITHUB_ACTIONS="true",
        LAMBDA_ZIP_PYTHON=sys.executable,
        LAMBDA_ZIP_SRC=str(support.REPO_ROOT / "src"),
        INPUT_WORKING_DIRECTORY="fn",
        INPUT_PYTHON_VERSION="3.12",
        INPUT_VERIFY="false",
        INPUT_COMMENT="false",
        INPUT_GITHUB_TOKEN="ghs_FAKEtokenFORtheISOLATIONtest000000000",
        PYTHONPATH=None,
        PYTHONDONTWRITEBYTECODE="1",
        # The interpreter for bytecode, found on PATH as a runner with setup-python has it.
        PATH=f"{support.interpreter('3.12').parent}{os.pathsep}{os.environ['PATH']}",
    )


def run_step_script() -> str:
    from ruamel.yaml import YAML

    action = YAML(typ="safe").load((support.REPO_ROOT / "action.yml").read_text())
    [step] = [s for s in action["runs"]["steps"] if s["id"] == "run"]
    assert "LAMBDA_ZIP_SRC" in step["env"] and "PYTHONPATH" not in step["env"]
    return str(step["run"])


def test_the_old_command_line_imports_the_planted_package(tmp_path: Path) -> None:
    root, markers = workspace(tmp_path)
    env = action_env(root, tmp_path)
    env["PYTHONPATH"] = str(support.REPO_ROOT / "src")
    subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "action"],
        cwd=root, env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert (markers / "lambda_zip_action-workspace").exists(), "the attack should work here"


def test_the_run_step_of_action_yml_imports_nothing_from_the_workspace(tmp_path: Path) -> None:
    root, markers = workspace(tmp_path)
    env = action_env(root, tmp_path)
    completed = subprocess.run(
        ["bash", "-e", "-c", run_step_script()],
        cwd=root, env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert sorted(p.name for p in markers.iterdir()) == []
    assert (root / "fn" / "dist" / "lambda.zip").is_file()
    assert "sha256<<" in (tmp_path / "github-output").read_text()


def test_the_verifying_rebuild_starts_isolated_too(tmp_path: Path) -> None:
    root, markers = workspace(tmp_path)
    env = action_env(root, tmp_path)
    env["INPUT_VERIFY"] = "true"
    completed = subprocess.run(
        ["bash", "-e", "-c", run_step_script()],
        cwd=root, env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert sorted(p.name for p in markers.iterdir()) == []
    assert "reproducible<<" in (tmp_path / "github-output").read_text()


def test_the_setup_step_leaves_the_workspace_first() -> None:
    from ruamel.yaml import YAML

    action = YAML(typ="safe").load((support.REPO_ROOT / "action.yml").read_text())
    [setup] = [s for s in action["runs"]["steps"] if s["id"] == "setup"]
    script = str(setup["run"])
    first = [line.strip() for line in script.splitlines() if line.strip() and "#" not in line]
    assert first[1] == 'cd "$RUNNER_TEMP"'
    assert "python3 -I -m venv" in script and "--no-config" in script
    assert shutil.which("bash")

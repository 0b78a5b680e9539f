"""The action's setup step on a runner without uv, run as action.yml has it.

Its `run:` script is taken from action.yml and run by bash with the variables the runner gives a
composite step (RUNNER_TEMP, GITHUB_ACTION_PATH, GITHUB_OUTPUT) and a PATH holding a Python but
no uv, as a self-hosted runner or a container job may be: pip installs the hash-locked uv wheel
alone, and that uv installs every other locked wheel into the private venv, from the registry.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import support


def _setup_script() -> str:
    action = YAML(typ="safe").load((support.REPO_ROOT / "action.yml").read_text())
    [setup] = [step for step in action["runs"]["steps"] if step.get("id") == "setup"]
    script: str = setup["run"]
    return script


def test_without_uv_on_path_the_venv_is_installed_by_the_locked_uv(tmp_path: Path) -> None:
    python = Path("/usr/bin/python3")
    if not python.exists():
        pytest.fail("/usr/bin/python3 is missing (python3 and python3-venv)", pytrace=False)
    path = "/usr/bin:/bin"
    assert shutil.which("uv", path=path) is None  # the case under test: no uv on PATH
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    output = tmp_path / "github-output"
    env = support.tool_env(
        PATH=path,
        RUNNER_TEMP=str(runner_temp),
        GITHUB_ACTION_PATH=str(support.REPO_ROOT),
        GITHUB_OUTPUT=str(output),
    )
    completed = subprocess.run(
        ["bash", "-c", _setup_script()], env=env, cwd=tmp_path, capture_output=True, text=True,
        check=False, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [line] = output.read_text().splitlines()
    venv_python = Path(line.removeprefix("python="))
    venv = venv_python.parent.parent
    # uv came from the lock (its version is the locked one) and installed the rest: uv marks
    # what it installs with INSTALLER "uv", pip with "pip".
    locked = (support.REPO_ROOT / "requirements" / "action.txt").read_text()
    [uv_pin] = [line.split()[0] for line in locked.splitlines() if line.startswith("uv==")]
    version = subprocess.run([str(venv / "bin" / "uv"), "--version"], capture_output=True,
                             text=True, check=True).stdout.split()[1]  # fmt: skip
    assert uv_pin == f"uv=={version}"
    installers = {
        record.parent.name.split("-")[0].lower(): record.read_text().strip()
        for record in venv.glob("lib/python3*/site-packages/*.dist-info/INSTALLER")
    }
    assert installers.pop("uv") == "pip"
    for bundled in ("pip", "setuptools"):  # the venv's own, from ensurepip
        installers.pop(bundled, None)
    assert installers and set(installers.values()) == {"uv"}, installers
    imported = subprocess.run(
        [str(venv_python), "-I", "-c", "import actions_toolkit, yaml, hcl2; print('ok')"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert imported.stdout.strip() == "ok", imported.stderr

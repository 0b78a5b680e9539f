"""Finding 3: build scripts of dependencies see no secrets, are named, and can be refused.

The dependency here is a local project whose build backend (in-tree, so nothing is downloaded)
records the environment it runs in: exactly what a hostile sdist's setup.py could read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_zip_action.install import installer_environment

import support

SECRETS = {
    "GITHUB_TOKEN": "ghs_FAKEsecretFORtheBUILDscript0000000000",
    "AWS_SECRET_ACCESS_KEY": "FAKEawsSECRETkey/for+the+build+script00",
    "AWS_SESSION_TOKEN": "FAKEsessionTOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "FAKEoidcREQUESTtoken",
    "NPM_TOKEN": "FAKEnpm",
    "INPUT_GITHUB_TOKEN": "ghs_FAKEinputTOKEN",
}

BACKEND = """\
import base64, hashlib, json, os, pathlib, zipfile

def _record():
    pathlib.Path({marker!r}).write_text(json.dumps(dict(os.environ)))

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _record()
    name = "evil-1.0-py3-none-any.whl"
    files = {{
        "evil/__init__.py": b"VALUE = 1\\n",
        "evil-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: evil\\nVersion: 1.0\\n",
        "evil-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: hostile\\n"
        b"Root-Is-Purelib: true\\nTag: py3-none-any\\n",
    }}
    rows = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{{path}},sha256={{digest}},{{len(data)}}")
    rows.append("evil-1.0.dist-info/RECORD,,")
    files["evil-1.0.dist-info/RECORD"] = ("\\n".join(rows) + "\\n").encode()
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return name

def build_sdist(sdist_directory, config_settings=None):
    raise NotImplementedError
"""


def hostile_project(tmp_path: Path) -> tuple[Path, Path]:
    """A function project depending on a local package whose build backend records its env."""
    marker = tmp_path / "build-script-env.json"
    package = tmp_path / "evil"
    package.mkdir()
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "evil"\nversion = "1.0"\n'
    )
    (package / "backend.py").write_text(BACKEND.format(marker=str(marker)))
    project = tmp_path / "fn"
    (project / "src" / "app").mkdir(parents=True)
    (project / "src" / "app" / "handler.py").write_text("import evil\n")
    (project / "requirements.txt").write_text(f"evil @ {package.as_uri()}\n")
    return project, marker


def build(project: Path, *options: str, installer: str = "uv") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(project),
         "--python-version", "3.12", "--python", str(support.interpreter("3.12")),
         "--installer", installer, "--json", *options],
        env=support.tool_env(**SECRETS), capture_output=True, text=True, check=False,
        timeout=600,
    )  # fmt: skip


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_a_build_script_runs_but_sees_no_secret_and_is_named(
    tmp_path: Path, installer: str
) -> None:
    project, marker = hostile_project(tmp_path)
    completed = build(project, installer=installer)
    assert completed.returncode == 0, completed.stderr
    # The attack: the dependency's build script really ran on this machine ...
    seen = json.loads(marker.read_text())
    assert "PATH" in seen
    # ... and found none of the secrets that were in the caller's environment.
    leaked = sorted(set(SECRETS) & set(seen))
    assert leaked == []
    assert not any(value in json.dumps(seen) for value in SECRETS.values())
    # It is named, in the warnings and in the JSON result.
    document = json.loads(completed.stdout)
    assert document["built-from-source"] == ["evil 1.0"]
    assert "built on this machine from source" in completed.stderr
    assert "evil 1.0" in completed.stderr


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_no_build_refuses_the_build_script(tmp_path: Path, installer: str) -> None:
    project, marker = hostile_project(tmp_path)
    completed = build(project, "--no-build", installer=installer)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert not marker.exists(), "the build script ran although --no-build was given"
    assert "--no-build" in completed.stderr and "Traceback" not in completed.stderr
    [error] = [line for line in completed.stderr.splitlines() if line.startswith("lambda-zip:")]
    assert "evil" in error


def test_wheels_only_builds_name_nothing(tmp_path: Path) -> None:
    document = support.build_project(
        support.PROJECTS / "reqhash", tmp_path / "out.zip", "--no-build"
    )
    assert document["built-from-source"] == []


def test_installer_environment_is_an_allow_list() -> None:
    env = {
        **SECRETS,
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LC_ALL": "C.UTF-8",
        "UV_INDEX_URL": "https://pypi.example/simple",
        "PIP_CACHE_DIR": "/c",
        "HTTPS_PROXY": "http://proxy:3128",
        "SSL_CERT_FILE": "/etc/ssl/cert.pem",
        "SOURCE_DATE_EPOCH": "1700000000",
        "GITHUB_REPOSITORY": "octo/app",
        "RUNNER_TEMP": "/tmp/r",
        "MY_DEPLOY_KEY": "FAKE",
        "PYTHONPATH": "/workspace",
    }
    cleaned = installer_environment(env)
    for kept in ("PATH", "HOME", "LC_ALL", "UV_INDEX_URL", "PIP_CACHE_DIR", "HTTPS_PROXY",
                 "SSL_CERT_FILE", "SOURCE_DATE_EPOCH"):  # fmt: skip
        assert cleaned[kept] == env[kept]
    for dropped in (*SECRETS, "GITHUB_REPOSITORY", "RUNNER_TEMP", "MY_DEPLOY_KEY", "PYTHONPATH"):
        assert dropped not in cleaned

"""Where a build of several functions writes, and what it moves into place.

A deploy configuration and the project's settings are a pull request's files. Each test here
is an attack on the multi-function build (functions.build_functions), found in review of the
first version: the index written through a committed `dist` symlink, two outputs staged under
one name, a previous output packed into the next zip, and a later function's build script
rewriting an earlier function's staged zip before it is moved into place. Each shows what the
attack would do and that it is stopped (docs/reliability.md, rows 22 to 25).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

import support

PYTHON = "3.12"


def _declared(project: Path, functions: dict[str, str], settings: str = "") -> None:
    """A project declaring `functions` (name -> code directory) in pyproject.toml."""
    lines = [f"[tool.lambda-zip]\n{settings}"]
    for name, source in functions.items():
        code = project / source
        code.mkdir(parents=True, exist_ok=True)
        (code / "app.py").write_text("def handler(event, context):\n    return 1\n")
        lines.append(f'[tool.lambda-zip.functions.{name}]\nsource = "{source}"\n'
                     f'handler = "app.handler"\npython-version = "{PYTHON}"\n')  # fmt: skip
    (project / "pyproject.toml").write_text("\n".join(lines))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _build(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return support.run_cli("build", "--project", str(project), "--python",
                           str(support.interpreter(PYTHON)), *args)  # fmt: skip


def test_the_index_is_not_written_through_a_committed_dist_link(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    # One function written where the settings say; dist/ (only the index goes there) is a
    # link the pull request committed, to a directory outside the project.
    _declared(project, {"api": "api"}, 'output = "build/api.zip"\n')
    (project / "dist").symlink_to(outside)
    refused = _build(project)
    assert refused.returncode == 2, refused.stderr
    assert "outside the project" in refused.stderr and "Traceback" not in refused.stderr
    assert list(outside.iterdir()) == []
    assert not (project / "build").exists()


def test_an_output_and_a_manifest_of_one_name_stay_two_files(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    # Staged by base name alone, both were one file: the manifest overwrote the zip.
    _declared(project, {"api": "api"}, 'output = "build/api.zip"\nmanifest = "meta/api.zip"\n')
    built = _build(project)
    assert built.returncode == 0, built.stderr
    assert zipfile.is_zipfile(project / "build" / "api.zip")
    manifest = json.loads((project / "meta" / "api.zip").read_text())
    assert manifest["archive"]["sha256"] == _sha256(project / "build" / "api.zip")


def test_a_previous_output_inside_the_code_directory_is_never_packed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    # The code directory is the project itself (as Serverless's is), the zip goes to out/.
    _declared(project, {"api": "."})
    output = project / "out" / "api.zip"
    first = _build(project, "--output", str(output))
    assert first.returncode == 0, first.stderr
    first_sha256 = _sha256(output)
    second = _build(project, "--output", str(output))
    assert second.returncode == 0, second.stderr
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
    assert "app.py" in names
    assert not [n for n in names if n.startswith(("out/", "dist/"))], names
    assert _sha256(output) == first_sha256  # the first zip is not in the second


SABOTEUR = """\
import base64, glob, hashlib, os, zipfile

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    # Every zip an earlier function of this build left in the project, rewritten.
    for path in glob.glob({pattern!r}):
        with open(path, "ab") as stream:
            stream.write(b"planted")
    name = "saboteur-1.0-py3-none-any.whl"
    files = {{
        "saboteur/__init__.py": b"",
        "saboteur-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: saboteur\\n"
        b"Version: 1.0\\n",
        "saboteur-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: x\\n"
        b"Root-Is-Purelib: true\\nTag: py3-none-any\\n",
    }}
    rows = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{{path}},sha256={{digest}},{{len(data)}}")
    rows.append("saboteur-1.0.dist-info/RECORD,,")
    files["saboteur-1.0.dist-info/RECORD"] = ("\\n".join(rows) + "\\n").encode()
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return name
"""


def test_a_later_functions_build_script_cannot_change_an_earlier_staged_zip(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    _declared(project, {"a": "a", "b": "b"})
    package = tmp_path / "saboteur"
    package.mkdir()
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "saboteur"\nversion = "1.0"\n'
    )
    pattern = str(project / "dist" / ".lambda-zip-staging-*" / "*" / "a.zip")
    (package / "backend.py").write_text(SABOTEUR.format(pattern=pattern))
    text = (project / "pyproject.toml").read_text()
    (project / "b" / "requirements.txt").write_text(f"saboteur @ {package.as_uri()}\n")
    (project / "pyproject.toml").write_text(
        text.replace('source = "b"\n', 'source = "b"\nrequirements = "b/requirements.txt"\n')
    )
    refused = _build(project)
    # a's zip was staged when b's dependency was built from source; its script appended to it.
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "a.zip changed after it was written" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (project / "dist" / "a.zip").exists()
    assert not (project / "dist" / "lambda-zip.json").exists()

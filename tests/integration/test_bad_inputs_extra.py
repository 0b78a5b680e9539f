"""Bad inputs test_build_errors.py does not try, with the same contract: exit 2, one paragraph on
the last line of stderr, no traceback, the previous zip and manifest untouched, no temporary
file left; or, for the inputs that only deserve a warning, exactly that warning.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import zipcraft
from support import interpreter, tool_env

ERROR_LINE = re.compile(r"lambda-zip: (?P<kind>[a-z]+) error: (?P<message>\S.*)")
PREVIOUS_ZIP = b"previous zip"
PREVIOUS_MANIFEST = b'{"previous": true}\n'


def project(
    root: Path, requirements: str | None = None, files: dict[str, bytes] | None = None
) -> Path:
    (root / "src" / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "bad"\nversion = "0"\n')
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    for name, data in (files if files is not None else {"app/handler.py": b"X = 1\n"}).items():
        (root / "src" / name).write_bytes(data)
    return root


def build(tmp_path: Path, root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    output = tmp_path / "dist" / "lambda.zip"
    output.parent.mkdir(exist_ok=True)
    if not output.exists():
        output.write_bytes(PREVIOUS_ZIP)
        output.with_name("lambda.zip.manifest.json").write_bytes(PREVIOUS_MANIFEST)
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir(exist_ok=True)
    argv = [sys.executable, "-m", "lambda_zip_action", "build", "--project", str(root)]
    argv += ["--output", str(output), "--python-version", "3.12"]
    argv += ["--python", str(interpreter("3.12")), "--json"]
    return subprocess.run(
        argv,
        env=tool_env(TMPDIR=str(tmpdir), **env),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def failure(tmp_path: Path, root: Path, kind: str, **env: str) -> str:
    completed = build(tmp_path, root, **env)
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.splitlines()
    assert [line for line in lines if line.startswith("lambda-zip:")] == [lines[-1]]
    match = ERROR_LINE.fullmatch(lines[-1])
    assert match is not None and match["kind"] == kind, lines[-1]
    output = tmp_path / "dist" / "lambda.zip"
    assert output.read_bytes() == PREVIOUS_ZIP
    assert output.with_name("lambda.zip.manifest.json").read_bytes() == PREVIOUS_MANIFEST
    assert sorted(p.name for p in output.parent.iterdir()) == [
        "lambda.zip",
        "lambda.zip.manifest.json",
    ]
    assert list((tmp_path / "tmpdir").iterdir()) == []
    return match["message"]


def warnings(tmp_path: Path, root: Path) -> list[str]:
    completed = build(tmp_path, root)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["warnings"]
    return [line for line in completed.stderr.splitlines() if line.startswith("warning: ")]


def test_empty_source_directory(tmp_path: Path) -> None:
    message = failure(tmp_path, project(tmp_path / "p", files={}), "source")
    assert message.startswith("Nothing to package: ")
    assert "Lambda refuses an empty zip" in message


def test_conflicting_requirements(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "idna==3.7\nrequests==2.32.3\nidna==2.0\n")
    message = failure(tmp_path, root, "install")
    assert "you require idna==3.7 and idna==2.0" in message
    assert "unsatisfiable" in message


def test_a_dependency_that_cannot_be_satisfied_with_the_pins(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "idna==2.0\nrequests==2.32.3\n")
    message = failure(tmp_path, root, "install")
    assert "requests==2.32.3 depends on idna>=2.5 and you require idna==2.0" in message


def test_network_refused_with_a_cold_cache(tmp_path: Path) -> None:
    refused = "http://127.0.0.1:9/simple"  # the discard port: nothing listens there
    root = project(tmp_path / "p", "six==1.17.0\n")
    message = failure(
        tmp_path,
        root,
        "install",
        UV_CACHE_DIR=str(tmp_path / "cold"),
        UV_INDEX_URL=refused,
        PIP_INDEX_URL=refused,
    )
    assert message.startswith("The installer could not download the dependencies")
    assert "check the network and the index settings" in message
    assert "Connection refused" in message


def test_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    bad = os.fsencode(root / "src" / "app") + b"/bad\xffname.py"
    with open(bad, "wb") as handle:
        handle.write(b"X = 2\n")
    message = failure(tmp_path, root, "source")
    assert "has a name that is not valid UTF-8" in message
    assert "bad\\xffname.py" in message


def test_device_file(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    os.mknod(root / "src" / "app" / "null", 0o20666, os.makedev(1, 3))
    message = failure(tmp_path, root, "source")
    assert "null is a device file, which cannot go into a zip" in message


def test_socket(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(root / "src" / "app" / "s.sock"))
        message = failure(tmp_path, root, "source")
    assert "s.sock is a socket, which cannot go into a zip" in message


def test_names_that_collide_when_case_is_folded_warn(tmp_path: Path) -> None:
    root = project(tmp_path / "p", files={"app/README": b"a", "app/readme": b"b"})
    assert warnings(tmp_path, root) == [
        "warning: app/README and app/readme differ only in case: they cannot both be checked "
        "out on macOS or Windows"
    ]


def test_unpinned_requirements_warn(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "six\n")
    (found,) = warnings(tmp_path, root)
    assert found.startswith("warning: 1 requirement(s) are not pinned (six): the package can")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "it cannot be parsed as JSON"),
        (b'{"schema": "something/else"}', "its schema is 'something/else'"),
        (b"[1, 2]", "cannot be read as a zip: no end-of-central-directory record"),
        (b'{"schema": "lambda-zip/manifest/2"}', "a field is missing or has the wrong type"),
        (b'{"schema": "lambda-zip/manifest/1"}', "a field is missing or has the wrong type"),
        (
            b'{"schema": "lambda-zip/manifest/2", "entries": [{"path": "a", "mode": "9x"}]}',
            "a field is missing or has the wrong type",
        ),
        (b'{"schema": "lambda-zip/manifest/2", "entries": 5}', "wrong type"),
        (b"{\xff\xfe}", "it cannot be parsed as JSON"),
    ],
    ids=[
        "not-json",
        "other-schema",
        "a-list",
        "no-entries",
        "v1-no-entries",
        "bad-mode",
        "entries-int",
        "binary",
    ],
)
def test_malformed_manifest_for_diff(content: bytes, expected: str, tmp_path: Path) -> None:
    manifest = tmp_path / "m.json"
    manifest.write_bytes(content)
    ok = zipcraft.deterministic(tmp_path / "ok.zip", {"a": b"a"})
    completed = subprocess.run(
        [sys.executable, "-m", "lambda_zip_action", "diff", str(ok), str(manifest)],
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    (line,) = completed.stderr.splitlines()
    assert line.startswith(f"lambda-zip: archive error: {manifest} ")
    assert expected in line

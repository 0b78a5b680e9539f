"""Build and inspect judge the project's own files by one set of rules (own_files).

A binary Lambda cannot load among the sources fails the build and is an error in inspect; a
key among a dependency's files (tornado ships `tornado/test/test.key`) is its test data, so
inspect of a clean zip this tool built from a real install has no error.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import support


def elf(machine: int) -> bytes:
    """An ELF header (64-bit, little-endian) naming `machine` (62 x86_64, 183 arm64)."""
    return b"\x7fELF\x02\x01\x01" + bytes(11) + machine.to_bytes(2, "little") + bytes(200)


def foreign_sources(root: Path) -> Path:
    """A src layout whose author committed binaries from their own machine."""
    package = root / "src" / "app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    (package / "_speedups.pyd").write_bytes(b"MZ" + bytes(300))
    (package / "_fast.cpython-38-x86_64-linux-gnu.so").write_bytes(elf(62))
    (package / "_ok.cpython-312-x86_64-linux-gnu.so").write_bytes(elf(62))
    (root / "pyproject.toml").write_text('[project]\nname = "fn"\nversion = "1"\n')
    return root


def test_a_foreign_binary_among_the_sources_fails_the_build(tmp_path: Path) -> None:
    root = foreign_sources(tmp_path / "fn")
    output = tmp_path / "out" / "x.zip"
    completed = support.run_cli("build", "--project", str(root), "--python-version", "3.12",
                                "--no-compile", "--output", str(output))  # fmt: skip
    assert completed.returncode == 2, completed.stderr
    message = " ".join(completed.stderr.split())
    assert "_speedups.pyd is a Windows or macOS library (pyd)" in message
    assert (
        "_fast.cpython-38-x86_64-linux-gnu.so is an extension module for CPython 3.8: "
        "Python 3.12 does not import it" in message
    )
    assert "_ok.cpython-312" not in message and "Traceback" not in completed.stderr
    assert not output.exists()
    # --include cannot bring one back: nothing on Lambda could load it.
    again = support.run_cli("build", "--project", str(root), "--python-version", "3.12",
                            "--no-compile", "--include", "*.pyd", "--output",
                            str(output))  # fmt: skip
    assert again.returncode == 2 and "_speedups.pyd is a Windows" in again.stderr
    # Excluded, they stay out and the build succeeds.
    excluded = support.run_cli("build", "--project", str(root), "--python-version", "3.12",
                               "--no-compile", "--exclude", "*.pyd", "--exclude", "*cpython-38*",
                               "--output", str(output))  # fmt: skip
    assert excluded.returncode == 0, excluded.stderr


def test_inspect_finds_the_same_binaries_in_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "other-tool.zip"
    with zipfile.ZipFile(archive, "w") as zf:  # what a plain `zip -r` of that tree holds
        for path in sorted((foreign_sources(tmp_path / "fn") / "src").rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(tmp_path / "fn" / "src").as_posix())
    completed = support.run_cli("inspect", str(archive), "--python-version", "3.12",
                                "--architecture", "x86_64", "--format", "json")  # fmt: skip
    assert completed.returncode == 1, completed.stderr
    errors = {
        f["entry"]: f["code"]
        for f in json.loads(completed.stdout)["findings"]
        if f["severity"] == "error"
    }
    assert errors == {
        "app/_speedups.pyd": "own-binary",
        "app/_fast.cpython-38-x86_64-linux-gnu.so": "own-binary",
    }


def test_inspect_of_a_clean_build_with_tornado_has_no_error(tmp_path: Path) -> None:
    """tornado's wheel ships tornado/test/test.key: before the rules knew whose file it is,
    inspect failed every zip this tool built with tornado (exit 1, a `secret` error)."""
    root = tmp_path / "fn"
    root.mkdir()
    (root / "app.py").write_text("import tornado\n\n\ndef handler(e, c):\n    return 1\n")
    (root / "requirements.txt").write_text("tornado==6.4.2\n")
    output = tmp_path / "out" / "x.zip"
    support.build_project(root, output)
    with zipfile.ZipFile(output) as zf:
        assert "tornado/test/test.key" in zf.namelist()
    completed = support.run_cli("inspect", str(output), "--format", "json")
    assert completed.returncode == 0, completed.stdout
    findings = json.loads(completed.stdout)["findings"]
    assert not [f for f in findings if f["severity"] == "error"]
    assert {f["code"]: f["severity"] for f in findings}.get("dependency-key") == "info"

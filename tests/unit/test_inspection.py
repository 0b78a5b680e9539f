from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from lambda_zip_action.errors import ConfigError
from lambda_zip_action.proof.inspect import inspect_zip, inspection_exit_code, run_inspect
from lambda_zip_action.proof.model import InspectionResult
from lambda_zip_action.proof.render import inspection_json, inspection_text
from lambda_zip_action.runtimes import RUNTIMES

import zipcraft
from zipcraft import Member


def elf(machine: int) -> bytes:
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + (3).to_bytes(2, "little")
    return (header + machine.to_bytes(2, "little")).ljust(200, b"\0")


def pyc(version: str, flags: int = 1) -> bytes:
    magic = RUNTIMES[version].magic.to_bytes(2, "little") + b"\r\n"
    return magic + flags.to_bytes(4, "little") + bytes(8) + b"\xe3code"


def codes(result: InspectionResult) -> dict[str, set[str | None]]:
    found: dict[str, set[str | None]] = {}
    for finding in result.findings:
        for entry in finding.entries or (finding.entry,):
            found.setdefault(finding.code, set()).add(entry)
    return found


CLEAN = {
    "app.py": b"def handler(e, c): ...\n",
    "__pycache__/app.cpython-312.pyc": pyc("3.12"),
    "lib/_speedups.so": elf(62),
    "lib/": b"",
    "requests-2.32.3.dist-info/METADATA": b"Name: requests\nVersion: 2.32.3\n",
}


def test_clean_archive_has_no_findings_and_infers_target(tmp_path: Path) -> None:
    result = inspect_zip(zipcraft.deterministic(tmp_path / "ok.zip", CLEAN), None, None)
    assert result.findings == ()
    summary = result.summary
    assert (summary.python_version, summary.architecture) == ("3.12", "x86_64")
    assert summary.inferred == (
        "Python 3.12 inferred from 1 .pyc files",
        "architecture x86_64 inferred from 1 ELF files",
    )
    assert [(d.name, d.version) for d in summary.distributions] == [("requests", "2.32.3")]
    assert summary.python_versions == ("3.12",)
    assert [n.path for n in summary.native_libraries] == ["lib/_speedups.so"]
    assert inspection_exit_code(result, strict=True) == 0
    assert run_inspect(tmp_path / "ok.zip", "3.12", "x86_64", "text", True)[1] == 0


def test_wrong_architecture_and_os(tmp_path: Path) -> None:
    files = CLEAN | {
        "lib/mac.so": (0xCFFAEDFE).to_bytes(4, "big").ljust(64, b"\0"),
        "lib/win.pyd": b"MZ".ljust(64, b"\0"),
        "bin/tool": elf(183),  # no .so suffix: found by its magic
        # A distribution's files: install checked their wheel's tags, inspect says what breaks.
        "native-1.0.dist-info/RECORD": b"lib/mac.so,,\nlib/win.pyd,,\nlib/_speedups.so,,\n",
    }
    result = inspect_zip(zipcraft.deterministic(tmp_path / "n.zip", files), "3.12", "arm64")
    found = codes(result)
    assert found["wrong-os-binary"] == {"lib/mac.so", "lib/win.pyd"}
    assert found["wrong-architecture"] == {"lib/_speedups.so"}
    assert "own-binary" not in found
    assert inspection_exit_code(result) == 1
    mixed = inspect_zip(tmp_path / "n.zip", "3.12", None)
    assert "mixed-architectures" in codes(mixed)


def test_binaries_among_the_projects_own_files_are_errors_as_in_a_build(tmp_path: Path) -> None:
    """No RECORD lists them: the project's own files, judged by the rules build applies."""
    files = CLEAN | {
        "lib/mac.so": (0xCFFAEDFE).to_bytes(4, "big").ljust(64, b"\0"),
        "lib/win.pyd": b"MZ".ljust(64, b"\0"),
        "vendor/helper.dll": b"tiny",  # by its name, whatever its content
        "fast/old.cpython-38-aarch64-linux-gnu.so": elf(183),
        "bin/tool": elf(62),  # a program, not loadable: a note as for a dependency
    }
    result = inspect_zip(zipcraft.deterministic(tmp_path / "o.zip", files), "3.12", "arm64")
    found = codes(result)
    assert found["own-binary"] == {
        "lib/mac.so", "lib/win.pyd", "vendor/helper.dll", "lib/_speedups.so",
        "fast/old.cpython-38-aarch64-linux-gnu.so",
    }  # fmt: skip
    # One finding per file: the dependency-worded ones it replaces are gone.
    assert not {"wrong-os-binary", "wrong-architecture", "extension-other-python"} & set(found)
    messages = {f.entry: f.message for f in result.findings if f.code == "own-binary"}
    assert messages["fast/old.cpython-38-aarch64-linux-gnu.so"].startswith(
        "an extension module for CPython 3.8: Python 3.12 does not import it"
    )
    assert messages["lib/_speedups.so"].startswith("an ELF library for x86_64, but the target")
    assert found["foreign-machine-program"] == {None}
    assert inspection_exit_code(result) == 1


def test_bytecode_problems(tmp_path: Path) -> None:
    files = CLEAN | {
        "stale.py": b"X = 1\n",
        "__pycache__/stale.cpython-312.pyc": pyc("3.12", flags=0),
        "__pycache__/old.cpython-311.pyc": pyc("3.11"),
        "__pycache__/app.cpython-312.opt-1.pyc": pyc("3.12"),
        "legacy.pyc": pyc("3.11"),
    }
    result = inspect_zip(zipcraft.deterministic(tmp_path / "b.zip", files), "3.12", "x86_64")
    found = codes(result)
    stale = next(f for f in result.findings if f.code == "pyc-timestamp-stale")
    assert stale.severity == "warning" and "stale.cpython-312.pyc" in stale.message
    assert found["pyc-other-version"] == {"__pycache__/old.cpython-311.pyc"}
    assert found["pyc-optimized"] == {"__pycache__/app.cpython-312.opt-1.pyc"}
    # One cause per .pyc: the cached one is "another version", not also "wrong magic".
    assert found["pyc-wrong-magic"] == {"legacy.pyc"}
    severity = {(f.code, f.entry): f.severity for f in result.findings}
    assert severity["pyc-wrong-magic", "legacy.pyc"] == "error"  # sourceless: import fails
    assert severity["pyc-other-version", "__pycache__/old.cpython-311.pyc"] == "warning"
    assert inspection_exit_code(result) == 1


def test_modes_symlinks_and_names(tmp_path: Path) -> None:
    path = zipcraft.craft(
        tmp_path / "m.zip",
        [
            Member(b"a.py", b"a", mode=0o100644),
            Member(b"private.py", b"p", mode=0o100600),
            Member(b"closed/", mode=0o040700),
            Member(b"link", b"/etc/passwd", mode=0o120777),
            Member(b"../evil", b"x"),
            Member(b"a.py", b"again"),
        ],
    )
    result = inspect_zip(path, "3.12", "x86_64")
    found = codes(result)
    assert found["not-world-readable"] == {"private.py", "closed/"}
    assert found["symlink"] == {"link"}
    assert found["parent-traversal"] == {"../evil"}
    assert found["duplicate-name"] == {"a.py"}
    assert found["odd-modes"] == {None}
    assert "not-world-readable" not in codes(
        inspect_zip(zipcraft.craft(tmp_path / "ok.zip", [Member(b"a.py", b"a")]), None, None)
    )


def test_info_zip_is_not_reproducible(tmp_path: Path) -> None:
    root = tmp_path / "src"
    root.mkdir()
    (root / "b.py").write_text("b")
    (root / "a.py").write_text("a")
    subprocess.run(["zip", "-q", "-r", str(tmp_path / "i.zip"), "."], cwd=root, check=True)
    found = codes(inspect_zip(tmp_path / "i.zip", None, None))
    assert "extra-fields" in found
    assert "timestamps-not-fixed" in found or "timestamps-differ" in found
    clean = codes(inspect_zip(zipcraft.deterministic(tmp_path / "d.zip", {"a": b"a"}), None, None))
    assert clean == {}


def test_zipfile_defaults_and_data_descriptors(tmp_path: Path) -> None:
    stream = zipcraft.NonSeekable()
    with zipfile.ZipFile(stream, "w") as zf:
        info = zipfile.ZipInfo("z.py", (2024, 5, 6, 7, 8, 10))
        info.create_system = 0
        zf.writestr(info, b"z")
        zf.writestr(zipfile.ZipInfo("a.py", zipcraft.FIXED), b"a")
    path = tmp_path / "s.zip"
    path.write_bytes(bytes(stream.data))
    found = codes(inspect_zip(path, None, None))
    assert found["data-descriptors"] == {None}
    assert found["create-system-not-unix"] == {None}
    assert found["unsorted-entries"] == {None}
    assert found["timestamps-differ"] == {None}
    assert found["not-world-readable"] == {"z.py", "a.py"}  # zipfile's default is 0600


def test_size_limits(tmp_path: Path) -> None:
    big = zipcraft.craft(
        tmp_path / "big.zip",
        [Member(b"data.bin", b"\0" * (300 << 20), method=8, declared_size=300 << 20)],
    )
    result = inspect_zip(big, None, None)
    found = codes(result)
    assert found["over-unzipped-limit"] == {None}
    assert "over-zipped-limit" not in found
    assert found["ratio-exceeded"] == {"data.bin"}
    # One finding for the one entry: the reader's, not a second copy of its check.
    assert [f.code for f in result.findings].count("ratio-exceeded") == 1


def test_render_and_errors(tmp_path: Path) -> None:
    path = zipcraft.craft(tmp_path / "m.zip", [Member(b"x.py", b"x", mode=0o100600)])
    text, code = run_inspect(path, None, None, "text", False)
    assert code == 1 and "error not-world-readable (1):" in text
    data = json.loads(inspection_json(inspect_zip(path, None, None)))
    assert {f["code"] for f in data["findings"]} == {"not-world-readable", "odd-modes"}
    assert inspection_text(inspect_zip(path, None, None)) == text
    with pytest.raises(ConfigError):
        inspect_zip(path, "2.7", None)
    with pytest.raises(ConfigError):
        inspect_zip(path, None, "sparc")


def test_warnings_fail_only_when_strict(tmp_path: Path) -> None:
    path = zipcraft.deterministic(tmp_path / "w.zip", {"b.py": b"b", "a.py": b"a"})
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(zipfile.ZipInfo("0.py", zipcraft.FIXED), b"0")  # unsorted, 0600
    result = inspect_zip(path, None, None)
    assert inspection_exit_code(result) == 1  # 0600 is an error
    ok = zipcraft.craft(tmp_path / "ok.zip", [Member(b"b.py", b"b"), Member(b"a.py", b"a")])
    unsorted = inspect_zip(ok, None, None)
    assert {f.severity for f in unsorted.findings} == {"warning"}
    assert inspection_exit_code(unsorted) == 0
    assert inspection_exit_code(unsorted, strict=True) == 1


def test_corrupt_entry_content_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app/handler.py", "def handler(event, context):\n    return 1\n")
    clean = inspect_zip(path, "3.12", "x86_64")
    assert not [f for f in clean.findings if f.code == "crc-mismatch"]
    data = bytearray(path.read_bytes())
    data[data.index(b"def handler")] ^= 0x20  # one bit of the content, headers untouched
    path.write_bytes(bytes(data))
    result = inspect_zip(path, "3.12", "x86_64")
    assert [f.entry for f in result.findings if f.code == "crc-mismatch"] == ["app/handler.py"]
    assert inspection_exit_code(result) == 1


def test_one_finding_per_cause_with_a_count(tmp_path: Path) -> None:
    """A hundred .pyc of another version are one cause: one finding, every entry listed."""
    files = CLEAN | {f"m{i}.py": b"X = 1\n" for i in range(101)}
    files |= {f"__pycache__/m{i}.cpython-311.pyc": pyc("3.11") for i in range(101)}
    result = inspect_zip(zipcraft.deterministic(tmp_path / "c.zip", files), "3.12", "x86_64")
    assert [f.code for f in result.findings] == ["pyc-other-version"]
    (finding,) = result.findings
    assert len(finding.entries) == 101 and "(101 entries)" in finding.message
    text = inspection_text(result)
    assert "0 errors, 1 warning, 0 notes" in text and "... and 91 more" in text


def test_secrets_launchers_residue_and_foreign_extensions(tmp_path: Path) -> None:
    key = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n"
    files = CLEAN | {
        ".env": b"DB_PASSWORD=hunter2\n",
        "config/.env.production": b"TOKEN=x\n",
        ".env.example": b"DB_PASSWORD=\n",
        "deploy/key.pem": key,
        "certifi/cacert.pem": b"-----BEGIN CERTIFICATE-----\nMIIB\n",
        "bin/flask": b"#!/home/ci/.venv/bin/python\nimport flask\n",
        "requests-2.32.3.dist-info/INSTALLER": b"pip\n",
        "requests-2.32.3.dist-info/direct_url.json": b'{"url": "file:///home/ci/x"}',
        "fast/_speedups.cpython-312-x86_64-linux-gnu.so": elf(62),
        "fast/_abi3.abi3.so": elf(62),
        "fast/_ft.cpython-313t-x86_64-linux-gnu.so": elf(62),
        "fast-1.0.dist-info/RECORD": b"fast/_speedups.cpython-312-x86_64-linux-gnu.so,,\n",
        # A dependency's test data is not the user's secret (tornado ships these).
        "tornado/test/test.key": key,
        "tornado-6.4.dist-info/RECORD": b"tornado/__init__.py,,\n",
    }
    path = zipcraft.deterministic(tmp_path / "s.zip", files)
    result = inspect_zip(path, "3.13", "x86_64")
    found = codes(result)
    assert found["secret"] == {".env", "config/.env.production", "deploy/key.pem"}
    assert found["dependency-key"] == {"tornado/test/test.key"}
    assert {f.severity for f in result.findings if f.code == "dependency-key"} == {"info"}
    assert found["bin-scripts"] == {"bin/flask"}
    assert found["installer-residue"] == {
        "requests-2.32.3.dist-info/INSTALLER",
        "requests-2.32.3.dist-info/direct_url.json",
    }
    assert found["extension-other-python"] == {
        "fast/_speedups.cpython-312-x86_64-linux-gnu.so",
        "fast/_ft.cpython-313t-x86_64-linux-gnu.so",
    }
    assert "extension-other-python" not in codes(inspect_zip(path, "3.12", "x86_64")) or codes(
        inspect_zip(path, "3.12", "x86_64")
    )["extension-other-python"] == {"fast/_ft.cpython-313t-x86_64-linux-gnu.so"}

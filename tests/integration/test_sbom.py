"""The SBOM beside each zip, and the Action's attestation subjects, on real builds.

examples/hello and examples/sam-app built as users build them: the SBOM validates against the
CycloneDX 1.6 JSON schema, lists every distribution and every file of its zip with the zip's
own hashes, is byte-identical across two builds (where the library's defaults are not), is
compared by verify, and is read back by inspect, which flags one that disagrees with its zip.
The Action's subjects file is checked against the digests of the files it names.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from lambda_zip_action import cli
from lambda_zip_action.proof.verify import _compare
from lambda_zip_action.sbom import NAMESPACE
from lambda_zip_action.toml_text import parse_toml

import support

HELLO = support.EXAMPLES / "hello"
SAM = support.EXAMPLES / "sam-app"


def _copy(source: Path, tmp_path: Path, name: str = "project") -> Path:
    target = tmp_path / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("dist", ".venv"))
    return target


def _validate(text: str) -> None:
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors


def _files(sbom: dict[str, Any]) -> dict[str, str]:
    """Every `file` component, nested ones included: path -> sha256."""
    found: dict[str, str] = {}

    def walk(components: list[dict[str, Any]]) -> None:
        for component in components:
            if component["type"] == "file":
                assert component["name"] not in found, component["name"]
                [digest] = component["hashes"]
                assert digest["alg"] == "SHA-256"
                found[component["name"]] = digest["content"]
            walk(component.get("components", []))

    walk(sbom["components"])
    return found


def _zip_files(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {
            info.filename: hashlib.sha256(archive.read(info)).hexdigest()
            for info in archive.infolist()
            if not info.is_dir()
        }


def _zip_distributions(path: Path) -> set[tuple[str, str]]:
    found = set()
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.count("/") == 1 and name.endswith(".dist-info/METADATA"):
                headers = dict(
                    line.split(": ", 1)
                    for line in archive.read(name).decode().split("\n\n")[0].splitlines()
                    if ": " in line
                )
                found.add((headers["Name"].lower().replace("_", "-"), headers["Version"]))
    return found


def test_the_sbom_of_hello_validates_and_lists_every_distribution_and_file(
    tmp_path: Path,
) -> None:
    project = _copy(HELLO, tmp_path)
    built = support.run_cli("build", "--project", str(project), "--json")
    assert built.returncode == 0, support.explain(built)
    document = json.loads(built.stdout)
    zip_path = Path(document["path"])
    sbom_path = Path(document["sbom"])
    assert sbom_path == zip_path.with_name("lambda.zip.cdx.json")
    text = sbom_path.read_text()
    _validate(text)
    sbom = json.loads(text)

    zip_sha256 = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    assert sbom["specVersion"] == "1.6"
    assert sbom["serialNumber"] == f"urn:uuid:{uuid.uuid5(NAMESPACE, zip_sha256)}"
    assert "timestamp" not in sbom["metadata"]
    package = sbom["metadata"]["component"]
    assert package["hashes"] == [{"alg": "SHA-256", "content": zip_sha256}]
    # Every file of the zip, once, with its hash in the zip; nothing else.
    assert _files(sbom) == _zip_files(zip_path)
    # Every distribution of the zip, with its purl; and the project's own code.
    libraries = {(c["name"], c["version"]): c for c in sbom["components"] if c["type"] == "library"}
    expected = _zip_distributions(zip_path)
    assert {"requests", "urllib3", "idna", "certifi", "charset-normalizer"} <= {
        name for name, _ in expected
    }
    assert set(libraries) == expected
    for (name, version), component in libraries.items():
        assert component["purl"] == f"pkg:pypi/{name}@{version}"
        assert component["licenses"], name  # every one of them declares its licence
    [own] = [c for c in sbom["components"] if c["type"] == "application"]
    assert {f["name"] for f in own["components"]} >= {"hello/handler.py", "hello/__init__.py"}
    # The lock's hashes: each one uv.lock pins for that distribution (its wheels and sdist).
    locked = _uv_lock_hashes(project)
    for (name, _), component in libraries.items():
        given = [p["value"] for p in component["properties"] if p["name"] == "lambda-zip:lock-hash"]
        given += [f"sha256:{h['content']}" for h in component.get("hashes", [])]
        assert sorted(given) == locked[name], name
    requests = libraries[next(k for k in libraries if k[0] == "requests")]
    assert {d["ref"]: d.get("dependsOn", []) for d in sbom["dependencies"]}[requests["bom-ref"]]


def _uv_lock_hashes(project: Path) -> dict[str, list[str]]:
    """name -> the sorted sha256:... of every wheel and sdist uv.lock pins, read independently."""
    lock = parse_toml((project / "uv.lock").read_text())
    found: dict[str, list[str]] = {}
    for package in lock["package"]:
        for artifact in [*package.get("wheels", []), package.get("sdist") or {}]:
            if "hash" in artifact:
                found.setdefault(package["name"], []).append(artifact["hash"])
    return {name: sorted(hashes) for name, hashes in found.items()}


def test_two_builds_give_byte_identical_sboms_where_the_librarys_defaults_differ(
    tmp_path: Path,
) -> None:
    first = _copy(HELLO, tmp_path, "one")
    second = _copy(HELLO, tmp_path, "another-checkout")
    for project, extra in ((first, ()), (second, ("--no-cache",))):
        built = support.run_cli("build", "--project", str(project), *extra)
        assert built.returncode == 0, support.explain(built)
    one = (first / "dist" / "lambda.zip.cdx.json").read_bytes()
    two = (second / "dist" / "lambda.zip.cdx.json").read_bytes()
    assert one == two
    # The naive way: the same component through the library's defaults, twice.
    naive = []
    for _ in range(2):
        bom = Bom()
        bom.components.add(Component(type=ComponentType.LIBRARY, name="requests"))
        naive.append(JsonV1Dot6(bom).output_as_string())
    assert naive[0] != naive[1]  # a random serial number, the time it ran, random bom-refs


def test_source_date_epoch_sets_the_timestamp(tmp_path: Path) -> None:
    project = _copy(HELLO, tmp_path)
    env = support.tool_env(SOURCE_DATE_EPOCH="1700000000")
    built = support.run_cli("build", "--project", str(project), env=env)
    assert built.returncode == 0, support.explain(built)
    sbom = json.loads((project / "dist" / "lambda.zip.cdx.json").read_text())
    assert sbom["metadata"]["timestamp"] == "2023-11-14T22:13:20+00:00"


def test_verify_rebuilds_the_sbom_and_compares_its_bytes(tmp_path: Path) -> None:
    project = _copy(HELLO, tmp_path)
    verified = support.run_cli("verify", "--project", str(project))
    assert verified.returncode == 0, support.explain(verified)
    assert "reproducible: both builds are" in verified.stdout
    # What verify does with the rebuild's SBOM, on two real builds: equal, then one changed.
    zip_path = project / "dist" / "lambda.zip"
    sbom_path = project / "dist" / "lambda.zip.cdx.json"
    rebuilt = tmp_path / "rebuild" / "lambda.zip"
    rebuilt.parent.mkdir()
    again = support.run_cli("build", "--project", str(project), "--output", str(rebuilt))
    assert again.returncode == 0, support.explain(again)
    sha = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    assert _compare(zip_path, sha, rebuilt, sbom_path)[1] is True
    other = rebuilt.with_name("lambda.zip.cdx.json")
    other.write_text(other.read_text().replace('"hello/handler.py"', '"hello/other.py"', 1))
    same, _, explained = _compare(zip_path, sha, rebuilt, sbom_path)[1:]
    assert same is False
    assert "the SBOM differs from the rebuild's (the zips are identical)" in explained[0].detail
    other.unlink()
    assert "wrote no SBOM" in _compare(zip_path, sha, rebuilt, sbom_path)[3][0].detail


def test_no_sbom_writes_none(tmp_path: Path) -> None:
    project = _copy(HELLO, tmp_path)
    built = support.run_cli("build", "--project", str(project), "--no-sbom", "--json")
    assert built.returncode == 0, support.explain(built)
    assert "sbom" not in json.loads(built.stdout)
    assert sorted(p.name for p in (project / "dist").iterdir()) == [
        "lambda.zip",
        "lambda.zip.manifest.json",
    ]


def test_every_function_of_sam_app_gets_its_sbom_and_a_failure_leaves_them(
    tmp_path: Path,
) -> None:
    project = _copy(SAM, tmp_path)
    built = support.run_cli("build", "--project", str(project), "--json")
    assert built.returncode == 0, support.explain(built)
    index = json.loads((project / "dist" / "lambda-zip.json").read_text())
    before = {}
    for row in index["functions"]:
        sbom_path = project / row["sbom"]
        assert sbom_path == project / "dist" / f"{row['name']}.zip.cdx.json"
        text = sbom_path.read_text()
        _validate(text)
        sbom = json.loads(text)
        assert sbom["metadata"]["component"]["name"] == row["name"]
        assert _files(sbom) == _zip_files(project / row["zip"])
        before[sbom_path] = sbom_path.read_bytes()
    # A change to one function and a broken handler in the other: nothing moves.
    app = project / "hello" / "app.py"
    app.write_text(app.read_text() + "\n# changed\n")
    template = project / "template.yaml"
    template.write_text(
        template.read_text().replace("Handler: handler.handle", "Handler: gone.handle")
    )
    failed = support.run_cli("build", "--project", str(project))
    assert failed.returncode != 0, support.explain(failed)
    assert {path: path.read_bytes() for path in before} == before
    assert not [p for p in (project / "dist").iterdir() if p.name.startswith(".")]


def test_inspect_reads_the_sbom_beside_or_inside_and_flags_one_that_disagrees(
    tmp_path: Path,
) -> None:
    project = _copy(HELLO, tmp_path)
    assert support.run_cli("build", "--project", str(project)).returncode == 0
    zip_path = project / "dist" / "lambda.zip"
    sbom_path = zip_path.with_name("lambda.zip.cdx.json")
    good = sbom_path.read_text()
    inspected = support.run_cli("inspect", str(zip_path), "--format", "json")
    assert inspected.returncode == 0, support.explain(inspected)
    summary = json.loads(inspected.stdout)["summary"]["sbom"]
    assert summary["where"] == "beside" and summary["matches"] is True
    assert summary["components"] == 6 and summary["files"] == len(_zip_files(zip_path))

    # One file's hash changed, one file listed that the zip lacks: errors, exit 1.
    sbom = json.loads(good)
    sbom["components"][-1]["components"][0]["hashes"][0]["content"] = "0" * 64
    sbom["components"][0]["components"].append({"type": "file", "name": "ghost.py"})
    sbom_path.write_text(json.dumps(sbom))
    tampered = support.run_cli("inspect", str(zip_path))
    assert tampered.returncode == 1, support.explain(tampered)
    assert "DISAGREES with the zip" in tampered.stdout
    assert "error sbom-hash-mismatch (1)" in tampered.stdout
    assert "error sbom-file-missing (1)" in tampered.stdout and "ghost.py" in tampered.stdout

    # Another build's SBOM beside this zip.
    sbom = json.loads(good)
    sbom["metadata"]["component"]["hashes"][0]["content"] = "1" * 64
    sbom_path.write_text(json.dumps(sbom))
    assert "error sbom-other-zip" in support.run_cli("inspect", str(zip_path)).stdout

    # Inside: the SBOM shipped at the zip's root (any tool may do so), checked against the rest.
    sbom_path.unlink()
    inside = tmp_path / "inside.zip"
    shutil.copy(zip_path, inside)
    with zipfile.ZipFile(inside, "a") as archive:
        archive.writestr("bom.cdx.json", good)
    result = json.loads(support.run_cli("inspect", str(inside), "--format", "json").stdout)
    assert result["summary"]["sbom"]["where"] == "inside"
    assert result["summary"]["sbom"]["matches"] is True


def test_a_pep_770_sbom_a_wheel_carries_is_referenced_and_nested(tmp_path: Path) -> None:
    wheel = _wheel_with_sbom(tmp_path)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "handler.py").write_text("import bundled\n")
    (project / "requirements.txt").write_text(
        f"bundled @ {wheel.as_uri()} --hash=sha256:{digest}\n"
    )
    built = support.run_cli("build", "--project", str(project), "--python-version", "3.12")
    assert built.returncode == 0, support.explain(built)
    text = (project / "dist" / "lambda.zip.cdx.json").read_text()
    _validate(text)
    sbom = json.loads(text)
    [bundled] = [c for c in sbom["components"] if c["name"] == "bundled"]
    # The lock pins one artifact: the wheel installed, its hash the component's.
    assert bundled["hashes"] == [{"alg": "SHA-256", "content": digest}]
    assert bundled["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    [reference] = bundled["externalReferences"]
    assert reference["type"] == "bom"
    assert reference["url"] == "bundled-1.0.dist-info/sboms/bundled.cdx.json"
    nested = {c["name"]: c for c in bundled["components"] if c["type"] != "file"}
    assert nested["libfoo"]["purl"] == "pkg:generic/libfoo@2.1"
    assert nested["libfoo"]["version"] == "2.1"
    # The SBOM file itself is a file of the zip like any other.
    with zipfile.ZipFile(project / "dist" / "lambda.zip") as archive:
        shipped = archive.read("bundled-1.0.dist-info/sboms/bundled.cdx.json")
    assert reference["hashes"] == [
        {"alg": "SHA-256", "content": hashlib.sha256(shipped).hexdigest()}
    ]


def _wheel_with_sbom(tmp_path: Path) -> Path:
    nested = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {
                "type": "library",
                "name": "libfoo",
                "version": "2.1",
                "purl": "pkg:generic/libfoo@2.1",
            },
            {"type": "file", "name": "/usr/lib/libfoo.so"},  # nested, but never a file of the zip
        ],
    }
    files = {
        "bundled/__init__.py": b"VALUE = 1\n",
        "bundled-1.0.dist-info/METADATA": b"Metadata-Version: 2.4\nName: bundled\nVersion: 1.0\n"
        b"License-Expression: MIT OR Apache-2.0\n",
        "bundled-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        "bundled-1.0.dist-info/sboms/bundled.cdx.json": json.dumps(nested).encode(),
    }
    rows = []
    for path, data in files.items():
        encoded = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{path},sha256={encoded},{len(data)}")
    rows.append("bundled-1.0.dist-info/RECORD,,")
    files["bundled-1.0.dist-info/RECORD"] = ("\n".join(rows) + "\n").encode()
    wheel = tmp_path / "wheels" / "bundled-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


# The Action's attestation subjects


def _action_env(tmp_path: Path, workspace: Path, **inputs: str) -> dict[str, str]:
    env = support.tool_env(GITHUB_TOKEN=None)
    env.update(
        GITHUB_WORKSPACE=str(workspace),
        RUNNER_TEMP=str(tmp_path),
        GITHUB_OUTPUT=str(tmp_path / "output.txt"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        GITHUB_REPOSITORY="octo/app",
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME="push",
        INPUT_COMMENT="false",
        INPUT_VERIFY="false",
    )
    env.update({"INPUT_" + name.upper(): value for name, value in inputs.items()})
    return env


def _check_subjects(path: Path, workspace: Path) -> list[str]:
    """Each line against the file it names, hashed here: as `sha256sum --check` would."""
    names = []
    for line in path.read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert digest == hashlib.sha256((workspace / name).read_bytes()).hexdigest(), name
        names.append(name)
    return names


@pytest.mark.parametrize(("example", "expected"), [
    ("hello", ["app/dist/lambda.zip", "app/dist/lambda.zip.cdx.json"]),
    ("sam-app", [f"app/dist/{name}.zip{suffix}" for name in ("HelloFunction", "OrdersFunction")
                 for suffix in ("", ".cdx.json")]),
])  # fmt: skip
def test_the_action_lists_every_zip_and_sbom_it_wrote_as_subjects(
    tmp_path: Path, example: str, expected: list[str]
) -> None:
    workspace = tmp_path / "workspace"
    _copy(support.EXAMPLES / example, workspace, "app")
    env = _action_env(tmp_path, workspace, working_directory="app")
    assert cli.main(["action"], env) == 0
    outputs = support.read_action_outputs(tmp_path / "output.txt")
    subjects = Path(outputs["subjects"])
    assert subjects.parent == workspace / "app" / "dist"
    assert _check_subjects(subjects, workspace) == expected
    if shutil.which("sha256sum"):
        import subprocess

        command = ["sha256sum", "--check", "--strict", str(subjects)]
        checked = subprocess.run(command, cwd=workspace, capture_output=True, text=True,
                                 check=False)  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr

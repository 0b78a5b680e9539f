"""`--split` and the S3 ETags: two reproducible zips from one build, and every ETag a deploy tool
compares, checked against the reference rule and against boto3's real uploader on moto."""

from __future__ import annotations

import hashlib
import io
import json
import marshal
import random
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_zip_action import cli
from lambda_zip_action.etags import MIB, parse_etag, s3_etags

import support
from loopback_aws import client, moto_server
from support import PROJECTS, interpreter, run_cli, tool_env

PY = ["--python-version", "3.12"]


def reference_etag(data: bytes, part: int) -> str:
    digests = [hashlib.md5(data[i : i + part]).digest() for i in range(0, len(data), part)]
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


# --- ETags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [
        0,
        1,
        5 * MIB - 1,
        5 * MIB,
        5 * MIB + 1,
        8 * MIB - 1,
        8 * MIB,
        8 * MIB + 1,
        10 * MIB,
        17 * MIB,
    ],
)
def test_etags_follow_each_uploaders_rule(size: int) -> None:
    data = random.Random(size).randbytes(size)
    etags = s3_etags(io.BytesIO(data))
    md5 = hashlib.md5(data).hexdigest()
    assert etags.md5 == md5
    # Go SDK upload manager (Terraform): one PutObject up to and including 5 MiB.
    assert etags.s3_etag_5mib == (reference_etag(data, 5 * MIB) if size > 5 * MIB else md5)
    # s3transfer (aws s3 cp, boto3): multipart from exactly 8 MiB on.
    assert etags.s3_etag_8mib == (reference_etag(data, 8 * MIB) if size >= 8 * MIB else md5)


def test_etag_forms_and_candidates() -> None:
    etags = s3_etags(io.BytesIO(random.Random(9).randbytes(9 * MIB)))
    assert parse_etag(f'"{etags.md5.upper()}"') == (etags.md5, None)
    assert parse_etag(etags.s3_etag_5mib) == (etags.s3_etag_5mib[:32], 2)
    assert parse_etag("not an etag") is None
    assert parse_etag("0" * 32 + "-0") is None
    assert etags.candidates(etags.md5) == ["md5"]
    # 9 MiB: two parts from both uploaders, so a "-2" ETag is compared with both.
    assert etags.candidates(f'"{etags.s3_etag_8mib}"') == ["s3-etag-5mib", "s3-etag-8mib"]
    assert etags.candidates("0" * 32 + "-7") == []


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as url:
        yield url


@pytest.mark.parametrize("size", [8 * MIB - 1, 8 * MIB, 12 * MIB + 3])
def test_boto3_upload_file_gets_our_8mib_etag(size: int, s3_endpoint: str, tmp_path: Path) -> None:
    # boto3's upload_file is s3transfer with its defaults, the engine of `aws s3 cp`; moto
    # computes the ETag of a completed multipart upload from the parts it received.
    s3 = client("s3", s3_endpoint)
    s3.create_bucket(Bucket="etags")
    path = tmp_path / "blob.zip"
    path.write_bytes(random.Random(size).randbytes(size))
    s3.upload_file(str(path), "etags", f"{size}.zip")
    etag = s3.head_object(Bucket="etags", Key=f"{size}.zip")["ETag"].strip('"')
    with path.open("rb") as stream:
        ours = s3_etags(stream)
    assert etag == ours.s3_etag_8mib
    assert (etag == ours.md5) == (size < 8 * MIB)


# --- --split ---------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "fn"
    shutil.copytree(PROJECTS / "uvlock", target)
    return target


def split_build(project: Path, output: Path, *options: str) -> dict[str, object]:
    completed = run_cli(
        "build", "--project", str(project), *PY, "--python", str(interpreter("3.12")),
        "--output", str(output), "--split", "--json", *options,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    document: dict[str, object] = json.loads(completed.stdout)
    return document


def test_split_writes_a_code_zip_and_a_layer_zip(project: Path, tmp_path: Path) -> None:
    document = split_build(project, tmp_path / "dist" / "fn.zip")
    layer = document["layer"]
    assert isinstance(layer, dict)
    assert layer["path"] == str(tmp_path / "dist" / "fn-layer.zip")
    with zipfile.ZipFile(tmp_path / "dist" / "fn.zip") as function:
        names = function.namelist()
        assert all(name.startswith("app/") for name in names), names
        code = marshal.loads(function.read("app/__pycache__/handler.cpython-312.pyc")[16:])
        assert code.co_filename == "/var/task/app/handler.py"
    with zipfile.ZipFile(layer["path"]) as archive:
        names = archive.namelist()
        assert all(name.startswith("python/") for name in names)
        assert "python/six.py" in names and not any(n.startswith("python/app/") for n in names)
        code = marshal.loads(archive.read("python/__pycache__/six.cpython-312.pyc")[16:])
        assert code.co_filename == "/opt/python/six.py"
    for path, key, layout in ((document["manifest"], "sha256", "function"),
                              (layer["manifest"], "sha256", "layer")):  # fmt: skip
        manifest = json.loads(Path(str(path)).read_text())
        assert manifest["target"]["layout"] == layout
        assert manifest["inputs"]["split"] is True
        owner = document if layout == "function" else layer
        assert manifest["archive"][key] == owner[key]
        assert manifest["archive"]["s3-etag-5mib"] == owner["s3-etag-5mib"]
    function_manifest = json.loads(Path(str(document["manifest"])).read_text())
    assert function_manifest["distributions"] == []
    layer_manifest = json.loads(Path(str(layer["manifest"])).read_text())
    assert {d["name"] for d in layer_manifest["distributions"]} == {
        "markupsafe", "python-dateutil", "six",
    }  # fmt: skip

    # A handler change changes the function zip only.
    handler = project / "src" / "app" / "handler.py"
    handler.write_text(handler.read_text() + "\nVERSION = 2\n")
    again = split_build(project, tmp_path / "dist" / "fn.zip")
    assert again["sha256"] != document["sha256"]
    assert again["layer"]["sha256"] == layer["sha256"]  # type: ignore[index]


def test_split_from_pyproject_and_verify_proves_both(project: Path, tmp_path: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.lambda-zip]\nsplit = true\n")
    completed = run_cli(
        "verify", "--project", str(project), *PY, "--python", str(interpreter("3.12")),
        "--output", str(tmp_path / "out" / "lambda.zip"),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "function zip reproducible: both builds are" in completed.stdout
    assert "layer zip reproducible: both builds are" in completed.stdout
    assert "s3-etag-5mib" in completed.stdout and "Terraform aws_s3_object" in completed.stdout
    assert (tmp_path / "out" / "lambda-layer.zip.manifest.json").is_file()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--split", "--layout", "layer"], "split and layout layer exclude each other"),
        (["--layer-output", "x.zip"], "is given but split is not"),
        (["--split", "--layer-output", "OUT"], "would overwrite the function zip"),
    ],
)
def test_split_bad_settings_fail_in_one_paragraph(
    options: list[str], message: str, project: Path, tmp_path: Path
) -> None:
    output = tmp_path / "lambda.zip"
    options = [str(output) if option == "OUT" else option for option in options]
    completed = run_cli("build", "--project", str(project), *PY, "--output", str(output), *options)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stderr.count("\n") == 1
    assert not output.exists()


def test_failed_split_build_leaves_both_previous_pairs(project: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    split_build(project, dist / "lambda.zip")
    before = {path.name: path.read_bytes() for path in dist.iterdir()}
    assert len(before) == 6  # each zip with its SBOM and its manifest
    (project / "src" / "app" / "handler.py").write_text("def handler(e, c):\n    return 3\n")

    # The layer's directory cannot be created: the function zip was already written to its
    # temporary file when that fails, and must not replace the previous one.
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be")
    completed = run_cli(
        "build", "--project", str(project), *PY, "--python", str(interpreter("3.12")),
        "--output", str(dist / "lambda.zip"), "--split",
        "--layer-output", str(blocker / "layer.zip"),
    )  # fmt: skip
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    assert {path.name: path.read_bytes() for path in dist.iterdir()} == before

    # Nothing to put in the layer: an error before anything is written.
    (project / "uv.lock").unlink()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"markupsafe==3.0.2",\n', "").replace(
        '"python-dateutil==2.9.0.post0",\n', ""))  # fmt: skip
    completed = run_cli(
        "build", "--project", str(project), *PY, "--output", str(dist / "lambda.zip"), "--split"
    )
    assert completed.returncode == 2
    assert "Nothing for the layer zip" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert {path.name: path.read_bytes() for path in dist.iterdir()} == before


# --- the Action ------------------------------------------------------------------------------


def test_action_split_outputs_and_etag_compare(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    project = workspace / "fn"
    shutil.copytree(PROJECTS / "uvlock", project)
    deployed = split_build(project, tmp_path / "deployed" / "lambda.zip")
    layer = deployed["layer"]
    assert isinstance(layer, dict)
    (project / "src" / "app" / "handler.py").write_text("def handler(e, c):\n    return 4\n")
    env = tool_env(GITHUB_TOKEN=None)
    env.update(
        GITHUB_WORKSPACE=str(workspace),
        RUNNER_TEMP=str(tmp_path),
        GITHUB_OUTPUT=str(tmp_path / "output.txt"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        GITHUB_REPOSITORY="o/r",
        INPUT_WORKING_DIRECTORY="fn",
        INPUT_PYTHON_VERSION="3.12",
        INPUT_VERIFY="false",
        INPUT_SPLIT="true",
        INPUT_COMMENT="false",
        # What S3 reports for the deployed objects: the ETags, quoted as S3 prints them.
        INPUT_COMPARE_TO=f'"{deployed["md5"]}"',
        INPUT_LAYER_COMPARE_TO=f'"{layer["s3-etag-5mib"]}"',
    )
    assert cli.main(["action"], env) == 0
    outputs = support.read_action_outputs(tmp_path / "output.txt")
    assert outputs["changed"] == "true"  # the handler changed
    assert outputs["layer-changed"] == "false"  # the dependencies did not
    assert outputs["layer-sha256"] == layer["sha256"]
    assert outputs["layer-baseline-sha256"] == layer["sha256"]
    assert outputs["baseline-sha256"] == ""  # an ETag names no sha256
    assert outputs["layer-path"].endswith("fn/dist/lambda-layer.zip")
    assert outputs["s3-etag-5mib"] and outputs["layer-s3-etag-8mib"]
    assert Path(outputs["layer-report"]).is_file()
    summary = (tmp_path / "summary.md").read_text()
    assert "### Lambda package fn: changed" in summary
    assert "### Lambda package fn layer: unchanged" in summary

    # An ETag of bytes we never built: changed, not a false "unchanged".
    env["INPUT_LAYER_COMPARE_TO"] = "0" * 32
    (tmp_path / "output.txt").write_text("")
    assert cli.main(["action"], env) == 0
    assert support.read_action_outputs(tmp_path / "output.txt")["layer-changed"] == "true"

    env["INPUT_COMPARE_TO"] = "0" * 31
    assert cli.main(["action"], env) == 2
    assert Path(outputs["path"]).exists()


def test_function_and_layer_are_measured_together_against_the_unzipped_limit() -> None:
    from lambda_zip_action.limits import UNZIPPED_LIMIT, SizeReport, combined_problem

    mib = 1024 * 1024
    function, layer = SizeReport(10 * mib, 130 * mib, ()), SizeReport(20 * mib, 130 * mib, ())
    # Each alone is under 250 MiB, so neither report has a problem of its own...
    assert function.problems == [] and layer.problems == []
    # ...but Lambda counts the function and its layers together.
    together = combined_problem([function, layer])
    assert together is not None
    assert "260.0 MiB unzipped together (130.0 MiB + 130.0 MiB)" in together
    assert combined_problem([function, SizeReport(1, UNZIPPED_LIMIT - 130 * mib, ())]) is None
    assert combined_problem([function]) is None
    # One alone over the limit is said by its own report, not twice.
    over = SizeReport(1, UNZIPPED_LIMIT + 1, ())
    assert over.problems and combined_problem([function, over]) is None

"""The deploy side with real clients: Terraform with the hashicorp/aws provider, boto3, and AWS's
runtime interface client, against a moto server on 127.0.0.1.

One `--split` build of a function bigger than 5 MiB (so Terraform's aws_s3_object uploads it in
parts) and its dependencies layer is applied with aws_s3_object, aws_lambda_layer_version and
aws_lambda_function. Then:

- a fresh copy of the project in another directory (new file times, as a checkout makes), rebuilt
  with another TZ, umask 077, a fresh lambda-zip build cache and fresh temporary directories,
  plans "No changes" (`terraform plan -detailed-exitcode` exits 0);
- a naive zip of the same sources plans a change (exit 2): the check can fail;
- a one-line change to the handler plans an update of the function and its object only, never of
  the layer (exit 2, read from `terraform show -json`);
- Lambda's CodeSha256 (moto computes it from the stored bytes) equals our base64-sha256, and the
  S3 ETag of Terraform's upload equals our s3-etag-5mib, not the md5;
- the function and the layer fetched back through the API run under awslambdaric against a
  loopback Runtime API, read-only, invoked twice.

The uv download cache is shared with the other tests (a cold one would download every wheel
again); everything of lambda-zip's own is fresh for the rebuild.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loopback_aws import CREDENTIALS, client, moto_server, runtime_api
from support import PROJECTS, interpreter, tool_env
from unprivileged import give_away, make_read_only, unprivileged

TERRAFORM = "terraform"
PLUGIN_DIR = Path("/opt/tf-plugins")
# The runtime the function is built for: this Python, which has awslambdaric from the test extra.
VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
MIB = 1024 * 1024
BLOB_SIZE = 9 * MIB  # random bytes: the function zip is over 8 MiB, so every uploader splits it

HANDLER = """\
import json
import sys
from importlib.metadata import version
from pathlib import Path

import dateutil.parser
import markupsafe

CONFIG = json.loads((Path(__file__).parent / "data" / "config.json").read_text())
CALLS = []
GREETING = "hello"


def handler(event, context):
    CALLS.append(context.aws_request_id)
    when = dateutil.parser.isoparse(event["when"])
    return {
        "greeting": GREETING,
        "name": CONFIG["name"],
        "escaped": str(markupsafe.escape(event["html"])),
        "when": when.isoformat(),
        "calls": len(CALLS),
        "request_id": context.aws_request_id,
        "files": {
            "handler": __file__,
            "markupsafe": markupsafe.__file__,
            "dateutil": dateutil.__file__,
        },
        "cached": {"handler": __cached__, "markupsafe": markupsafe.__cached__},
        "speedups": "markupsafe._speedups" in sys.modules,
        "versions": {name: version(name) for name in ("markupsafe", "python-dateutil")},
    }
"""

MAIN_TF = """\
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "endpoint" {
  type = string
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {
    s3     = var.endpoint
    lambda = var.endpoint
    iam    = var.endpoint
    sts    = var.endpoint
  }
}

resource "aws_s3_bucket" "artifacts" {
  bucket = "artifacts"
}

resource "aws_s3_object" "function" {
  bucket      = aws_s3_bucket.artifacts.id
  key         = "fn/lambda.zip"
  source      = "${path.module}/dist/lambda.zip"
  source_hash = filebase64sha256("${path.module}/dist/lambda.zip")
}

resource "aws_s3_object" "layer" {
  bucket      = aws_s3_bucket.artifacts.id
  key         = "fn/lambda-layer.zip"
  source      = "${path.module}/dist/lambda-layer.zip"
  source_hash = filebase64sha256("${path.module}/dist/lambda-layer.zip")
}

resource "aws_lambda_layer_version" "dependencies" {
  layer_name          = "fn-dependencies"
  s3_bucket           = aws_s3_object.layer.bucket
  s3_key              = aws_s3_object.layer.key
  source_code_hash    = filebase64sha256("${path.module}/dist/lambda-layer.zip")
  compatible_runtimes = ["python%(version)s"]
}

resource "aws_iam_role" "function" {
  name = "fn"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_lambda_function" "function" {
  function_name    = "fn"
  role             = aws_iam_role.function.arn
  runtime          = "python%(version)s"
  handler          = "app.handler.handler"
  s3_bucket        = aws_s3_object.function.bucket
  s3_key           = aws_s3_object.function.key
  source_code_hash = filebase64sha256("${path.module}/dist/lambda.zip")
  layers           = [aws_lambda_layer_version.dependencies.arn]
}
"""


def require_terraform() -> None:
    missing = []
    if shutil.which(TERRAFORM) is None:
        missing.append("terraform is not on PATH")
    if not any(
        PLUGIN_DIR.glob("registry.terraform.io/hashicorp/aws/5.100.*/*/terraform-provider-aws_*")
    ):
        missing.append(f"the hashicorp/aws 5.100 provider is not under {PLUGIN_DIR}")
    if missing:
        pytest.fail(
            "; ".join(missing) + ". Install Terraform 1.11 (the release zip from HashiCorp, "
            "unpacked to /usr/local/bin/terraform) and put the hashicorp/aws 5.100.0 provider "
            f"in a filesystem mirror under {PLUGIN_DIR} (`terraform providers mirror "
            f"-platform=linux_amd64 {PLUGIN_DIR}` on a machine with access to the registry).",
            pytrace=False,
        )


def make_project(root: Path) -> Path:
    """The uv-locked fixture with our handler and 9 MiB of incompressible data in the function."""
    project = root / "fn"
    shutil.copytree(PROJECTS / "uvlock", project, copy_function=shutil.copy)
    (project / "src" / "app" / "handler.py").write_text(HANDLER)
    blob = random.Random(14).randbytes(BLOB_SIZE)
    (project / "src" / "app" / "data" / "blob.bin").write_bytes(blob)
    return project


def lambda_zip(
    project: Path, dist: Path, env: dict[str, str], *, umask: str = "022"
) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "lambda_zip_action", "build", "--project", str(project),
        "--python-version", VERSION, "--python", str(interpreter(VERSION)),
        "--output", str(dist / "lambda.zip"), "--split", "--json",
    ]  # fmt: skip
    completed = subprocess.run(
        ["/bin/sh", "-c", f'umask {umask} && exec "$0" "$@"', *command],
        env=env, cwd=project, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    document: dict[str, Any] = json.loads(completed.stdout)
    return document


class Terraform:
    def __init__(self, directory: Path, endpoint: str) -> None:
        self.directory = directory
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(directory),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            "TF_CLI_CONFIG_FILE": str(directory / "terraformrc"),
            "TF_VAR_endpoint": endpoint,
            **CREDENTIALS,
        }
        (directory / "terraformrc").write_text("")

    def __call__(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [TERRAFORM, *args, "-no-color"],
            cwd=self.directory, env=self.env, capture_output=True, text=True, check=False,
            timeout=300,
        )  # fmt: skip
        assert completed.returncode in ok, (
            f"terraform {' '.join(args)} exited {completed.returncode}:\n"
            f"{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
        )
        return completed

    def plan(self) -> tuple[int, dict[str, list[str]]]:
        """The exit code of `plan -detailed-exitcode` and each resource's planned actions."""
        completed = self("plan", "-detailed-exitcode", "-input=false", "-out=plan.out", ok=(0, 2))
        shown = subprocess.run(
            [TERRAFORM, "show", "-json", "plan.out"],
            cwd=self.directory, env=self.env, capture_output=True, text=True, check=True,
            timeout=120,
        )  # fmt: skip
        plan = json.loads(shown.stdout)
        actions = {
            change["address"]: change["change"]["actions"]
            for change in plan.get("resource_changes", [])
        }
        return completed.returncode, actions


def changing(actions: dict[str, list[str]]) -> set[str]:
    return {address for address, what in actions.items() if what not in (["no-op"], ["read"])}


def copy_dist(document: dict[str, Any], dist: Path) -> None:
    """Put a build's two zips where the Terraform configuration reads them."""
    dist.mkdir(exist_ok=True)
    shutil.copyfile(document["path"], dist / "lambda.zip")
    shutil.copyfile(document["layer"]["path"], dist / "lambda-layer.zip")


def b64sha256(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[str]:
    with moto_server(tmp_path / "moto.log") as url:
        yield url


def test_terraform_plans_no_change_for_a_rebuild_and_updates_only_the_function(
    tmp_path: Path, endpoint: str
) -> None:
    require_terraform()
    first_dir = tmp_path / "ci-run-1"
    project = make_project(first_dir)
    env = tool_env(LAMBDA_ZIP_NO_CACHE=None, LAMBDA_ZIP_CACHE_DIR=str(tmp_path / "cache-1"))
    first = lambda_zip(project, first_dir / "out", env)
    size = first["size"]
    assert size > 8 * MIB, size
    # Every uploader splits this zip, so no ETag of an upload is the zip's md5.
    assert first["s3-etag-5mib"].endswith("-2") and first["s3-etag-8mib"].endswith("-2")
    assert len({first["md5"], first["s3-etag-5mib"], first["s3-etag-8mib"]}) == 3

    stack = tmp_path / "terraform"
    stack.mkdir()
    (stack / "main.tf").write_text(MAIN_TF % {"version": VERSION})
    copy_dist(first, stack / "dist")
    terraform = Terraform(stack, endpoint)
    terraform("init", "-input=false", f"-plugin-dir={PLUGIN_DIR}")
    terraform("apply", "-auto-approve", "-input=false")

    # What the API reports about what Terraform uploaded.
    lam, s3 = client("lambda", endpoint), client("s3", endpoint)
    function = lam.get_function(FunctionName="fn")
    assert function["Configuration"]["CodeSha256"] == first["base64-sha256"]
    layer_version = lam.get_layer_version(LayerName="fn-dependencies", VersionNumber=1)
    assert layer_version["Content"]["CodeSha256"] == first["layer"]["base64-sha256"]
    head = s3.head_object(Bucket="artifacts", Key="fn/lambda.zip")
    assert head["ETag"].strip('"') == first["s3-etag-5mib"]
    assert head["ETag"].strip('"') != first["md5"]
    layer_head = s3.head_object(Bucket="artifacts", Key="fn/lambda-layer.zip")
    assert layer_head["ETag"].strip('"') == first["layer"]["s3-etag-5mib"]
    # boto3's upload_file is s3transfer, the AWS CLI's `s3 cp` engine: 8 MiB parts.
    s3.upload_file(str(stack / "dist" / "lambda.zip"), "artifacts", "cli/lambda.zip")
    cli_head = s3.head_object(Bucket="artifacts", Key="cli/lambda.zip")
    assert cli_head["ETag"].strip('"') == first["s3-etag-8mib"]
    print(
        f"figures: size {size}, sha256 {first['sha256']}, base64 {first['base64-sha256']}, "
        f"md5 {first['md5']}, terraform ETag {head['ETag']}, s3transfer ETag {cli_head['ETag']}, "
        f"layer {first['layer']['sha256']} ETag {layer_head['ETag']}"
    )

    # A fresh clone elsewhere, new file times, other TZ, umask 077, a cold lambda-zip cache and
    # fresh temporary directories: the plan is empty.
    second_dir = tmp_path / "elsewhere" / "much" / "deeper" / "ci-run-2"
    clone = second_dir / "fn"
    shutil.copytree(project, clone, copy_function=shutil.copy)
    for path in clone.rglob("*"):
        os.utime(path, (2_000_000_000, 2_000_000_000))
    fresh_tmp = second_dir / "tmp"
    fresh_tmp.mkdir()
    env_two = tool_env(
        LAMBDA_ZIP_NO_CACHE=None,
        LAMBDA_ZIP_CACHE_DIR=str(second_dir / "cache"),
        TMPDIR=str(fresh_tmp),
        TZ="Pacific/Kiritimati",
        LC_ALL="C",
    )
    second = lambda_zip(clone, second_dir / "out", env_two, umask="077")
    assert second["sha256"] == first["sha256"]
    assert second["layer"]["sha256"] == first["layer"]["sha256"]
    copy_dist(second, stack / "dist")
    code, actions = terraform.plan()
    print(f"figures: rebuild plan exit {code}")
    assert code == 0, actions
    assert changing(actions) == set()

    # The check can fail: a naive zip of the same sources (file times kept) plans a change.
    naive = tmp_path / "naive.zip"
    with zipfile.ZipFile(naive, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((clone / "src").rglob("*")):
            archive.write(path, path.relative_to(clone / "src").as_posix())
    shutil.copyfile(naive, stack / "dist" / "lambda.zip")
    code, actions = terraform.plan()
    print(f"figures: naive zip plan exit {code}: {sorted(changing(actions))}")
    assert code == 2
    assert changing(actions) == {"aws_s3_object.function", "aws_lambda_function.function"}

    # A one-line handler change: the function and its object change, the layer does not.
    handler = clone / "src" / "app" / "handler.py"
    handler.write_text(handler.read_text().replace('GREETING = "hello"', 'GREETING = "hi"'))
    third = lambda_zip(clone, second_dir / "out", env_two, umask="077")
    assert third["sha256"] != first["sha256"]
    assert third["layer"]["sha256"] == first["layer"]["sha256"]
    copy_dist(third, stack / "dist")
    code, actions = terraform.plan()
    print(f"figures: handler change plan exit {code}: {actions}")
    assert code == 2
    assert changing(actions) == {"aws_s3_object.function", "aws_lambda_function.function"}
    assert actions["aws_lambda_function.function"] == ["update"]
    assert actions["aws_s3_object.function"] == ["update"]
    assert actions["aws_lambda_layer_version.dependencies"] == ["no-op"]
    assert actions["aws_s3_object.layer"] == ["no-op"]

    # The deployed package, fetched back through the API, runs under awslambdaric.
    location = function["Code"]["Location"]
    key = location.split(".amazonaws.com/", 1)[1]  # moto names AWS's host, not itself
    fetched = tmp_path / "fetched"
    fetched.mkdir()
    (fetched / "function.zip").write_bytes(
        s3.get_object(Bucket="artifacts", Key=key)["Body"].read()
    )
    (fetched / "layer.zip").write_bytes(
        s3.get_object(Bucket="artifacts", Key="fn/lambda-layer.zip")["Body"].read()
    )
    assert b64sha256(fetched / "function.zip") == first["base64-sha256"]
    assert b64sha256(fetched / "layer.zip") == first["layer"]["base64-sha256"]
    run_under_awslambdaric(fetched / "function.zip", fetched / "layer.zip", tmp_path / "runtime")


def run_under_awslambdaric(function_zip: Path, layer_zip: Path, root: Path) -> None:
    task, opt = root / "var-task", root / "opt"
    for archive, target in ((function_zip, task), (layer_zip, opt)):
        target.mkdir(parents=True)
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(target)
        give_away(target)
        make_read_only(target)
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LAMBDA_TASK_ROOT": str(task),
        "PYTHONPATH": f"{task}:{opt / 'python'}",
        "_HANDLER": "app.handler.handler",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
        "AWS_LAMBDA_LOG_STREAM_NAME": "test",
    }
    with runtime_api() as api:
        env["AWS_LAMBDA_RUNTIME_API"] = api.address
        log = (root / "runtime.log").open("w+")
        process = subprocess.Popen(
            unprivileged([sys.executable, "-m", "awslambdaric", "app.handler.handler"]),
            env=env, cwd=str(task), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            responses = []
            for when in ("2024-02-29T12:00:00+00:00", "2025-03-01T00:30:00+05:45"):
                request_id = api.invoke({"when": when, "html": "<b>&</b>"})
                try:
                    got_id, kind, body = api.result(timeout=60)
                except Exception:
                    log.seek(0)
                    pytest.fail(f"no answer from awslambdaric:\n{log.read()[-3000:]}")
                assert (got_id, kind) == (request_id, "response"), body
                responses.append((request_id, when, body))
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()
    for number, (request_id, when, body) in enumerate(responses, start=1):
        assert body["calls"] == number  # one process, invoked twice, state kept between
        assert body["request_id"] == request_id
        assert body["greeting"] == "hello"
        assert body["escaped"] == "&lt;b&gt;&amp;&lt;/b&gt;"
        assert body["when"] == when
        assert body["speedups"] is True
        assert body["versions"] == {"markupsafe": "3.0.2", "python-dateutil": "2.9.0.post0"}
        assert body["files"]["handler"] == f"{task}/app/handler.py"
        assert body["files"]["markupsafe"].startswith(f"{opt}/python/markupsafe/")
        assert body["files"]["dateutil"].startswith(f"{opt}/python/dateutil/")
        tag = f"cpython-{VERSION.replace('.', '')}"
        assert body["cached"]["handler"] == f"{task}/app/__pycache__/handler.{tag}.pyc"

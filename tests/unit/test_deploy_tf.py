"""deploy.discover on Terraform as projects write it: the root module at the top or in a
terraform/ or infra/ directory, aws_lambda_function over data "archive_file" (source_dir or
source_file, by reference or by the same output_path), the terraform-aws-modules/lambda
module, local modules called with arguments; each value not understood is one error naming
its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_zip_action.deploy import discover
from lambda_zip_action.errors import DeployConfigError

import support


def _project(root: Path, files: dict[str, str | bytes]) -> Path:
    return support.write_files(root, files)


# A terraform/ directory beside the code, the zip named by its path rather than by reference.
BESIDE = """\
    locals {
      code = "${path.module}/../backend/transcribe"
    }

    data "archive_file" "transcribe" {
      type        = "zip"
      source_dir  = local.code
      output_path = "${path.module}/../backend/transcribe.zip"
      excludes    = ["tests", "README.md"]
    }

    resource "aws_lambda_function" "transcribe" {
      filename      = "${path.module}/../backend/transcribe.zip"
      function_name = "${var.app_name}-transcribe"
      role          = aws_iam_role.lambda.arn
      handler       = "handler.lambda_handler"
      runtime       = "python3.12"
      architectures = ["arm64"]
    }
"""


def test_a_terraform_directory_beside_the_code(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "terraform/main.tf": BESIDE, "terraform/variables.tf": 'variable "app_name" {}\n',
        "backend/transcribe/handler.py": "", "backend/transcribe/requirements.txt": "",
    })  # fmt: skip
    found = discover(root)
    assert found is not None and found.tool == "terraform"
    [fn] = found.functions
    assert (fn.name, fn.code_dir) == ("transcribe", root / "backend" / "transcribe")
    assert fn.excludes == ("tests", "README.md")
    assert fn.requirements == root / "backend" / "transcribe" / "requirements.txt"
    assert fn.handler is not None and str(fn.handler.origin) == "terraform/main.tf:16"
    assert fn.architecture is not None and fn.architecture.value == "arm64"
    assert str(fn.origin) == "terraform/main.tf:12"


def test_source_file_relative_to_the_module(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "infrastructure/lambda-package.tf": """\
            data "archive_file" "lambda-package" {
              type        = "zip"
              source_file = "../lambda-source-code/hello_world.py"
              output_path = "../files/${var.lambda_package_filename}"
            }
            resource "aws_lambda_function" "hello" {
              filename = data.archive_file.lambda-package.output_path
              handler  = "hello_world.lambda_handler"
              runtime  = "python3.13"
            }
        """,
        "lambda-source-code/hello_world.py": "", "lambda-source-code/notes.md": "",
        "lambda-source-code/tools/x.py": "",
    })  # fmt: skip
    found = discover(root)
    assert found is not None
    [fn] = found.functions
    assert fn.code_dir == root / "lambda-source-code"
    assert set(fn.excludes) == {"notes.md", "tools"}  # only the one file is zipped


def test_a_local_module_called_with_arguments(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.tf": """\
            module "orders" {
              source     = "./modules/python-lambda"
              name       = "orders"
              source_dir = "${path.module}/services/orders"
              handler    = "app.handler"
            }
            module "vpc" {
              source = "terraform-aws-modules/vpc/aws"
            }
        """,
        "modules/python-lambda/main.tf": """\
            variable "name" {}
            variable "source_dir" {}
            variable "handler" {}
            variable "runtime" {
              default = "python3.11"
            }
            data "archive_file" "this" {
              type        = "zip"
              source_dir  = var.source_dir
              output_path = "${path.root}/build/${var.name}.zip"
            }
            resource "aws_lambda_function" "this" {
              function_name = var.name
              filename      = data.archive_file.this.output_path
              handler       = var.handler
              runtime       = var.runtime
            }
        """,
        "services/orders/app.py": "",
    })  # fmt: skip
    found = discover(root)
    assert found is not None
    [fn] = found.functions
    assert (fn.name, fn.code_dir) == ("orders", root / "services" / "orders")
    assert fn.runtime is not None and str(fn.runtime.origin) == "modules/python-lambda/main.tf:16"


def test_the_lambda_module_from_git_with_patterns(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.tf": """\
            module "lambda_function" {
              source = "git::https://github.com/terraform-aws-modules/terraform-aws-lambda.git?ref=v7.2.0"

              function_name = "app1"
              handler       = "index.lambda_handler"
              runtime       = "python3.12"
              source_path = [{
                path             = "${path.module}/src/python-app1"
                pip_requirements = "${path.module}/src/python-app1/requirements-prod.txt"
                patterns         = ["!\\\\.venv/.*", "!.*\\\\.md"]
              }]
            }
            module "plain" {
              source        = "terraform-aws-modules/lambda/aws"
              handler       = "index.lambda_handler"
              runtime       = "python3.12"
              source_path   = [{ path = "${path.module}/src/plain" }]
            }
        """,
        "src/python-app1/index.py": "", "src/python-app1/requirements-prod.txt": "",
        "src/plain/index.py": "", "src/plain/requirements.txt": "",
    })  # fmt: skip
    found = discover(root)
    assert found is not None
    app, plain = found.functions
    assert app.requirements == root / "src" / "python-app1" / "requirements-prod.txt"
    assert app.excludes == (".venv", "*.md")
    assert plain.requirements is None  # a map installs nothing unless pip_requirements says so


def test_a_prebuilt_zip_and_node_are_notes(tmp_path: Path) -> None:
    root = _project(tmp_path, {"lambda.tf": """\
        resource "aws_lambda_function" "prebuilt" {
          filename = "dist/fn.zip"
          handler  = "a.b"
          runtime  = "python3.12"
        }
        resource "aws_lambda_function" "node" {
          s3_bucket = "b"
          handler   = "index.handler"
          runtime   = "nodejs22.x"
        }
    """})  # fmt: skip
    found = discover(root)
    assert found is not None and found.functions == ()
    assert any("prebuilt" in note and "not built here" in note for note in found.notes)
    assert any("nodejs22.x" in note for note in found.notes)


def test_several_root_modules_are_named_with_choose(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "terraform/main.tf": BESIDE, "infra/main.tf": BESIDE.replace("python3.12", "python3.13"),
        "backend/transcribe/handler.py": "",
    })  # fmt: skip
    with pytest.raises(DeployConfigError, match="several deploy configurations"):
        discover(root)
    found = discover(root, choose="infra")
    assert found is not None
    [fn] = found.functions
    assert fn.runtime is not None and str(fn.runtime.origin) == "infra/main.tf:17"


ARCHIVE = 'data "archive_file" "z" {\n  source_dir = "${path.module}/src"\n}\n'


@pytest.mark.parametrize(
    ("tf", "words"),
    [
        (
            ARCHIVE + 'resource "aws_lambda_function" "f" {\n'
            '  filename = data.archive_file.z.output_path\n  handler = "app.h"\n'
            "  runtime = data.aws_ssm_parameter.runtime.value\n}\n",
            "main.tf:7: the runtime of resource",
        ),
        (
            ARCHIVE + 'resource "aws_lambda_function" "f" {\n'
            '  filename = data.archive_file.z.output_path\n  runtime = "python3.12"\n}\n',
            'main.tf:4: resource "aws_lambda_function" "f" declares no handler',
        ),
        (
            ARCHIVE + 'resource "aws_lambda_function" "f" {\n'
            '  filename = data.archive_file.z.output_path\n  handler = "app.h"\n'
            '  runtime = "python3.8"\n}\n',
            "main.tf:7 declares python3.8 for f, which Lambda no longer runs",
        ),
        (
            'data "archive_file" "z" {\n  source_dir = "${path.module}/../outside"\n}\n'
            'resource "aws_lambda_function" "f" {\n'
            '  filename = data.archive_file.z.output_path\n  handler = "app.h"\n'
            '  runtime = "python3.12"\n}\n',
            "main.tf:2 puts the code of f at",
        ),
        (
            'module "m" {\n  source = "terraform-aws-modules/lambda/aws"\n  handler = "a.b"\n'
            '  runtime = "python3.12"\n'
            '  source_path = ["${path.module}/src", "${path.module}/lib"]\n}\n',
            "main.tf:5: the source_path of m joins 2 sources",
        ),
        (
            'module "m" {\n  source = "terraform-aws-modules/lambda/aws"\n  handler = "a.b"\n'
            '  runtime = "python3.12"\n'
            '  source_path = [{ path = "src", commands = ["make"] }]\n}\n',
            "main.tf:5: the source_path of m sets commands",
        ),
        (
            'module "m" {\n  source = "terraform-aws-modules/lambda/aws"\n  handler = "a.b"\n'
            '  runtime = "python3.12"\n'
            '  source_path = [{ path = "src", patterns = ["!.*", "app\\\\.py"] }]\n}\n',
            "main.tf:5: the source_path pattern '!.*' of m",
        ),
        (
            'resource "aws_lambda_function" "f" {\n  for_each = toset(["a"])\n'
            '  handler = "${each.key}.handler"\n  runtime = "python3.12"\n}\n',
            "main.tf:3: the handler of resource",
        ),
        ('resource "aws_lambda_function" "f" {\n  handler = \n}\n', "main.tf:2 is not valid HCL"),
    ],
)
def test_terraform_not_understood_is_one_error_naming_the_line(
    tmp_path: Path, tf: str, words: str
) -> None:
    root = _project(tmp_path / "p", {"main.tf": tf, "src/app.py": ""})
    (tmp_path / "outside").mkdir()
    with pytest.raises(DeployConfigError) as raised:
        discover(root)
    assert words in raised.value.message
    assert "\n" not in raised.value.message

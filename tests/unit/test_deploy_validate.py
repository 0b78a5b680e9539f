"""The checks every deploy configuration passes through, whichever tool wrote it: the handler's
module in the code directory (named with the handler's line), unique names."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lambda_zip_action.deploy import discover
from lambda_zip_action.errors import DeployConfigError

TEMPLATE = """\
    Transform: AWS::Serverless-2016-10-31
    Resources:
      HelloWorldFunction:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: hello_world/
          Handler: {handler}
          Runtime: python3.12
"""


def _sam(root: Path, handler: str, files: tuple[str, ...]) -> Path:
    (root / "template.yaml").write_text(textwrap.dedent(TEMPLATE).format(handler=handler))
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    return root


@pytest.mark.parametrize(
    ("handler", "files"),
    [
        ("app.lambda_handler", ("hello_world/app.py",)),
        ("pkg.app.handler", ("hello_world/pkg/app/__init__.py",)),
        ("src/handlers/app.main", ("hello_world/src/handlers/app.py",)),
        ("fast.handler", ("hello_world/fast.cpython-312-x86_64-linux-gnu.so",)),
    ],
)
def test_a_handler_module_in_the_code_directory(
    tmp_path: Path, handler: str, files: tuple[str, ...]
) -> None:
    found = discover(_sam(tmp_path, handler, files))
    assert found is not None and len(found.functions) == 1


@pytest.mark.parametrize(
    ("handler", "files", "words"),
    [
        (
            "hello_world.app.lambda_handler",  # relative to the project, not to CodeUri
            ("hello_world/app.py",),
            "template.yaml:7 declares handler 'hello_world.app.lambda_handler' for "
            "HelloWorldFunction, but its code directory hello_world holds no "
            "hello_world/app.py",
        ),
        ("lambda_handler", ("hello_world/app.py",), "which is not module.function"),
    ],
)
def test_a_handler_lambda_could_not_import_names_its_line(
    tmp_path: Path, handler: str, files: tuple[str, ...], words: str
) -> None:
    with pytest.raises(DeployConfigError) as raised:
        discover(_sam(tmp_path, handler, files))
    assert words in raised.value.message


def test_two_functions_of_one_name(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("")
    (tmp_path / "main.tf").write_text(
        'data "archive_file" "z" {\n  source_dir = "${path.module}/src"\n}\n'
        'resource "aws_lambda_function" "api" {\n'
        "  filename = data.archive_file.z.output_path\n"
        '  handler = "app.handler"\n  runtime = "python3.12"\n}\n'
        'module "api" {\n  source = "terraform-aws-modules/lambda/aws"\n'
        '  handler = "app.handler"\n  runtime = "python3.12"\n'
        '  source_path = "${path.module}/src"\n}\n'
    )
    with pytest.raises(DeployConfigError, match=r"main\.tf:9 and main\.tf:4 both declare api"):
        discover(tmp_path)

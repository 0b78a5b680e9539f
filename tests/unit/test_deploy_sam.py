"""deploy.discover on SAM and CloudFormation templates as owners write them: every short tag
CloudFormation has, Parameters, Mappings, Globals (their Layers added to the function's),
samconfig's template_file, layers built from a requirements.txt; a value known only at
deploy time, where it is needed, is one error naming the file and line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from lambda_zip_action.deploy import discover
from lambda_zip_action.errors import DeployConfigError

import support


def _project(root: Path, files: dict[str, str | bytes]) -> Path:
    return support.write_files(root, files)


# The shape of `sam init` templates grown by their owners: conditions, mappings, outputs.
TEMPLATE = """\
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    Description: orders service
    Parameters:
      Stage:
        Type: String
        Default: dev
        AllowedValues: [dev, prod]
      VpcCidr:
        Type: String
        Default: 10.0.0.0/16
    Mappings:
      StageConfig:
        dev:
          Runtime: python3.13
        prod:
          Runtime: python3.12
    Conditions:
      IsProd: !Equals [!Ref Stage, prod]
      NotProd: !Not [!Condition IsProd]
      Both: !And [!Condition IsProd, !Or [!Condition NotProd, !Equals [a, a]]]
    Globals:
      Function:
        Runtime: !FindInMap [StageConfig, !Ref Stage, Runtime]
        Timeout: 10
        Layers:
          - !Ref CommonLayer
        Environment:
          Variables:
            TABLE: !ImportValue shared-table
            AZ: !Select [0, !GetAZs '']
            PARTS: !Join [',', !Split ['-', 'a-b']]
    Resources:
      OrdersFunction:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: !Sub
            - '${Base}/orders/'
            - Base: ../src
          Handler: app.lambda_handler
          Architectures:
            - arm64
          Layers:
            - !Ref PowertoolsLayerArn
      CommonLayer:
        Type: AWS::Serverless::LayerVersion
        Properties:
          ContentUri: ../layers/common/
          CompatibleRuntimes: [python3.13]
          CompatibleArchitectures: [arm64]
        Metadata:
          BuildMethod: python3.13
      Subnets:
        Type: AWS::EC2::VPC
        Properties:
          CidrBlock: !Ref VpcCidr
          Ipv6: !Cidr [!GetAtt Vpc.CidrBlock, 6, 64]
          UserData: !Base64 '#!/bin/sh'
    Outputs:
      OrdersArn:
        Value: !GetAtt OrdersFunction.Arn
        Condition: IsProd
"""


def test_every_short_tag_and_samconfig_template_file(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "samconfig.toml": 'version = 0.1\n[default.build.parameters]\ncached = true\n'
        'template_file = "infra/template.yaml"\n',
        "infra/template.yaml": TEMPLATE,
        "src/orders/app.py": "", "src/orders/requirements.txt": "",
        "layers/common/requirements.txt": "six==1.17.0\n",
    })  # fmt: skip
    found = discover(root)
    assert found is not None and found.tool == "sam"
    assert found.files[0].path == "infra/template.yaml"
    [orders] = found.functions
    assert orders.code_dir == root / "src" / "orders"  # CodeUri is relative to the template
    assert orders.runtime is not None and orders.runtime.value == "python3.13"
    assert str(orders.runtime.origin) == "infra/template.yaml:24"
    assert orders.layers == ("CommonLayer", "PowertoolsLayerArn")  # Globals' first, then own
    [layer] = found.layers
    assert layer.content_dir == root / "layers" / "common"
    assert layer.requirements == root / "layers" / "common" / "requirements.txt"
    assert [r.value for r in layer.runtimes] == ["python3.13"]


def test_cloudformation_code_paths_and_json(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "Packaged": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": "./fn", "Handler": "main.handler", "Runtime": "python3.11"},
            },
            "InS3": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Code": {"S3Bucket": "b", "S3Key": "k.zip"},
                    "Handler": "main.handler",
                    "Runtime": "python3.11",
                },
            },
        }
    }
    root = _project(tmp_path, {"template.json": json.dumps(template, indent=2), "fn/main.py": ""})
    found = discover(root)
    assert found is not None and found.tool == "cloudformation"
    [packaged] = found.functions
    assert packaged.code_dir == root / "fn" and packaged.requirements is None
    assert packaged.handler is not None and str(packaged.handler.origin) == "template.json:7"
    assert any("InS3" in note and "S3" in note for note in found.notes)


FUNCTION = """\
    Parameters:
      Arch:
        Type: String
    Conditions:
      Big: !Equals [a, b]
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: fn/
          Handler: app.handler
          Runtime: python3.12
"""


@pytest.mark.parametrize(
    ("replace", "words"),
    [
        (
            ("Runtime: python3.12", "Runtime: python3.12\n      Architectures: [!Ref Arch]"),
            "template.yaml:13: the Architectures of Fn is",
        ),
        (
            ("CodeUri: fn/", "CodeUri: !GetAtt Bucket.Name"),
            "template.yaml:10: the CodeUri of Fn is !GetAtt",
        ),
        (
            ("Handler: app.handler", "Handler: !If [Big, big.handler, app.handler]"),
            "template.yaml:11: the Handler of Fn is !If",
        ),
        (("Runtime: python3.12", "Runtime: python3.9"), "template.yaml:12 declares python3.9"),
        (("Runtime: python3.12", "Runtime: python3.15"), "not a Lambda Python runtime"),
        (("Runtime: python3.12", "Runtime: !Ref Arch"), "the Runtime of Fn is !Ref Arch"),
        (("CodeUri: fn/", "CodeUri: ../elsewhere/"), "template.yaml:10 puts the code of Fn at"),
        (("      Handler: app.handler\n", ""), "template.yaml:7 declares Fn without a Handler"),
        (
            ("Runtime: python3.12", "Runtime: python3.12\n      Architectures: [x86]"),
            "template.yaml:13 declares the architecture of Fn as 'x86'",
        ),
    ],
)
def test_a_template_not_understood_is_one_error_naming_the_line(
    tmp_path: Path, replace: tuple[str, str], words: str
) -> None:
    text = textwrap.dedent(FUNCTION).replace(*replace)
    root = _project(tmp_path, {"template.yaml": text, "fn/app.py": ""})
    with pytest.raises(DeployConfigError) as raised:
        discover(root)
    assert words in raised.value.message
    assert "\n" not in raised.value.message


@pytest.mark.parametrize(
    ("samconfig", "words"),
    [
        (
            '[default.build.parameters]\ntemplate_file = "missing.yaml"\n',
            "samconfig.toml:2 names the template missing.yaml",
        ),
        ('[default.global.parameters]\ntemplate = "../t.yaml"\n', "samconfig.toml:2 puts"),
        ("[default\n", "samconfig.toml is not valid TOML"),
    ],
)
def test_samconfig_naming_no_template_of_the_project(
    tmp_path: Path, samconfig: str, words: str
) -> None:
    root = _project(tmp_path / "p", {"samconfig.toml": samconfig})
    (tmp_path / "t.yaml").write_text("Resources: {}\n")
    with pytest.raises(DeployConfigError) as raised:
        discover(root)
    assert words in raised.value.message


def test_no_codeuri_is_the_templates_directory_and_a_file_is_zipped_alone(
    tmp_path: Path,
) -> None:
    """SAM's own defaults (samcli DEFAULT_CODEURI "."; a CodeUri naming one file), and every
    layer a function names, an ARN included: each was an error or dropped."""
    header = "Transform: AWS::Serverless-2016-10-31\nResources:\n"
    root = _project(tmp_path / "root", {
        "template.yaml": header + textwrap.indent(textwrap.dedent("""\
              Root:
                Type: AWS::Serverless::Function
                Properties:
                  Handler: producer-function.lambda_handler
                  Runtime: python3.12
                  Layers:
                    - arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:7
                    - !Sub arn:aws:lambda:${AWS::Region}:017000801446:layer:Other:1
            """), "  "),
        "producer-function.py": "def lambda_handler(e, c):\n    return 1\n",
    })  # fmt: skip
    found = discover(root)
    assert found is not None
    [root_fn] = found.functions
    assert root_fn.code_dir == root.resolve() and any("names no CodeUri" in n for n in found.notes)
    assert root_fn.layers[0].startswith("arn:aws:lambda:us-east-1:") and len(root_fn.layers) == 2
    single = _project(tmp_path / "single", {
        "template.yaml": header + textwrap.indent(textwrap.dedent("""\
              One:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: fn/app.py
                  Handler: app.handler
                  Runtime: python3.12
            """), "  "),
        "fn/app.py": "def handler(e, c):\n    return 1\n",
        "fn/other.py": "", "fn/requirements.txt": "requests\n",
    })  # fmt: skip
    found = discover(single)
    assert found is not None
    [one] = found.functions
    assert one.code_dir == (single / "fn").resolve()
    assert set(one.excludes) == {"other.py", "requirements.txt"} and one.requirements is None

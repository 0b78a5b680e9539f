"""deploy.discover on deploy configurations written as their owners write them: what each
declares, where each fact was said, and every configuration that is present but not understood
(or wrong) as one error naming the file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_zip_action.deploy import discover
from lambda_zip_action.errors import DeployConfigError

import support


def _project(root: Path, files: dict[str, str | bytes]) -> Path:
    return support.write_files(root, files)


SAM = """\
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      PythonRuntime:
        Type: String
        Default: python3.12
    Globals:
      Function:
        Runtime: !Ref PythonRuntime
        Architectures: [arm64]
    Resources:
      Api:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: api/
          Handler: app.handler
      Node:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: web/
          Handler: index.handler
          Runtime: nodejs22.x
      Table:
        Type: AWS::Serverless::SimpleTable
"""


def test_sam_globals_parameters_and_other_languages(tmp_path: Path) -> None:
    files = {"template.yaml": SAM, "api/app.py": "", "web/index.js": ""}
    root = _project(tmp_path, {**files, "api/requirements.txt": "six==1.17.0\n"})
    found = discover(root)
    assert found is not None and found.tool == "sam"
    [api] = found.functions  # the Node function is a note
    assert (api.name, api.code_dir) == ("Api", root / "api")
    assert api.requirements == root / "api" / "requirements.txt"
    assert api.runtime is not None and api.runtime.value == "python3.12"
    assert str(api.runtime.origin) == "template.yaml:9"  # Globals, through !Ref's Default
    assert api.architecture is not None and str(api.architecture.origin) == "template.yaml:10"
    assert any("nodejs22.x" in note for note in found.notes)


@pytest.mark.parametrize(
    ("files", "words"),
    [
        (
            {
                "template.yaml": "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
                "    Properties:\n      CodeUri: f/\n      Handler: a.b\n"
                "      Runtime: python3.8\n",
                "f/a.py": "",
            },
            "template.yaml:7 declares python3.8 for F, which Lambda no longer runs",
        ),
        (
            {
                "template.yaml": "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
                "    Properties:\n      CodeUri: ../elsewhere\n      Handler: a.b\n"
                "      Runtime: python3.12\n"
            },
            "outside the project",
        ),
        (
            {
                "template.yaml": "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
                "    Metadata:\n      BuildMethod: makefile\n    Properties:\n      CodeUri: f/\n"
                "      Handler: a.b\n      Runtime: python3.12\n",
                "f/a.py": "",
            },
            "BuildMethod makefile",
        ),
        ({"template.yaml": "Resources: [oops"}, "template.yaml:1 is not valid YAML"),
        # A layer has no handler to find: its content was any directory, .git (with checkout's
        # token in .git/config) included.
        (
            {
                "template.yaml": "Resources:\n  Deps:\n    Type: AWS::Serverless::LayerVersion\n"
                "    Properties:\n      ContentUri: .git/\n    Metadata:\n"
                "      BuildMethod: python3.12\n",
                ".git/config": "[http]\n  extraheader = AUTHORIZATION: basic eC1h\n",
                ".git/HEAD": "ref: refs/heads/main\n",
            },
            "a version control directory",
        ),
        # PyYAML keeps the second Runtime silently: which one does the deploy tool use?
        (
            {
                "template.yaml": "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
                "    Properties:\n      CodeUri: f/\n      Handler: a.b\n"
                "      Runtime: python3.12\n      Runtime: python3.13\n",
                "f/a.py": "def b(e, c):\n    return 1\n",
            },
            "template.yaml:8 repeats the key 'Runtime' of line 7",
        ),
        ({"template.json": '{"Resources": {}, "Resources": {}}'}, "repeats the key 'Resources'"),
        ({"template.yaml": "Resources: {}\n".encode("utf-16")}, "starts as UTF-16 does"),
        ({"serverless.ts": "export default {}"}, "serverless.ts is a program"),
        (
            {"serverless.yml": "service: s\nfunctions:\n  hello:\n    handler: h.hello\n"},
            "no runtime",
        ),
        (
            {
                "serverless.yml": "service: s\nprovider:\n  runtime: python3.12\npackage:\n"
                "  patterns:\n    - '!docs/**'\n    - 'docs/api.md'\nfunctions:\n"
                "  hello:\n    handler: h.hello\n"
            },
            "serverless.yml:5: the package pattern 'docs/api.md' takes back part",
        ),
        ({"cdk.json": "{}"}, "Run `cdk synth` first"),
        (
            {
                "template.yaml": SAM,
                "serverless.yml": "service: s\nfunctions: {}\n",
                "api/app.py": "",
            },
            "several deploy configurations",
        ),
        (
            {
                "template.yaml": "Resources:\n  Outer:\n    Type: AWS::Serverless::Function\n"
                "    Properties:\n      CodeUri: svc/\n      Handler: a.b\n"
                "      Runtime: python3.12\n"
                "  Inner:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      CodeUri: svc/inner/\n      Handler: c.d\n      Runtime: python3.12\n",
                "svc/a.py": "",
                "svc/inner/c.py": "",
            },
            "would ship Inner too",
        ),
        (
            {
                "template.yaml": "Resources:\n  ../x:\n    Type: AWS::Serverless::Function\n"
                "    Properties:\n      CodeUri: f/\n      Handler: a.b\n"
                "      Runtime: python3.12\n",
                "f/a.py": "",
            },
            "cannot name its zip",
        ),
    ],
)
def test_a_configuration_not_understood_is_one_error_naming_where(
    tmp_path: Path, files: dict[str, str | bytes], words: str
) -> None:
    root = _project(tmp_path, files)
    (tmp_path.parent / "elsewhere").mkdir(exist_ok=True)
    with pytest.raises(DeployConfigError) as raised:
        discover(root)
    assert words in raised.value.message
    assert "\n" not in raised.value.message


def test_serverless_variables_modules_and_patterns(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "serverless.yml": """\
            service: orders
            custom:
              runtime: python3.13
            provider:
              name: aws
              runtime: ${self:custom.runtime}
              architecture: ${opt:arch, 'arm64'}
            plugins: [serverless-python-requirements]
            package:
              individually: true
              patterns: ['!node_modules/**', '!docs/**', 'data/*.json']
            functions:
              pay:
                handler: pay.handler
                module: payments
        """,
        "payments/pay.py": "", "payments/requirements.txt": "six==1.17.0\n",
    })  # fmt: skip
    found = discover(root)
    assert found is not None
    [pay] = found.functions
    assert pay.code_dir == root / "payments"
    assert pay.requirements == root / "payments" / "requirements.txt"
    assert pay.runtime is not None and pay.runtime.value == "python3.13"
    assert pay.architecture is not None and pay.architecture.value == "arm64"
    assert {"node_modules", "docs", "package.json"} <= set(pay.excludes)
    assert pay.includes == ("data/*.json",)


def test_cdk_assets_map_back_to_the_project_directory(tmp_path: Path) -> None:
    handler = "def handler(event, context):\n    return 1\n"
    template = {"Resources": {"Fn1": {"Type": "AWS::Lambda::Function", "Properties": {
        "Handler": "index.handler", "Runtime": "python3.12", "Architectures": ["arm64"],
        "Code": {"S3Bucket": "b", "S3Key": "k.zip"}},
        "Metadata": {"aws:asset:path": "asset.abc"}},
        "Provider": {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "index.handler", "Runtime": "nodejs20.x"}}}}  # fmt: skip
    root = _project(tmp_path, {
        "cdk.json": "{}", "cdk.out/manifest.json": "{}",
        "cdk.out/Stack.template.json": json.dumps(template, indent=1),
        "cdk.out/asset.abc/index.py": handler, "lambda/index.py": handler,
    })  # fmt: skip
    found = discover(root)
    assert found is not None
    [function] = found.functions
    assert function.code_dir == root / "lambda"
    assert function.handler is not None
    assert str(function.handler.origin).startswith("cdk.out/Stack.template.json:")


def test_terraform_archive_file_and_the_lambda_module(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.tf": """\
            variable "runtime" {
              default = "python3.11"
            }
            data "archive_file" "zip" {
              type        = "zip"
              source_dir  = "${path.module}/src"
              output_path = "${path.module}/build/fn.zip"
            }
            resource "aws_lambda_function" "fn" {
              function_name = "fn"
              filename      = data.archive_file.zip.output_path
              handler       = "app.handler"
              runtime       = var.runtime
            }
            module "other" {
              source      = "terraform-aws-modules/lambda/aws"
              handler     = "main.handler"
              runtime     = "python3.13"
              source_path = [{ path = "${path.module}/other", pip_requirements = false }]
            }
        """,
        "src/app.py": "", "other/main.py": "", "other/requirements.txt": "six==1.17.0\n",
    })  # fmt: skip
    found = discover(root)
    assert found is not None
    by_name = {f.name: f for f in found.functions}
    assert by_name["fn"].code_dir == root / "src"
    assert by_name["fn"].runtime is not None and by_name["fn"].runtime.value == "python3.11"
    assert str(by_name["fn"].runtime.origin) == "main.tf:13"
    assert by_name["other"].code_dir == root / "other"
    assert by_name["other"].requirements is None  # pip_requirements = false


def test_pyproject_functions_win_over_a_template(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "template.yaml": SAM, "api/app.py": "", "svc/app.py": "", "uv.lock": "",
        "pyproject.toml": '[project]\nname = "m"\nversion = "0"\n\n'
        '[tool.lambda-zip.functions.svc]\nsource = "svc"\nhandler = "app.handler"\n',
    })  # fmt: skip
    found = discover(root)
    assert found is not None and found.tool == "pyproject"
    [svc] = found.functions
    assert svc.requirements == root / "uv.lock"  # the project's lock, as a one-package build
    assert any("template.yaml not read" in note for note in found.notes)


def test_a_functions_own_python_version_overrides_the_project_wide_setting(
    tmp_path: Path,
) -> None:
    """In one pyproject.toml the function's table is the narrower one; it was an error."""
    from lambda_zip_action.config import make_config
    from lambda_zip_action.errors import ConfigError

    root = _project(tmp_path, {
        "svc/app.py": "", "api/app.py": "",
        "pyproject.toml": '[tool.lambda-zip]\npython-version = "3.12"\narchitecture = "arm64"\n'
        '[tool.lambda-zip.functions.svc]\nsource = "svc"\nhandler = "app.handler"\n'
        'python-version = "3.13"\narchitecture = "x86_64"\n'
        '[tool.lambda-zip.functions.api]\nsource = "api"\nhandler = "app.handler"\n',
    })  # fmt: skip
    found = discover(root)
    assert found is not None
    svc, api = found.functions
    config = make_config(root, {}, None, svc)
    assert (config.python_version, config.architecture) == ("3.13", "x86_64")
    # A function without its own takes the project's.
    config = make_config(root, {}, None, api)
    assert (config.python_version, config.architecture) == ("3.12", "arm64")
    # A flag still contradicts a declaration.
    with pytest.raises(ConfigError, match=r"declares python3\.13 for svc"):
        make_config(root, {"python_version": "3.12"}, None, svc)


def test_two_functions_whose_names_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    from lambda_zip_action.errors import ConfigError
    from lambda_zip_action.functions import plan

    root = _project(tmp_path, {
        "a/app.py": "", "b/app.py": "",
        "pyproject.toml": '[tool.lambda-zip.functions.Api]\nsource = "a"\nhandler = "app.h"\n'
        'python-version = "3.12"\n'
        '[tool.lambda-zip.functions.api]\nsource = "b"\nhandler = "app.h"\n'
        'python-version = "3.12"\n',
    })  # fmt: skip
    with pytest.raises(ConfigError, match="Api and api would both be written"):
        plan(root, {}, None)


def test_layers_named_by_arn_are_kept_and_a_layer_module_is_no_function(tmp_path: Path) -> None:
    """A function's layers, whatever names them, tell the build that an import its zip lacks
    may come from one (a warning, not an error); the Terraform lambda module with create_layer
    makes a layer, not a function (it was read as a function without a handler)."""
    sls = _project(tmp_path / "sls", {
        "serverless.yml": "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
        "  layers:\n    - arn:aws:lambda:us-east-1:017000801446:layer:Powertools:7\n"
        "functions:\n  hello:\n    handler: h.hello\n"
        "  own:\n    handler: h.hello\n    layers:\n      - {Ref: SharedLambdaLayer}\n",
        "h.py": "def hello(e, c):\n    return 1\n",
    })  # fmt: skip
    found = discover(sls)
    assert found is not None
    layers = {f.name: f.layers for f in found.functions}
    assert layers["hello"] == ("arn:aws:lambda:us-east-1:017000801446:layer:Powertools:7",)
    assert len(layers["own"]) == 1 and "SharedLambdaLayer" in layers["own"][0]
    tf = _project(tmp_path / "tf", {
        "main.tf": 'module "lambda_layer" {\n  source = "terraform-aws-modules/lambda/aws"\n'
        '  create_layer = true\n  layer_name = "deps"\n  source_path = "layer"\n}\n'
        'module "fn" {\n  source = "terraform-aws-modules/lambda/aws"\n'
        '  function_name = "fn"\n  handler = "app.handler"\n  runtime = "python3.12"\n'
        '  source_path = "src"\n  layers = [module.lambda_layer.lambda_layer_arn]\n}\n',
        "src/app.py": "def handler(e, c):\n    return 1\n", "layer/x.py": "",
    })  # fmt: skip
    found = discover(tf)
    assert found is not None
    [fn] = found.functions
    assert fn.layers and "lambda_layer_arn" in fn.layers[0]
    assert any("creates a layer" in note for note in found.notes)


def _billion_laughs(levels: int) -> str:
    lines = ['  a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "Metadata:\n" + "\n".join(lines) + "\nResources:\n  Fn:\n    Type: " \
        "AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n" \
        "      Handler: app.handler\n      Runtime: python3.12\n"  # fmt: skip


@pytest.mark.parametrize(
    "files",
    [
        # 9 levels of YAML aliases, 10 each: 10^9 values from 700 bytes (hours before).
        {"template.yaml": _billion_laughs(9)},
        # Terraform locals naming the one before eight times, 9 deep (minutes, gigabytes).
        {
            "main.tf": 'locals {\n  a0 = "xxxxxxxxxx"\n'
            + "".join(f'  a{i} = "' + f"${{local.a{i - 1}}}" * 8 + '"\n' for i in range(1, 10))
            + '}\nresource "aws_lambda_function" "fn" {\n  function_name = "fn"\n'
            '  package_type = local.a9\n  runtime = "python3.12"\n  handler = "app.handler"\n'
            '  filename = "x.zip"\n}\n'
        },
        # serverless.yml variables the same way.
        {
            "serverless.yml": "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
            "custom:\n  a0: xxxxxxxxxx\n"
            + "".join(f'  a{i}: "' + f"${{self:custom.a{i - 1}}}" * 8 + '"\n' for i in range(1, 10))
            + "functions:\n  fn:\n    handler: src/app.handler\n    runtime: ${self:custom.a9}\n"
        },
    ],
    ids=["yaml-aliases", "terraform-locals", "serverless-variables"],
)
def test_a_configuration_that_expands_exponentially_is_refused_quickly(
    tmp_path: Path, files: dict[str, str | bytes]
) -> None:
    root = _project(tmp_path, {**files, "src/app.py": "def handler(e, c):\n    return 1\n"})
    # The old readers expanded every value (the YAML case ran past 2 minutes, then memory).
    with pytest.raises(DeployConfigError, match="expands past what a deploy configuration needs"):
        discover(root)


def test_json_keys_are_located_in_one_pass_whatever_their_characters(tmp_path: Path) -> None:
    """Each key's line came from scanning the rest of the file, per key: 20,000 keys never
    found (json.dumps escapes é, the file does not) took a minute. Now one pass lists them,
    and a key written with non-ASCII characters or escapes is found too."""
    from lambda_zip_action.deploy.source import load_json

    keys = {f"clé-{n}": n for n in range(20_000)}
    text = json.dumps({"Metadata": keys, "Resources": {"F\\u00e9": {"Type": "x"}}}, indent=1,
                      ensure_ascii=False)  # fmt: skip
    (tmp_path / "template.json").write_text(text)
    data = load_json(tmp_path / "template.json", tmp_path)
    lines = text.splitlines()
    assert data["Metadata"].key_lines["clé-19999"] == lines.index('  "clé-19999": 19999') + 1
    assert data.key_lines["Resources"] == len(lines) - 5


def test_a_configuration_file_linked_from_outside_the_project_is_refused(tmp_path: Path) -> None:
    """A committed link named template.yaml (or one samconfig names) read a file outside the
    project, whose text then reached the log in messages."""
    outside = tmp_path / "outside.yaml"
    outside.write_text("Resources:\n  SECRETabc123:\n    Type: AWS::Serverless::Function\n")
    root = tmp_path / "project"
    root.mkdir()
    (root / "template.yaml").symlink_to(outside)
    with pytest.raises(DeployConfigError, match="leads outside the project"):
        discover(root)


def test_a_deploy_configuration_one_level_down_is_read(tmp_path: Path) -> None:
    """powertools' examples: sam/template.yaml with CodeUri ../src. From the root, the project
    was built as one package, exit 0, as if it declared nothing."""
    root = _project(tmp_path / "one", {
        "sam/template.yaml": "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: ../src\n"
        "      Handler: app.handler\n      Runtime: python3.12\n",
        "src/app.py": "def handler(e, c):\n    return 1\n",
        "tests/template.yaml": "Resources: {}\n",
    })  # fmt: skip
    found = discover(root)
    assert found is not None
    [fn] = found.functions
    assert fn.code_dir == (root / "src").resolve()
    assert any("sam/template.yaml declares the functions" in note for note in found.notes)
    # Two of them: which one is meant is the user's to say.
    two = _project(tmp_path / "two", {
        "a/template.yaml": (root / "sam" / "template.yaml").read_text(),
        "b/template.yaml": (root / "sam" / "template.yaml").read_text(),
        "src/app.py": "def handler(e, c):\n    return 1\n",
    })  # fmt: skip
    with pytest.raises(DeployConfigError, match="several deploy configurations"):
        discover(two)
    picked = discover(two, "b/template.yaml")
    assert picked is not None and picked.files[0].path == "b/template.yaml"

"""deploy.discover on serverless.yml as owners write it: variable chains with defaults,
package patterns in order (an allow-list included), serverless-python-requirements with
module, fileName, Poetry and its settings that change what ships; each value or pattern not
understood is one error naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_zip_action.deploy import discover
from lambda_zip_action.errors import DeployConfigError

import support


def _project(root: Path, files: dict[str, str | bytes]) -> Path:
    return support.write_files(root, files)


SERVICE = """\
    service: todos
    frameworkVersion: '3'
    provider:
      name: aws
      stage: ${opt:stage, 'prod'}
      runtime: ${self:custom.runtimes.${sls:stage}}
      architecture: ${env:ARCH, self:custom.arch}
    custom:
      arch: arm64
      runtimes:
        prod: python3.12
      pythonRequirements:
        fileName: requirements/prod.txt
        zip: true
    plugins:
      - serverless-python-requirements
    package:
      patterns:
        - '!./**'
        - 'todos/**'
        - 'handler.py'
        - '!todos/fixtures/**'
    functions:
      create:
        handler: todos/create.create
      hello:
        handler: handler.hello
"""


def test_variable_chains_and_an_allow_list(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "serverless.yml": SERVICE.replace("${sls:stage}", "prod"),
        "todos/create.py": "", "handler.py": "", "requirements/prod.txt": "",
        "scripts/seed.py": "", "README.md": "", "tests/test_create.py": "",
    })  # fmt: skip
    found = discover(root)
    assert found is not None and found.tool == "serverless"
    create, _ = found.functions
    assert create.code_dir == root and create.requirements == root / "requirements" / "prod.txt"
    assert create.runtime is not None and create.runtime.value == "python3.12"
    assert create.architecture is not None and create.architecture.value == "arm64"
    assert str(create.architecture.origin) == "serverless.yml:7"
    assert {"README.md", "requirements", "scripts", "tests"} <= set(create.excludes)
    assert "todos/fixtures" in create.excludes and "todos" not in create.excludes
    assert "handler.py" not in create.excludes
    assert any("zip:" in note for note in found.notes)


def test_sls_stage_is_the_provider_stage(tmp_path: Path) -> None:
    root = _project(tmp_path, {"serverless.yml": SERVICE, "todos/create.py": "", "handler.py": ""})
    found = discover(root)
    assert found is not None
    assert {f.runtime.value for f in found.functions if f.runtime} == {"python3.12"}


def test_a_poetry_service_installs_its_lock(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "serverless.yml": """\
            service: api
            provider:
              name: aws
              runtime: python3.13
            plugins: [serverless-python-requirements]
            functions:
              api:
                handler: api/main.handler
                module: services/api
        """,
        "services/api/api/main.py": "", "services/api/requirements.txt": "",
        "services/api/pyproject.toml": "[tool.poetry]\nname = 'api'\n",
        "services/api/poetry.lock": "",
    })  # fmt: skip
    found = discover(root)
    assert found is not None
    [api] = found.functions
    assert api.code_dir == root / "services" / "api"
    assert api.requirements == root / "services" / "api" / "poetry.lock"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "service: s\nprovider:\n  name: aws\n  runtime: ${opt:runtime}\n"
            "functions:\n  f:\n    handler: h.f\n",
            "serverless.yml:4: the runtime of f is known only at deploy time",
        ),
        (
            "service: s\nprovider:\n  name: aws\n  runtime: ${env:RUNTIME, 'python3.8'}\n"
            "functions:\n  f:\n    handler: h.f\n",
            "serverless.yml:4 declares python3.8 for f",
        ),
        (
            "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
            "functions:\n  f:\n    handler: h.f\n    module: ../elsewhere\n",
            "serverless.yml:8 puts the module of f at",
        ),
        (
            "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
            "plugins:\n  - serverless-wsgi\n  - serverless-python-requirements\n"
            "functions:\n  app:\n    handler: wsgi_handler.handler\n",
            "serverless.yml uses serverless-wsgi",
        ),
        (
            "service: s\nprovider:\n  name: aws\n  runtime: python3.12\npackage:\n"
            "  patterns:\n    - '!node_modules/**'\n    - '**'\n"
            "functions:\n  f:\n    handler: h.f\n",
            "serverless.yml:6: the package pattern '**' takes everything back",
        ),
        (
            "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
            "plugins: [serverless-python-requirements]\n"
            "functions:\n  f:\n    handler: h.f\n",
            "from the Pipfile",
        ),
        (
            "service: s\nprovider:\n  name: aws\n  architecture: ${self:custom.arch}\n"
            "  runtime: python3.12\nfunctions:\n  f:\n    handler: h.f\n",
            "serverless.yml:4: the architecture of f is known only at deploy time",
        ),
    ],
)
def test_a_service_not_understood_is_one_error_naming_the_line(
    tmp_path: Path, text: str, words: str
) -> None:
    root = _project(tmp_path / "p", {"serverless.yml": text, "h.py": "", "Pipfile": ""})
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(DeployConfigError) as raised:
        discover(root)
    assert words in raised.value.message
    assert "\n" not in raised.value.message

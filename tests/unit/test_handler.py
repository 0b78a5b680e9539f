"""handler.check_handler: the module and function a deploy configuration names, found (or not)
in the staged package, read with ast and never run."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_zip_action.errors import SourceError
from lambda_zip_action.handler import check_handler, module_and_function
from lambda_zip_action.stage import StagedFile


def _staged(tmp_path: Path, files: dict[str, str]) -> list[StagedFile]:
    entries = []
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        entries.append(StagedFile(name, path, 0o644, "source", len(text)))
    return entries


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        ("app.lambda_handler", ("app", "lambda_handler")),
        ("hello_world.app.lambda_handler", ("hello_world/app", "lambda_handler")),
        ("src/handlers/orders.main", ("src/handlers/orders", "main")),
        ("app", None),
        ("app.", None),
        ("my-app.handler", ("my-app", "handler")),
        ("src/lambda-start.main", ("src/lambda-start", "main")),
        ("my app.handler", None),
        ("../x.handler", None),
    ],
)
def test_handler_strings_split_as_lambda_splits_them(
    handler: str, expected: tuple[str, str] | None
) -> None:
    assert module_and_function(handler) == expected


def test_a_function_bound_any_way_at_the_top_is_found(tmp_path: Path) -> None:
    entries = _staged(tmp_path, {
        "app.py": "def lambda_handler(e, c):\n    return 1\n",
        "asgi.py": "from mangum import Mangum\nfrom api import app\nhandler = Mangum(app)\n",
        "pkg/__init__.py": "async def main(e, c):\n    return 1\n",
        "star.py": "from elsewhere import *\n",
        "chalice_app.py": "from chalice import Chalice\napp = Chalice(app_name='x')\n",
        "mangum/__init__.py": "", "api.py": "", "elsewhere/__init__.py": "",
        "chalice/__init__.py": "",
    })  # fmt: skip
    for handler in ("app.lambda_handler", "asgi.handler", "pkg.main", "star.anything",
                    "chalice_app.app"):  # fmt: skip
        check_handler(handler, "template.yaml:9", "Fn", entries)


def test_a_missing_module_or_function_names_the_declaration(tmp_path: Path) -> None:
    entries = _staged(tmp_path, {"app.py": "def other(e, c):\n    return 1\n"})
    with pytest.raises(SourceError) as missing_function:
        check_handler("app.lambda_handler", "template.yaml:9", "HelloFunction", entries)
    assert "template.yaml:9 declares handler 'app.lambda_handler' for HelloFunction" in str(
        missing_function.value
    )
    assert "Runtime.HandlerNotFound" in str(missing_function.value)
    with pytest.raises(SourceError) as missing_module:
        check_handler("hello_world.app.lambda_handler", "template.yaml:9", "Fn", entries)
    assert "no hello_world/app.py or hello_world/app/__init__.py" in str(missing_module.value)
    with pytest.raises(SourceError, match=r"not module\.function"):
        check_handler("lambda_handler", "serverless.yml:4", "Fn", entries)


def test_an_extension_module_counts_and_the_handler_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    entries = _staged(tmp_path, {
        "fast.cpython-312-x86_64-linux-gnu.so": "",
        "boom.py": f"open({str(marker)!r}, 'w').close()\ndef handler(e, c):\n    return 1\n",
    })  # fmt: skip
    check_handler("fast.handler", "template.yaml:3", "Fn", entries)
    check_handler("boom.handler", "template.yaml:3", "Fn", entries)
    assert not marker.exists()


def test_a_module_the_handler_imports_must_be_importable_in_lambda(tmp_path: Path) -> None:
    """A dependency file deleted (or not the one the deploy tool reads) built a zip whose
    handler fails every invocation, and exit 0."""
    module = (
        "import json, os.path\nimport boto3\nfrom botocore.config import Config\n"
        "import requests\nfrom . import sibling\n"
        "try:\n    import orjson\nexcept ImportError:\n    orjson = None\n"
        "if False:\n    import typing_extensions\n"
        "def handler(event, context):\n    import lazy\n    return 1\n"
    )
    entries = _staged(tmp_path, {"app.py": module})
    with pytest.raises(SourceError) as missing:
        check_handler("app.handler", "template.yaml:9", "Fn", entries)
    message = str(missing.value)
    # Only requests: the standard library, the runtime's boto3/botocore, a relative import,
    # guarded and function-level imports are not errors.
    assert "imports requests (line 4) at its top level" in message
    for fine in ("json", "boto3", "botocore", "orjson", "typing_extensions", "lazy", "sibling"):
        assert f" {fine} (" not in message
    # Installed (here as an extension module), or in the --split layer: found.
    check_handler("app.handler", "t:1", "Fn", [*entries, *_staged(tmp_path, {
        "requests.cpython-312-x86_64-linux-gnu.so": ""})])  # fmt: skip
    check_handler("app.handler", "t:1", "Fn", entries, elsewhere=["requests/__init__.py"])
    # A function with layers may get it from one: said, not refused.
    said: list[str] = []
    check_handler("app.handler", "t:1", "Fn", entries, layers=("arn:aws:lambda:x",),
                  warn=said.append)  # fmt: skip
    assert said and "one of its layers must provide it" in said[0]


def test_a_handler_module_too_deep_to_parse_is_not_a_traceback(tmp_path: Path) -> None:
    entries = _staged(tmp_path, {"app.py": "x = " + "(" * 200_000 + ")" * 200_000 + "\n"})
    check_handler("app.handler", "t:1", "Fn", entries)  # not parsed: taken at its word

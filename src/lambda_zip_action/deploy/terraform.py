"""Terraform: the *.tf files of the project's root module, read with python-hcl2.

`aws_lambda_function` resources whose `filename` is a `data "archive_file"` of a `source_dir`
(the usual way to zip a directory), and the terraform-aws-modules/lambda module's
`source_path` (a directory, or a list whose first entry names one, with `pip_requirements`):
each is a function with its `handler`, `runtime` and `architectures`. `${path.module}`,
`${path.root}`, `var.x` with a default and `local.x` are resolved; anything else needed here is
an error naming the file and line. Functions whose code is a prebuilt zip or in S3 are left
out with a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambda_zip_action.deploy.model import Declared, DeployConfig, FunctionSpec, Origin
from lambda_zip_action.deploy.source import (
    architecture,
    function_name,
    inside,
    python_runtime,
    read_text,
    relative,
)
from lambda_zip_action.errors import DeployConfigError
from lambda_zip_action.escape import plain

MODULE = "terraform-aws-modules/lambda/aws"


def find(project_dir: Path) -> Path | None:
    found = sorted(project_dir.glob("*.tf"))
    return found[0] if found else None


class _Module:
    """The root module's blocks, with the text to find each block's and attribute's line."""

    def __init__(self, project_dir: Path) -> None:
        import hcl2

        self.project_dir = project_dir
        self.files: list[tuple[Path, str, dict[str, Any]]] = []
        for path in sorted(project_dir.glob("*.tf")):
            text = read_text(path, project_dir)
            try:
                parsed = hcl2.loads(text)
            except Exception as exc:
                raise DeployConfigError(
                    f"{relative(path, project_dir)} is not valid HCL "
                    f"({plain(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)})."
                ) from exc
            self.files.append((path, text, parsed))
        self.variables: dict[str, Any] = {}
        self.locals: dict[str, Any] = {}
        self.archives: dict[str, tuple[Mapping[str, Any], Origin]] = {}
        for path, text, parsed in self.files:
            for block in parsed.get("variable", []):
                for name, body in block.items():
                    if isinstance(body, Mapping) and "default" in body:
                        self.variables[_unquote(name)] = body["default"]
            for block in parsed.get("locals", []):
                self.locals.update({k: v for k, v in block.items() if not k.startswith("__")})
            for block in parsed.get("data", []):
                for kind, named in block.items():
                    if _unquote(kind) != "archive_file" or not isinstance(named, Mapping):
                        continue
                    for name, body in named.items():
                        header = f'data "archive_file" "{_unquote(name)}"'
                        self.archives[_unquote(name)] = (body, self.origin(path, text, header))

    def origin(self, path: Path, text: str, header: str, attribute: str | None = None) -> Origin:
        start = text.find(header)
        line = text.count("\n", 0, start) + 1 if start >= 0 else None
        if attribute is not None and start >= 0:
            found = re.compile(rf"^\s*{re.escape(attribute)}\s*=", re.M).search(text, start)
            if found:
                line = text.count("\n", 0, found.start()) + 1
        return Origin(relative(path, self.project_dir), line)

    def resolve(self, value: Any, directory: Path) -> Any:
        """A plain value: strings unquoted, path.module / var / local replaced; None if not."""
        if isinstance(value, list):
            items = [self.resolve(item, directory) for item in value]
            return None if any(item is None for item in items) else items
        if isinstance(value, Mapping):
            return {
                k: self.resolve(v, directory) for k, v in value.items() if not k.startswith("__")
            }
        if not isinstance(value, str):
            return value
        text = _unquote(value)
        whole = re.fullmatch(r"\$\{(.+)\}", text) or re.fullmatch(r"(var\.\w+|local\.\w+)", text)
        if whole and "${" not in whole.group(1):
            return self._reference(whole.group(1).strip(), directory)
        missing = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal missing
            found = self._reference(match.group(1).strip(), directory)
            if found is None or isinstance(found, Mapping | list):
                missing = True
                return ""
            return str(found)

        text = re.sub(r"\$\{([^{}]+)\}", substitute, text)
        return None if missing else text

    def _reference(self, name: str, directory: Path) -> Any:
        if name in ("path.module", "path.root", "path.cwd"):
            return str(directory)
        if name.startswith("var.") and name[4:] in self.variables:
            return self.resolve(self.variables[name[4:]], directory)
        if name.startswith("local.") and name[6:] in self.locals:
            return self.resolve(self.locals[name[6:]], directory)
        return None


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def read(path: Path, project_dir: Path) -> DeployConfig:
    module = _Module(project_dir)
    functions: list[FunctionSpec] = []
    notes: list[str] = []
    for tf, text, parsed in module.files:
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                if _unquote(kind) != "aws_lambda_function" or not isinstance(named, Mapping):
                    continue
                for name, body in named.items():
                    spec = _resource(module, tf, text, _unquote(name), body, notes)
                    if spec is not None:
                        functions.append(spec)
        for block in parsed.get("module", []):
            for name, body in block.items():
                source = body.get("source") if isinstance(body, Mapping) else None
                if isinstance(source, str) and _unquote(source).startswith(MODULE):
                    spec = _module(module, tf, text, _unquote(name), body, notes)
                    if spec is not None:
                        functions.append(spec)
    files = tuple(Origin(relative(tf, project_dir)) for tf, _, _ in module.files)
    return DeployConfig("terraform", files, tuple(functions), (), tuple(notes))


def _common(
    module: _Module, tf: Path, text: str, header: str, name: str, body: Mapping[str, Any]
) -> tuple[Origin, Declared | None, Declared | None, Declared | None] | None:
    said = module.origin(tf, text, header)
    if body.get("package_type") is not None and "Image" in str(body.get("package_type")):
        return None
    runtime_said = module.origin(tf, text, header, "runtime")
    runtime_value = module.resolve(body.get("runtime"), tf.parent)
    if runtime_value is None:
        raise DeployConfigError(
            f"{runtime_said}: the runtime of {plain(name)} is not written "
            "here (or is known only at apply time)."
        )
    runtime = python_runtime(runtime_value, runtime_said, name)
    if runtime is None:
        return said, None, None, None
    handler_said = module.origin(tf, text, header, "handler")
    handler = module.resolve(body.get("handler"), tf.parent)
    if not isinstance(handler, str):
        raise DeployConfigError(f"{handler_said}: {plain(name)} has no handler written here.")
    arches = module.resolve(body.get("architectures"), tf.parent)
    arch = (
        None
        if not arches
        else architecture(arches, module.origin(tf, text, header, "architectures"), name)
    )
    return said, Declared(handler, handler_said), runtime, arch


def _resource(
    module: _Module, tf: Path, text: str, name: str, body: Any, notes: list[str]
) -> FunctionSpec | None:
    header = f'resource "aws_lambda_function" "{name}"'
    common = _common(module, tf, text, header, name, body)
    if common is None or common[2] is None:
        notes.append(f"{header} is not a Python zip function: not built here")
        return None
    said, handler, runtime, arch = common
    filename = body.get("filename")
    found = re.search(r"data\.archive_file\.(\w+)\.output_path", str(filename or ""))
    archive = module.archives.get(found.group(1)) if found else None
    if archive is None:
        notes.append(
            f"{said}: {name}'s code is a prebuilt zip or in S3, not a directory made "
            "into one by archive_file: not built here"
        )
        return None
    archive_body, archive_said = archive
    source_dir = module.resolve(archive_body.get("source_dir"), tf.parent)
    if not isinstance(source_dir, str):
        raise DeployConfigError(
            f"{archive_said}: the archive_file of {plain(name)} has no "
            "source_dir written here (a source_file or a dynamic one)."
        )
    code_dir = inside(Path(source_dir), module.project_dir, archive_said, f"the code of {name}")
    requirements = code_dir / "requirements.txt"
    return FunctionSpec(
        name=function_name(name, said),
        tool="terraform",
        code_dir=code_dir,
        handler=handler,
        runtime=runtime,
        architecture=arch,
        requirements=requirements if requirements.is_file() else None,
        origin=said,
    )


def _module(
    module: _Module, tf: Path, text: str, name: str, body: Any, notes: list[str]
) -> FunctionSpec | None:
    header = f'module "{name}"'
    common = _common(module, tf, text, header, name, body)
    if common is None or common[2] is None:
        notes.append(f"{header} is not a Python zip function: not built here")
        return None
    said, handler, runtime, arch = common
    source_said = module.origin(tf, text, header, "source_path")
    source = module.resolve(body.get("source_path"), tf.parent)
    pip_requirements: Any = True
    if isinstance(source, list) and source:
        first = source[0]
        if isinstance(first, Mapping):
            pip_requirements = first.get("pip_requirements", True)
            source = first.get("path")
        else:
            source = first
    if not isinstance(source, str):
        if body.get("create_package") is not None or body.get("local_existing_package"):
            notes.append(f"{said}: {name} deploys a package built elsewhere: not built here")
            return None
        raise DeployConfigError(
            f"{source_said}: the source_path of {plain(name)} is not a directory written here."
        )
    code_dir = inside(Path(source), module.project_dir, source_said, f"the code of {name}")
    requirements: Path | None = code_dir / "requirements.txt"
    if isinstance(pip_requirements, str):
        requirements = (code_dir / pip_requirements).resolve()
    elif pip_requirements is False:
        requirements = None
    return FunctionSpec(
        name=function_name(name, said),
        tool="terraform",
        code_dir=code_dir,
        handler=handler,
        runtime=runtime,
        architecture=arch,
        requirements=requirements if requirements is not None and requirements.is_file() else None,
        origin=said,
    )

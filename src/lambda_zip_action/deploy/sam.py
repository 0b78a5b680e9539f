"""SAM and CloudFormation templates: template.yaml, template.yml or template.json.

`AWS::Serverless::Function` (with `Globals.Function`) and `AWS::Lambda::Function` whose code is
a local path become functions: CodeUri (Code) is the code directory, requirements.txt in it is
what `sam build` installs. `AWS::Serverless::LayerVersion` with a Python `BuildMethod` becomes a
layer built from its ContentUri. Image functions, inline code, code already in S3 and other
languages are left out with a note. Values may be written as `!Ref Parameter` (its Default),
`!Sub` over parameters, or `!FindInMap` over the template's Mappings; anything else where a
value is needed is an error naming the line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambda_zip_action.deploy.model import (
    Declared,
    DeployConfig,
    FunctionSpec,
    LayerSpec,
    Origin,
    Tool,
)
from lambda_zip_action.deploy.source import (
    Lines,
    architecture,
    function_name,
    inside,
    load_json,
    load_yaml,
    origin,
    python_runtime,
    relative,
)
from lambda_zip_action.errors import DeployConfigError
from lambda_zip_action.escape import plain

NAMES = ("template.yaml", "template.yml", "template.json")
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
LAYER_TYPE = "AWS::Serverless::LayerVersion"


def find(project_dir: Path) -> Path | None:
    """The template `sam build` reads: samconfig.toml's template_file, else template.y(a)ml."""
    for name in NAMES:
        if (project_dir / name).is_file():
            return project_dir / name
    return None


def declares_functions(path: Path, project_dir: Path) -> bool:
    data = _load(path, project_dir)
    resources = data.get("Resources") if isinstance(data, Mapping) else None
    return isinstance(resources, Mapping) and any(
        isinstance(r, Mapping) and r.get("Type") in (*FUNCTION_TYPES, LAYER_TYPE)
        for r in resources.values()
    )


def _load(path: Path, project_dir: Path) -> Any:
    return load_json(path, project_dir) if path.suffix == ".json" else load_yaml(path, project_dir)


class _Values:
    """Resolves the values a template may write with intrinsic functions."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        parameters = data.get("Parameters")
        self.parameters = {
            name: spec.get("Default")
            for name, spec in (parameters.items() if isinstance(parameters, Mapping) else ())
            if isinstance(spec, Mapping) and spec.get("Default") is not None
        }
        mappings = data.get("Mappings")
        self.mappings = mappings if isinstance(mappings, Mapping) else {}

    def resolve(self, value: Any) -> Any:
        """The plain value, or None when it depends on something known only at deploy time."""
        if not isinstance(value, Mapping) or len(value) != 1:
            return value
        [(key, argument)] = value.items()
        if key == "Ref":
            return self.parameters.get(str(argument))
        if key == "Fn::Sub" and isinstance(argument, str):
            missing: list[str] = []

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in self.parameters:
                    return str(self.parameters[name])
                missing.append(name)
                return ""

            text = re.sub(r"\$\{([^}!]+)\}", substitute, argument)
            return None if missing else text
        if key == "Fn::FindInMap" and isinstance(argument, list) and len(argument) == 3:
            parts = [self.resolve(part) for part in argument]
            table = self.mappings.get(parts[0]) if isinstance(parts[0], str) else None
            row = table.get(parts[1]) if isinstance(table, Mapping) else None
            return row.get(parts[2]) if isinstance(row, Mapping) else None
        return None


def read(path: Path, project_dir: Path) -> DeployConfig:
    data = _load(path, project_dir)
    file = Origin(relative(path, project_dir))
    if not isinstance(data, Mapping) or not isinstance(data.get("Resources"), Mapping):
        raise DeployConfigError(f"{file} has no Resources: not a SAM or CloudFormation template.")
    values = _Values(data)
    globals_ = data.get("Globals")
    function_globals = globals_.get("Function") if isinstance(globals_, Mapping) else None
    if not isinstance(function_globals, Mapping):
        function_globals = Lines()
    resources: Lines = data["Resources"]
    functions: list[FunctionSpec] = []
    layers: list[LayerSpec] = []
    notes: list[str] = []
    for name, resource in resources.items():
        if not isinstance(resource, Mapping):
            continue
        kind = resource.get("Type")
        said = origin(path, project_dir, resources, name)
        if kind in FUNCTION_TYPES:
            spec = _function(
                path, project_dir, name, resource, kind, function_globals, values, said, notes
            )
            if spec is not None:
                functions.append(spec)
        elif kind == LAYER_TYPE:
            layer = _layer(path, project_dir, name, resource, values, said, notes)
            if layer is not None:
                layers.append(layer)
    tool: Tool = "sam" if "Transform" in data else "cloudformation"
    return DeployConfig(tool, (file,), tuple(functions), tuple(layers), tuple(notes))


def _function(
    path: Path,
    project_dir: Path,
    name: str,
    resource: Mapping[str, Any],
    kind: str,
    function_globals: Mapping[str, Any],
    values: _Values,
    said: Origin,
    notes: list[str],
) -> FunctionSpec | None:
    own = resource.get("Properties")
    own = own if isinstance(own, Mapping) else Lines(said.line)
    serverless = kind == "AWS::Serverless::Function"

    def get(key: str) -> tuple[Any, Origin]:
        if key in own:
            return values.resolve(own[key]), origin(path, project_dir, own, key)
        if serverless and key in function_globals:
            return values.resolve(function_globals[key]), origin(
                path, project_dir, function_globals, key
            )
        return None, said

    if get("PackageType")[0] == "Image":
        notes.append(f"{said}: {name} is a container image function: not built here")
        return None
    code_key = "CodeUri" if serverless else "Code"
    code, code_said = get(code_key)
    if get("InlineCode")[0] is not None or (isinstance(code, Mapping) and "ZipFile" in code):
        notes.append(f"{said}: {name} has inline code: nothing to build")
        return None
    runtime_value, runtime_said = get("Runtime")
    if runtime_value is None:
        raise DeployConfigError(
            f"{runtime_said} declares {plain(name)} without a Runtime (or "
            "with one known only at deploy time): declare python3.x."
        )
    runtime = python_runtime(runtime_value, runtime_said, name)
    if runtime is None:
        notes.append(f"{runtime_said}: {name} runs {plain(str(runtime_value))}: not Python")
        return None
    if code is None and not (serverless and code_key in own):
        raise DeployConfigError(
            f"{said} declares {plain(name)} with no {code_key}: name the "
            "directory that holds its code."
        )
    if not isinstance(code, str) or code.startswith("s3://"):
        notes.append(
            f"{code_said}: {name}'s code is not a directory of the project (already in "
            "S3, or known only at deploy time): not built here"
        )
        return None
    method = _build_method(resource)
    if method is not None and not method.startswith("python"):
        raise DeployConfigError(
            f"{said} builds {plain(name)} with BuildMethod {plain(method)}: its own build decides "
            "what ships, which this tool cannot read. Declare the function in "
            "[tool.lambda-zip.functions] (source, handler, requirements) to build it here."
        )
    code_dir = inside(path.parent / code, project_dir, code_said, f"the code of {name}")
    handler_value, handler_said = get("Handler")
    if not isinstance(handler_value, str):
        raise DeployConfigError(f"{handler_said} declares {plain(name)} without a Handler.")
    arch_value, arch_said = get("Architectures")
    requirements = code_dir / "requirements.txt"
    layer_refs = get("Layers")[0]
    return FunctionSpec(
        name=function_name(name, said),
        tool="sam" if serverless else "cloudformation",
        code_dir=code_dir,
        handler=Declared(handler_value, handler_said),
        runtime=runtime,
        architecture=None if arch_value is None else architecture(arch_value, arch_said, name),
        requirements=requirements if requirements.is_file() else None,
        layers=tuple(
            str(ref["Ref"])
            for ref in (layer_refs if isinstance(layer_refs, list) else [])
            if isinstance(ref, Mapping) and "Ref" in ref
        ),
        origin=said,
    )


def _build_method(resource: Mapping[str, Any]) -> str | None:
    metadata = resource.get("Metadata")
    method = metadata.get("BuildMethod") if isinstance(metadata, Mapping) else None
    return str(method) if method is not None else None


def _layer(
    path: Path,
    project_dir: Path,
    name: str,
    resource: Mapping[str, Any],
    values: _Values,
    said: Origin,
    notes: list[str],
) -> LayerSpec | None:
    props = resource.get("Properties")
    props = props if isinstance(props, Mapping) else Lines(said.line)
    method = _build_method(resource)
    content = values.resolve(props.get("ContentUri"))
    if method is None or not method.startswith("python") or not isinstance(content, str):
        notes.append(
            f"{said}: layer {name} is not built from Python sources here "
            "(no Python BuildMethod, or content already built)"
        )
        return None
    content_said = origin(path, project_dir, props, "ContentUri")
    content_dir = inside(path.parent / content, project_dir, content_said, f"layer {name}")
    runtimes_said = origin(path, project_dir, props, "CompatibleRuntimes")
    declared = values.resolve(props.get("CompatibleRuntimes")) or [method]
    runtimes = tuple(
        r
        for r in (python_runtime(values.resolve(v), runtimes_said, name) for v in declared)
        if r is not None
    )
    arch_said = origin(path, project_dir, props, "CompatibleArchitectures")
    arches = values.resolve(props.get("CompatibleArchitectures")) or []
    requirements = content_dir / "requirements.txt"
    return LayerSpec(
        name=function_name(name, said),
        tool="sam",
        content_dir=content_dir,
        runtimes=runtimes,
        architectures=tuple(architecture(a, arch_said, name) for a in arches),
        build_method=method,
        requirements=requirements if requirements.is_file() else None,
        origin=said,
    )

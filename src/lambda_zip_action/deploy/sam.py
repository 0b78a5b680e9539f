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

from lambda_zip_action.deploy.intrinsics import Values, describe, intrinsic
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
    read_text,
    relative,
)
from lambda_zip_action.errors import DeployConfigError
from lambda_zip_action.escape import plain
from lambda_zip_action.toml_text import TomlError, parse_toml

NAMES = ("template.yaml", "template.yml", "template.json")
SAMCONFIGS = ("samconfig.toml", "samconfig.yaml", "samconfig.yml")
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
LAYER_TYPE = "AWS::Serverless::LayerVersion"


def find(project_dir: Path) -> Path | None:
    """The template `sam build` reads: samconfig's template_file, else template.y(a)ml."""
    named = _samconfig_template(project_dir)
    if named is not None:
        return named
    for name in NAMES:
        if (project_dir / name).is_file():
            return project_dir / name
    return None


def _samconfig_template(project_dir: Path) -> Path | None:
    """samconfig.toml's (or .yaml's) `template_file` for `sam build` in the default
    environment; an error when it names no file of the project."""
    for config in SAMCONFIGS:
        path = project_dir / config
        if not path.is_file():
            continue
        if path.suffix == ".toml":
            try:
                data: Any = parse_toml(read_text(path, project_dir))
            except TomlError as exc:
                raise DeployConfigError(f"{config} is not valid TOML ({exc}).") from exc
        else:
            data = load_yaml(path, project_dir)
        default = data.get("default") if isinstance(data, Mapping) else None
        for command in ("build", "global"):
            section = default.get(command) if isinstance(default, Mapping) else None
            parameters = section.get("parameters") if isinstance(section, Mapping) else None
            if not isinstance(parameters, Mapping):
                continue
            for key in ("template_file", "template"):
                value = parameters.get(key)
                if value is None:
                    continue
                said = Origin(config, _line(path, key))
                if not isinstance(value, str):
                    raise DeployConfigError(f"{said}: {key} is not a file name.")
                template = project_dir / value
                inside(template.parent, project_dir, said, "the template")
                if not template.is_file():
                    raise DeployConfigError(
                        f"{said} names the template {plain(value)}, which is not a file of the "
                        "project: `sam build` would fail on it too."
                    )
                return template
        return None
    return None


def _line(path: Path, key: str) -> int | None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if re.match(rf"\s*{key}\s*[=:]", line):
            return number
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


def read(path: Path, project_dir: Path) -> DeployConfig:
    data = _load(path, project_dir)
    file = Origin(relative(path, project_dir))
    if not isinstance(data, Mapping) or not isinstance(data.get("Resources"), Mapping):
        raise DeployConfigError(f"{file} has no Resources: not a SAM or CloudFormation template.")
    values = Values(data)
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
    values: Values,
    said: Origin,
    notes: list[str],
) -> FunctionSpec | None:
    own = resource.get("Properties")
    own = own if isinstance(own, Mapping) else Lines(said.line)
    serverless = kind == "AWS::Serverless::Function"

    def get(key: str, needed: bool = True) -> tuple[Any, Origin]:
        """The resolved value and where it was written; an error when it is written but
        known only at deploy time (and `needed`)."""
        where: Mapping[str, Any] | None = own if key in own else None
        if where is None and serverless and key in function_globals:
            where = function_globals
        if where is None:
            return None, said
        raw, written = where[key], origin(path, project_dir, where, key)
        value = values.resolve(raw)
        if value is None and raw is not None and needed:
            raise DeployConfigError(
                f"{written}: the {key} of {plain(name)} is {plain(describe(raw))}, which is "
                "known only at deploy time (a parameter without a Default, a resource, a "
                "condition): write the value here, give the parameter a Default, or declare "
                "the function in [tool.lambda-zip.functions]."
            )
        return value, written

    if get("PackageType")[0] == "Image":
        notes.append(f"{said}: {name} is a container image function: not built here")
        return None
    code_key = "CodeUri" if serverless else "Code"
    raw_code = own.get(code_key, function_globals.get(code_key) if serverless else None)
    location = isinstance(raw_code, Mapping) and not intrinsic(raw_code)
    code, code_said = get(code_key, needed=not location)
    if "InlineCode" in own or (isinstance(code, Mapping) and "ZipFile" in code):
        notes.append(f"{said}: {name} has inline code: nothing to build")
        return None
    runtime_value, runtime_said = get("Runtime")
    if runtime_value is None:
        raise DeployConfigError(
            f"{runtime_said} declares {plain(name)} without a Runtime: declare python3.x."
        )
    runtime = python_runtime(runtime_value, runtime_said, name)
    if runtime is None:
        notes.append(f"{runtime_said}: {name} runs {plain(str(runtime_value))}: not Python")
        return None
    if code is None and serverless:
        # SAM's default CodeUri: the template's own directory (samcli's DEFAULT_CODEURI ".").
        code = "."
        notes.append(f"{said}: {name} names no CodeUri: its code is the template's directory, "
                     "as SAM takes it")  # fmt: skip
    if code is None:
        raise DeployConfigError(
            f"{said} declares {plain(name)} with no {code_key}: name the "
            "directory that holds its code."
        )
    if not isinstance(code, str) or code.startswith("s3://"):
        notes.append(f"{code_said}: {name}'s code is already in S3: not built here")
        return None
    method = _build_method(resource)
    if method is not None and not method.startswith("python"):
        raise DeployConfigError(
            f"{said} builds {plain(name)} with BuildMethod {plain(method)}: its own build decides "
            "what ships, which this tool cannot read. Declare the function in "
            "[tool.lambda-zip.functions] (source, handler, requirements) to build it here."
        )
    excludes: tuple[str, ...] = ()
    if (path.parent / code).is_file():
        # A CodeUri naming one file: SAM zips that file alone.
        code_dir = inside((path.parent / code).parent, project_dir, code_said,
                          f"the code of {name}")  # fmt: skip
        single = (path.parent / code).name
        excludes = tuple(sorted(c.name for c in code_dir.iterdir() if c.name != single))
    else:
        code_dir = inside(path.parent / code, project_dir, code_said, f"the code of {name}")
    handler_value, handler_said = get("Handler")
    if not isinstance(handler_value, str):
        raise DeployConfigError(f"{handler_said} declares {plain(name)} without a Handler.")
    arch_value, arch_said = get("Architectures")
    requirements = code_dir / "requirements.txt"
    # SAM adds the Globals' Layers to the function's own.
    layer_refs = [
        *(function_globals.get("Layers") or [] if serverless else []),
        *(own.get("Layers") or []),
    ]
    return FunctionSpec(
        name=function_name(name, said),
        tool="sam" if serverless else "cloudformation",
        code_dir=code_dir,
        handler=Declared(handler_value, handler_said),
        runtime=runtime,
        architecture=None if arch_value is None else architecture(arch_value, arch_said, name),
        requirements=requirements if requirements.is_file() and not excludes else None,
        # Every layer, by its logical name or, for one built elsewhere (an ARN, a !Sub of one,
        # a parameter), as written: what it provides is not known, but that it may be is.
        layers=tuple(dict.fromkeys(_layer_name(ref) for ref in layer_refs)),
        excludes=excludes,
        origin=said,
    )


def _layer_name(ref: object) -> str:
    if isinstance(ref, Mapping) and "Ref" in ref:
        return str(ref["Ref"])
    return plain(describe(ref)) if not isinstance(ref, str) else ref


def _build_method(resource: Mapping[str, Any]) -> str | None:
    metadata = resource.get("Metadata")
    method = metadata.get("BuildMethod") if isinstance(metadata, Mapping) else None
    return str(method) if method is not None else None


def _layer(
    path: Path,
    project_dir: Path,
    name: str,
    resource: Mapping[str, Any],
    values: Values,
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

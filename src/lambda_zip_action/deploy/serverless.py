"""The Serverless Framework: serverless.yml (or .yaml, .json).

A function's code is the service directory, or its `module` (serverless-python-requirements),
and its handler (`todos/create.create`) is relative to it. Runtime and architecture come from
the function, else `provider`. Dependencies are what serverless-python-requirements installs:
`requirements.txt` (or `custom.pythonRequirements.fileName`) in the service or module
directory; without the plugin, Serverless installs nothing. `package.patterns` (and the older
`exclude`/`include`) become lambda-zip's excludes and includes; an allow-list (`!**` then what
to keep) is not something they can say and is refused. Variables: `${self:...}`,
`${sls:stage}`, `${opt:...}` and `${env:...}` with their defaults; a value needed here that is
known only at deploy time is an error naming the line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambda_zip_action.deploy.model import Declared, DeployConfig, FunctionSpec, Origin
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

NAMES = ("serverless.yml", "serverless.yaml", "serverless.json")
UNREADABLE = ("serverless.ts", "serverless.js", "serverless.cjs", "serverless.mjs")
PLUGIN = "serverless-python-requirements"
# The Framework's own files beside the code: what `sls package` leaves out by default, and
# serverless.env.yml, where its users keep the secrets their variables read.
TOOLING = (
    "node_modules",
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    ".serverless",
    "serverless.env.yml",
    "serverless.env.yaml",
    ".serverlessrc",
)
_VARIABLE = re.compile(r"\$\{([^{}]+)\}")


def find(project_dir: Path) -> Path | None:
    for name in (*NAMES, *UNREADABLE):
        if (project_dir / name).is_file():
            return project_dir / name
    return None


class _Variables:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """`value` with every variable replaced; None where one has no value here."""
        if not isinstance(value, str) or "${" not in value or depth > 10:
            return None if isinstance(value, str) and "${" in value else value
        whole = _VARIABLE.fullmatch(value.strip())
        if whole:
            return self.resolve(self._one(whole.group(1)), depth + 1)
        missing = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal missing
            found = self.resolve(self._one(match.group(1)), depth + 1)
            if found is None or isinstance(found, Mapping | list):
                missing = True
                return ""
            return str(found)

        text = _VARIABLE.sub(substitute, value)
        return None if missing else text

    def _one(self, expression: str) -> Any:
        source, _, fallback = _split_default(expression)
        source = source.strip()
        found: Any = None
        if source.startswith("self:"):
            found = self.document
            for part in source[5:].split("."):
                found = found.get(part) if isinstance(found, Mapping) else None
        elif source in ("sls:stage", "opt:stage") and fallback is None:
            found = "dev"  # the Framework's default stage
        if found is None and fallback is not None:
            found = fallback.strip().strip("'\"")
        return found


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = data.get(key)
    return found if isinstance(found, Mapping) else Lines()


def _split_default(expression: str) -> tuple[str, str, str | None]:
    depth = 0
    for index, character in enumerate(expression):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character == "," and depth == 0:
            return expression[:index], ",", expression[index + 1 :]
    return expression, "", None


def read(path: Path, project_dir: Path) -> DeployConfig:
    file = Origin(relative(path, project_dir))
    if path.name in UNREADABLE:
        raise DeployConfigError(
            f"{file} is a program: its functions are known only by running it, which this tool "
            "never does with a project's code. Declare the functions in "
            "[tool.lambda-zip.functions] (source, handler, python-version, architecture)."
        )
    data = load_json(path, project_dir) if path.suffix == ".json" else load_yaml(path, project_dir)
    if not isinstance(data, Mapping) or not isinstance(data.get("functions"), Mapping):
        raise DeployConfigError(f"{file} declares no functions.")
    variables = _Variables(data)
    provider = _table(data, "provider")
    plugins = data.get("plugins")
    plugin_names = plugins.get("modules") if isinstance(plugins, Mapping) else plugins
    with_plugin = isinstance(plugin_names, list) and PLUGIN in plugin_names
    custom = data.get("custom") if isinstance(data.get("custom"), Mapping) else {}
    settings = custom.get("pythonRequirements") if isinstance(custom, Mapping) else None
    file_name = "requirements.txt"
    if isinstance(settings, Mapping) and isinstance(settings.get("fileName"), str):
        file_name = str(variables.resolve(settings["fileName"]) or file_name)
    package = _table(data, "package")
    notes: list[str] = []
    if not with_plugin:
        notes.append(
            f"{file} uses no {PLUGIN}: Serverless installs no dependencies, and "
            "neither does this build"
        )
    service_dir = path.parent
    functions: Lines = data["functions"]
    specs = []
    for name, function in functions.items():
        said = origin(path, project_dir, functions, name)
        if not isinstance(function, Mapping):
            raise DeployConfigError(
                f"{said} declares {plain(name)} as {plain(repr(function))[:60]}, not a function."
            )
        spec = _function(path, project_dir, name, function, provider, variables, said, notes)
        if spec is None:
            continue
        module = function.get("module")
        code_dir = service_dir
        if module is not None:
            module_said = origin(path, project_dir, function, "module")
            module_value = variables.resolve(module)
            if not isinstance(module_value, str):
                raise DeployConfigError(
                    f"{module_said}: the module of {plain(name)} is known only at deploy time."
                )
            code_dir = inside(
                service_dir / module_value, project_dir, module_said, f"the module of {name}"
            )
        requirements = code_dir / file_name if with_plugin else None
        excludes, includes = _patterns(path, project_dir, package, variables)
        excludes = (*TOOLING, *excludes)
        own_package = function.get("package")
        if isinstance(own_package, Mapping):
            more_excludes, more_includes = _patterns(path, project_dir, own_package, variables)
            excludes, includes = excludes + more_excludes, includes + more_includes
        specs.append(
            FunctionSpec(
                name=spec.name,
                tool="serverless",
                code_dir=code_dir.resolve(),
                handler=spec.handler,
                runtime=spec.runtime,
                architecture=spec.architecture,
                requirements=requirements
                if requirements is not None and requirements.is_file()
                else None,
                excludes=excludes,
                includes=includes,
                origin=said,
            )
        )
    return DeployConfig("serverless", (file,), tuple(specs), (), tuple(notes))


def _function(
    path: Path,
    project_dir: Path,
    name: str,
    function: Mapping[str, Any],
    provider: Mapping[str, Any],
    variables: _Variables,
    said: Origin,
    notes: list[str],
) -> FunctionSpec | None:
    def get(key: str) -> tuple[Any, Origin, bool]:
        for where in (function, provider):
            if key in where:
                raw = where[key]
                return variables.resolve(raw), origin(path, project_dir, where, key), True
        return None, said, False

    if function.get("image") is not None:
        notes.append(f"{said}: {name} is a container image: not built here")
        return None
    runtime_value, runtime_said, given = get("runtime")
    if not given:
        raise DeployConfigError(
            f"{said} declares {plain(name)} with no runtime, in the function or the provider "
            "(the Framework would choose Node.js): declare python3.x."
        )
    if runtime_value is None:
        raise DeployConfigError(
            f"{runtime_said}: the runtime of {plain(name)} is known only "
            "at deploy time; write it here."
        )
    runtime = python_runtime(runtime_value, runtime_said, name)
    if runtime is None:
        notes.append(f"{runtime_said}: {name} runs {plain(str(runtime_value))}: not Python")
        return None
    handler_value, handler_said, _ = get("handler") if "handler" in function else (None, said, 0)
    if not isinstance(handler_value, str):
        raise DeployConfigError(f"{handler_said} declares {plain(name)} without a handler.")
    arch_value, arch_said, arch_given = get("architecture")
    return FunctionSpec(
        name=function_name(name, said),
        tool="serverless",
        code_dir=path.parent,
        handler=Declared(handler_value, handler_said),
        runtime=runtime,
        architecture=architecture(arch_value, arch_said, name) if arch_given else None,
    )


def _patterns(
    path: Path, project_dir: Path, package: Mapping[str, Any], variables: _Variables
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """package.patterns (and exclude / include) as lambda-zip's excludes and includes."""
    excludes: list[str] = []
    includes: list[str] = []
    for key in ("patterns", "exclude", "include"):
        listed = package.get(key)
        if not isinstance(listed, list):
            continue
        said = origin(path, project_dir, package, key)
        for raw in listed:
            pattern = variables.resolve(raw)
            if not isinstance(pattern, str):
                raise DeployConfigError(f"{said}: a package pattern is known only at deploy time.")
            negated = pattern.startswith("!") or key == "exclude"
            glob = _glob(pattern.removeprefix("!"))
            if glob is None:
                raise DeployConfigError(
                    f"{said}: the package pattern {plain(pattern)!r} leaves out everything, then "
                    "lists what to keep; lambda-zip's rules cannot say that. Declare the "
                    "function in [tool.lambda-zip.functions] with the source directory to pack."
                )
            (excludes if negated else includes).append(glob)
    return tuple(excludes), tuple(includes)


def _glob(pattern: str) -> str | None:
    """`node_modules/**` -> `node_modules`, `./docs/**` -> `docs`; None for `**` / `*`."""
    pattern = pattern.strip().removeprefix("./")
    if pattern in ("**", "*", "**/*", ".", "./**"):
        return None
    while pattern.endswith(("/**", "/*", "/")):
        pattern = pattern.rsplit("/", 1)[0] if not pattern.endswith("/") else pattern[:-1]
    return pattern.removeprefix("**/") or None

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
from lambda_zip_action.deploy.patterns import translate
from lambda_zip_action.deploy.source import (
    Budget,
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
# serverless-python-requirements settings that change what ships, said when set.
SETTINGS = {
    "zip": "zip: the plugin ships the dependencies as .requirements.zip for "
    "unzip_requirements to unpack; here they are packed as files (the usual `try: import "
    "unzip_requirements` / `except ImportError` goes on)",
    "layer": "layer: the plugin deploys the dependencies as a layer; here they are packed "
    "into each function",
    "noDeploy": "noDeploy: the plugin leaves those packages out; here every locked one ships",
    "slim": "slim: the plugin strips tests and caches from the dependencies; here they ship "
    "as installed (with bytecode)",
}
_VARIABLE = re.compile(r"\$\{([^{}]+)\}")


def find(project_dir: Path) -> Path | None:
    for name in (*NAMES, *UNREADABLE):
        if (project_dir / name).is_file():
            return project_dir / name
    return None


class _Variables:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.budget = Budget("serverless.yml's variables")

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """`value` with every variable replaced; None where one has no value here."""
        self.budget.spend(value)
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

        text = _VARIABLE.sub(substitute, value)  # the innermost first: `${self:a.${sls:stage}}`
        return None if missing else self.resolve(text, depth + 1)

    def _one(self, expression: str) -> Any:
        """`self:provider.stage`, `opt:stage, self:custom.stage, 'dev'`: the first source of
        the chain with a value here. Options and the environment have none (a build reads
        neither); `sls:stage` is the provider's stage, else the Framework's default, dev."""
        for written in _chain(expression):
            source = written.strip()
            found: Any = None
            if source[:1] in ("'", '"') and source[-1:] == source[:1] and len(source) >= 2:
                found = source[1:-1]
            elif re.fullmatch(r"-?\d+(\.\d+)?|true|false", source):
                found = source
            elif "${" in source:
                found = self.resolve(source)
            elif source.startswith("self:"):
                found = self.document
                for part in source[5:].split("."):
                    found = found.get(part) if isinstance(found, Mapping) else None
            elif source == "sls:stage":
                provider = self.document.get("provider")
                stage = provider.get("stage") if isinstance(provider, Mapping) else None
                found = self.resolve(stage) if stage is not None else "dev"
            if found is not None:
                return found
        return None


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = data.get(key)
    return found if isinstance(found, Mapping) else Lines()


def _chain(expression: str) -> list[str]:
    """The sources of `a, b, 'c, d'`, split at the commas outside quotes and brackets."""
    parts, depth, quote, start = [], 0, "", 0
    for index, character in enumerate(expression):
        if quote:
            quote = "" if character == quote else quote
        elif character in "'\"":
            quote = character
        elif character in "({[":
            depth += 1
        elif character in ")}]":
            depth -= 1
        elif character == "," and depth == 0:
            parts.append(expression[start:index])
            start = index + 1
    return [*parts, expression[start:]]


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
    notes = _plugin_notes(
        file, plugin_names, settings, origin(path, project_dir, custom, "pythonRequirements")
    )
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
        requirements = (
            _plugin_requirements(code_dir, file_name, settings, said) if with_plugin else None
        )
        listed = _listed(path, project_dir, package, variables)
        own_package = function.get("package")
        if isinstance(own_package, Mapping):
            listed += _listed(path, project_dir, own_package, variables)
        prefix = "" if module is None else f"{variables.resolve(module)}/".removeprefix("./")
        excludes, includes = translate(listed, code_dir, prefix, notes)
        excludes = (*TOOLING, *excludes)
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
                layers=spec.layers,
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
                raw, written = where[key], origin(path, project_dir, where, key)
                value = variables.resolve(raw)
                if value is None and raw is not None:
                    raise DeployConfigError(
                        f"{written}: the {key} of {plain(name)} is known only at deploy time "
                        f"({plain(str(raw))[:80]}: an option, the environment, another file); "
                        "write it here or give the variable a default ('${opt:x, value}')."
                    )
                return value, written, True
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
    # The function's layers replace the provider's; each as written (an ARN, a Ref, a
    # variable): what it provides is not known, but that it may be is.
    layers = function.get("layers", provider.get("layers"))
    return FunctionSpec(
        name=function_name(name, said),
        tool="serverless",
        code_dir=path.parent,
        handler=Declared(handler_value, handler_said),
        runtime=runtime,
        architecture=architecture(arch_value, arch_said, name) if arch_given else None,
        layers=tuple(plain(str(layer))[:200] for layer in layers)
        if isinstance(layers, list)
        else (),
    )


def _plugin_notes(file: Origin, plugins: Any, settings: Any, said: Origin) -> list[str]:
    if isinstance(plugins, list) and "serverless-wsgi" in plugins:
        raise DeployConfigError(
            f"{file} uses serverless-wsgi, whose handler module (wsgi_handler.py) the plugin "
            "writes into the package when it deploys; this tool cannot add it. Declare the "
            "functions in [tool.lambda-zip.functions] with a handler of the project's own "
            "(for example one using a WSGI adapter such as apig-wsgi or Mangum)."
        )
    if not isinstance(plugins, list) or PLUGIN not in plugins or not isinstance(settings, Mapping):
        return []
    return [f"{said}: {text}" for key, text in SETTINGS.items() if settings.get(key)]


def _plugin_requirements(
    code_dir: Path, file_name: str, settings: Any, said: Origin
) -> Path | None:
    """What serverless-python-requirements installs: a Poetry project's lock (usePoetry is
    on by default), else `fileName` (requirements.txt); Pipenv is refused."""
    settings = settings if isinstance(settings, Mapping) else {}
    pyproject = code_dir / "pyproject.toml"
    if settings.get("usePoetry", True) is not False and pyproject.is_file():
        text = pyproject.read_text(encoding="utf-8", errors="replace")
        if "[tool.poetry" in text or "poetry.core.masonry" in text:
            lock = code_dir / "poetry.lock"
            if not lock.is_file():
                raise DeployConfigError(
                    f"{said}: serverless-python-requirements would export the dependencies of "
                    f"the Poetry project in {code_dir}, which has no poetry.lock: run "
                    "`poetry lock` and commit it."
                )
            return lock
    if settings.get("usePipenv", True) is not False and (code_dir / "Pipfile").is_file():
        raise DeployConfigError(
            f"{said}: serverless-python-requirements would install from the Pipfile in "
            f"{code_dir}, which this tool does not read: export it (pipenv requirements > "
            "requirements.txt) and set usePipenv: false."
        )
    found = code_dir / file_name
    return found if found.is_file() else None


def _listed(
    path: Path, project_dir: Path, package: Mapping[str, Any], variables: _Variables
) -> list[tuple[str, bool, Origin]]:
    """package.patterns (or exclude / include) as (pattern, negated, where), in order."""
    found = []
    for key in ("exclude", "include", "patterns"):
        listed = package.get(key)
        if not isinstance(listed, list):
            continue
        said = origin(path, project_dir, package, key)
        for raw in listed:
            pattern = variables.resolve(raw)
            if not isinstance(pattern, str):
                raise DeployConfigError(f"{said}: a package pattern is known only at deploy time.")
            negated = pattern.startswith("!") or key == "exclude"
            found.append((pattern.removeprefix("!"), negated, said))
    return found

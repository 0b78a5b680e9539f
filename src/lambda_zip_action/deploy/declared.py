"""Functions declared in pyproject.toml, which win over every deploy tool's file:

[tool.lambda-zip.functions.orders]
source = "services/orders"        # the code directory (required)
handler = "app.handler"           # module.function (required)
python-version = "3.12"           # else the project's requires-python / .python-version
architecture = "arm64"            # else x86_64
requirements = "uv.lock"          # else the project's lock (uv.lock, poetry.lock,
                                  # requirements.txt), as a one-package build finds it
exclude = ["*.md"]
include = ["data/*.json"]
"""

from __future__ import annotations

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
from lambda_zip_action.errors import ConfigError, DeployConfigError
from lambda_zip_action.escape import plain
from lambda_zip_action.toml_text import TomlError, parse_toml

KEYS = {"source", "handler", "python-version", "architecture", "requirements", "exclude", "include"}
LOCKS = ("uv.lock", "poetry.lock", "requirements.txt")


def read(project_dir: Path) -> DeployConfig | None:
    path = project_dir / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        data = parse_toml(read_text(path, project_dir))
    except TomlError as exc:
        # As config.read_pyproject_settings says it: the file is the project's, not only the
        # functions' declaration.
        raise ConfigError(
            f"{path} is not valid TOML ({plain(str(exc))}). Fix the file and build again."
        ) from exc
    tool = data.get("tool") if isinstance(data, Mapping) else None
    table = tool.get("lambda-zip") if isinstance(tool, Mapping) else None
    functions = table.get("functions") if isinstance(table, Mapping) else None
    if functions is None:
        return None
    file = Origin("pyproject.toml", _line(path, "[tool.lambda-zip.functions"))
    if not isinstance(functions, Mapping) or not functions:
        raise DeployConfigError(
            f"{file}: [tool.lambda-zip.functions] must hold one table per "
            "function, [tool.lambda-zip.functions.NAME]."
        )
    specs = [_function(path, project_dir, str(name), body) for name, body in functions.items()]
    return DeployConfig("pyproject", (Origin("pyproject.toml"),), tuple(specs))


def _line(path: Path, needle: str) -> int | None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip().startswith(needle):
            return number
    return None


def _function(path: Path, project_dir: Path, name: str, body: Any) -> FunctionSpec:
    said = Origin(
        "pyproject.toml",
        _line(path, f"[tool.lambda-zip.functions.{name}]")
        or _line(path, f'[tool.lambda-zip.functions."{name}"]'),
    )
    if not isinstance(body, Mapping):
        raise DeployConfigError(f"{said}: function {plain(name)} must be a table.")
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise DeployConfigError(
            f"{said}: function {plain(name)} has unknown key(s) "
            f"{', '.join(plain(k) for k in unknown)}; known: "
            f"{', '.join(sorted(KEYS))}."
        )
    source, handler = body.get("source"), body.get("handler")
    if not isinstance(source, str) or not isinstance(handler, str):
        raise DeployConfigError(
            f"{said}: function {plain(name)} needs source (its code "
            "directory) and handler (module.function), as strings."
        )
    version = body.get("python-version")
    runtime = None
    if version is not None:
        if not isinstance(version, str):
            raise DeployConfigError(
                f"{said}: python-version of {plain(name)} must be a string "
                'such as "3.12" (TOML reads 3.10 as 3.1).'
            )
        runtime = python_runtime(f"python{version}", said, name)
    arch = body.get("architecture")
    requirements = body.get("requirements")
    if requirements is not None and not isinstance(requirements, str):
        raise DeployConfigError(f"{said}: requirements of {plain(name)} must be a path.")
    lock = (
        (project_dir / requirements)
        if requirements
        else next((project_dir / n for n in LOCKS if (project_dir / n).is_file()), None)
    )
    if lock is not None:
        try:
            lock.resolve().relative_to(project_dir.resolve())
        except ValueError:
            raise DeployConfigError(
                f"{said}: requirements of {plain(name)} lies outside the project."
            ) from None
    globs = {key: body.get(key, []) for key in ("exclude", "include")}
    for key, value in globs.items():
        if isinstance(value, str):
            globs[key] = [value]
        elif not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise DeployConfigError(
                f"{said}: {key} of {plain(name)} must be a string or a list of strings."
            )
    return FunctionSpec(
        name=function_name(name, said),
        tool="pyproject",
        code_dir=inside(project_dir / source, project_dir, said, f"the code of {name}"),
        handler=Declared(handler, said),
        runtime=runtime,
        architecture=None if arch is None else architecture(arch, said, name),
        requirements=lock,
        excludes=tuple(globs["exclude"]),
        includes=tuple(globs["include"]),
        origin=said,
    )


__all__ = ["read", "relative"]

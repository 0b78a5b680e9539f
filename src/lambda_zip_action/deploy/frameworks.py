"""Chalice and Zappa: web frameworks that package a whole project directory themselves.

Chalice (.chalice/config.json): one function per stage, named `<app_name>-<stage>` as Chalice
names it, whose package is app.py, chalicelib/ and vendor/ with requirements.txt installed;
the handler is `app.app`. Chalice takes the runtime from the Python that deploys, so none is
declared: the project's requires-python or .python-version decides. Zappa (zappa_settings.json,
.yaml, .yml or .toml): one function per stage, named `<project_name>-<stage>`, the project
directory with requirements.txt installed, `app_function` as the handler to find, the stage's
`runtime` and `architecture` (Zappa's own handler module wraps it at deploy time).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambda_zip_action.deploy.model import Declared, DeployConfig, FunctionSpec, Origin
from lambda_zip_action.deploy.source import (
    Lines,
    architecture,
    function_name,
    load_json,
    load_yaml,
    origin,
    python_runtime,
    read_text,
    relative,
)
from lambda_zip_action.errors import DeployConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CHALICE = Path(".chalice") / "config.json"
ZAPPA = ("zappa_settings.json", "zappa_settings.yaml", "zappa_settings.yml", "zappa_settings.toml")
# What a Chalice package holds besides its dependencies (and vendor/, whose contents go to
# the top): everything else at the top of the project is left out.
CHALICE_KEEPS = ("app.py", "chalicelib")


def find_chalice(project_dir: Path) -> Path | None:
    path = project_dir / CHALICE
    return path if path.is_file() else None


def _chalice_pin(project_dir: Path, file: Origin) -> str:
    """The chalice release the project pins (requirements*.txt, with its hashes), whose
    runtime module Chalice itself would add to the package."""
    for path in sorted(project_dir.glob("requirements*.txt")):
        joined = re.sub(r"\\\n", " ", read_text(path, project_dir))
        for line in joined.splitlines():
            found = re.match(r"\s*chalice\s*==\s*([\w.!+-]+)(.*)$", line, re.IGNORECASE)
            if found:
                hashes = re.findall(r"--hash[=\s]+(\S+)", found.group(2))
                return " ".join([f"chalice=={found.group(1)}", *(f"--hash={h}" for h in hashes)])
    raise DeployConfigError(
        f"{file} makes this a Chalice app, and Chalice adds its runtime module (chalice/app.py) "
        "to the package from the release that deploys it; no requirements*.txt of the project "
        "pins chalice (chalice==X.Y.Z), so which one is unknown. Pin it in requirements-dev.txt "
        "(or requirements.txt) and build again."
    )


def find_zappa(project_dir: Path) -> Path | None:
    return next((project_dir / n for n in ZAPPA if (project_dir / n).is_file()), None)


def _stages(data: Any, file: Origin) -> Mapping[str, Any]:
    stages = data.get("stages") if isinstance(data, Mapping) else None
    if not isinstance(stages, Mapping) or not stages:
        raise DeployConfigError(f"{file} declares no stages.")
    return stages


def read_chalice(path: Path, project_dir: Path) -> DeployConfig:
    data = load_json(path, project_dir)
    file = Origin(relative(path, project_dir))
    stages = _stages(data, file)
    app_name = data.get("app_name") if isinstance(data, Mapping) else None
    if not isinstance(app_name, str):
        raise DeployConfigError(f"{file} has no app_name.")
    if not (project_dir / "app.py").is_file():
        raise DeployConfigError(f"{file} makes this a Chalice app, but there is no app.py.")
    support = (_chalice_pin(project_dir, file), ("chalice/__init__.py", "chalice/app.py"))
    excludes = tuple(
        sorted(
            child.name
            for child in project_dir.iterdir()
            if child.name not in (*CHALICE_KEEPS, "vendor")
        )
    )
    functions = []
    for stage in stages:
        said = origin(path, project_dir, stages, stage)
        handler = Declared("app.app", Origin(relative(project_dir / "app.py", project_dir)))
        requirements = project_dir / "requirements.txt"
        functions.append(
            FunctionSpec(
                name=function_name(f"{app_name}-{stage}", said),
                tool="chalice",
                code_dir=project_dir.resolve(),
                handler=handler,
                runtime=None,
                architecture=None,
                requirements=requirements if requirements.is_file() else None,
                excludes=excludes,
                origin=said,
                support=(support,),
                notes=(
                    "Chalice deploys with the runtime of the Python it runs on: the project's "
                    "requires-python or .python-version decides here",
                ),
            )
        )
    return DeployConfig("chalice", (file,), tuple(functions))


def read_zappa(path: Path, project_dir: Path) -> DeployConfig:
    file = Origin(relative(path, project_dir))
    if path.suffix == ".json":
        data = load_json(path, project_dir)
    elif path.suffix == ".toml":
        try:
            data = tomllib.loads(read_text(path, project_dir))
        except (tomllib.TOMLDecodeError, RecursionError) as exc:
            raise DeployConfigError(f"{file} is not valid TOML ({exc}).") from exc
    else:
        data = load_yaml(path, project_dir)
    if not isinstance(data, Mapping) or not data:
        raise DeployConfigError(f"{file} declares no stages.")
    functions = []
    for stage, settings in data.items():
        said = origin(path, project_dir, data, stage)
        if not isinstance(settings, Mapping):
            continue
        merged: dict[str, Any] = {}
        parent = settings.get("extends")
        if isinstance(parent, str) and isinstance(data.get(parent), Mapping):
            merged.update(data[parent])
        merged.update(settings)
        app_function = merged.get("app_function")
        if not isinstance(app_function, str):
            continue  # a stage of events only, or a base stage others extend
        where = settings if "app_function" in settings else Lines(said.line)
        project_name = merged.get("project_name") or project_dir.name
        runtime = None  # Zappa's default: the Python it runs on, as for Chalice
        if merged.get("runtime") is not None:
            runtime = python_runtime(
                merged["runtime"],
                origin(path, project_dir, settings, "runtime"),
                f"{project_name}-{stage}",
            )
        arch_value = merged.get("architecture")
        listed = merged.get("exclude")
        excludes: list[Any] = listed if isinstance(listed, list) else []
        requirements = project_dir / "requirements.txt"
        functions.append(
            FunctionSpec(
                name=function_name(f"{project_name}-{stage}", said),
                tool="zappa",
                code_dir=project_dir.resolve(),
                handler=Declared(app_function, origin(path, project_dir, where, "app_function")),
                runtime=runtime,
                architecture=None
                if arch_value is None
                else architecture(
                    arch_value, origin(path, project_dir, settings, "architecture"), stage
                ),
                requirements=requirements if requirements.is_file() else None,
                excludes=(*ZAPPA, *(str(e) for e in excludes)),
                origin=said,
            )
        )
    if not functions:
        raise DeployConfigError(f"{file} declares no stage with an app_function.")
    return DeployConfig("zappa", (file,), tuple(functions))

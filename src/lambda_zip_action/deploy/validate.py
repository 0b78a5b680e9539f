"""Checks over every function a deploy configuration declares, whichever tool declared it."""

from __future__ import annotations

import glob
from pathlib import Path

from lambda_zip_action.deploy.model import DeployConfig, FunctionSpec
from lambda_zip_action.deploy.source import relative
from lambda_zip_action.errors import DeployConfigError
from lambda_zip_action.escape import plain
from lambda_zip_action.handler import module_and_function


def check(config: DeployConfig, project_dir: Path) -> DeployConfig:
    """`config`, once names are unique, each handler's module is in its code directory and
    no function's code lies inside another's."""
    for function in config.functions:
        _handler_module(function, project_dir)
    seen: dict[str, str] = {}
    named = [(f.name, f.origin) for f in config.functions]
    for name, origin in [*named, *((layer.name, layer.origin) for layer in config.layers)]:
        where = str(origin) if origin else "the deploy configuration"
        if name in seen:
            raise DeployConfigError(
                f"{where} and {seen[name]} both declare {plain(name)}: each zip needs its own name."
            )
        seen[name] = where
    for outer in config.functions:
        for inner in config.functions:
            if outer.code_dir == inner.code_dir:
                continue
            try:
                below = inner.code_dir.relative_to(outer.code_dir)
            except ValueError:
                continue
            top = below.parts[0]
            if top in outer.excludes or (outer.code_dir == project_dir and _skipped_at_top(top)):
                continue
            raise DeployConfigError(
                f"{outer.origin} packs {plain(str(outer.code_dir))} for {plain(outer.name)}, "
                f"which holds the code of {plain(inner.name)} ({inner.origin}): the zip of "
                f"{plain(outer.name)} would ship {plain(inner.name)} too. Move one, or exclude "
                f"{plain(below.as_posix())} from {plain(outer.name)}."
            )
    return config


def _handler_module(function: FunctionSpec, project_dir: Path) -> None:
    """An error naming the handler's line when its module is not in the code directory."""
    if function.handler is None:
        return
    declared = function.handler.value
    said = (
        f"{function.handler.origin} declares handler {plain(declared)!r} for {plain(function.name)}"
    )
    parsed = module_and_function(declared)
    if (function.code_dir / declared.strip()).is_file() and not declared.endswith(".py"):
        return  # a program an exec wrapper runs (`run.sh`): the build says so
    if parsed is None:
        raise DeployConfigError(
            f"{said}, which is not module.function (e.g. app.lambda_handler): Lambda could not "
            "import it."
        )
    module = parsed[0]
    code_dir = function.code_dir
    base = code_dir / module
    if (base.with_name(base.name + ".py")).is_file() or (base / "__init__.py").is_file():
        return
    if base.parent.is_dir() and any(base.parent.glob(f"{glob.escape(base.name)}.*.so")):
        return
    where = relative(code_dir, project_dir) or "."
    raise DeployConfigError(
        f"{said}, but its code directory {plain(where)} holds no {plain(module)}.py or "
        f"{plain(module)}/__init__.py: Lambda would fail every invocation with "
        "Runtime.ImportModuleError. The handler is relative to the code directory; fix the "
        "handler or the code directory."
    )


def _skipped_at_top(name: str) -> bool:
    from lambda_zip_action.stage import SourceRules

    return SourceRules(top_level=True).skipped(name, True)

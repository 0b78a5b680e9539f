"""Checks over every function a deploy configuration declares, whichever tool declared it."""

from __future__ import annotations

from pathlib import Path

from lambda_zip_action.deploy.model import DeployConfig
from lambda_zip_action.errors import DeployConfigError
from lambda_zip_action.escape import plain


def check(config: DeployConfig, project_dir: Path) -> DeployConfig:
    """`config`, once names are unique and no function's code lies inside another's."""
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


def _skipped_at_top(name: str) -> bool:
    from lambda_zip_action.stage import SourceRules

    return SourceRules(top_level=True).skipped(name, True)

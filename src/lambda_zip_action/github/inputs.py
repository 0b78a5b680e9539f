"""The action's inputs: read from `INPUT_*` once, validated together, turned into build options.

Paths in the inputs are relative to working-directory, and every path the build reads or writes
must stay inside the workspace (`within_workspace`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from lambda_zip_action.config import BuildConfig
from lambda_zip_action.errors import ConfigError
from lambda_zip_action.github.rest import validate_token
from lambda_zip_action.markdown import visible

CommentMode = Literal["auto", "true", "false"]
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


@dataclass(frozen=True)
class ActionInputs:
    """The action's inputs, validated once. Empty optional inputs are None (use the default)."""

    working_directory: str
    sources: tuple[str, ...]
    requirements: str | None
    python_version: str | None
    architecture: str | None
    installer: str | None
    layout: str | None
    output: str | None
    verify: bool
    compare_to: str | None
    baseline_ref: str | None
    comment: CommentMode
    token: str
    name: str
    comment_author: str | None = None
    no_build: bool = True
    split: bool = False
    layer_compare_to: str | None = None

    def __repr__(self) -> str:
        return f"ActionInputs(name={self.name!r}, token=<redacted>)"


def _input(env: Mapping[str, str], name: str) -> str:
    # Composite actions get no INPUT_* of their own: action.yml maps each input with underscores.
    return env.get("INPUT_" + name.replace("-", "_").replace(" ", "_").upper(), "").strip()


def read_inputs(env: Mapping[str, str]) -> ActionInputs:
    """The inputs from `INPUT_*`; every problem is reported at once."""
    problems: list[str] = []

    def boolean(name: str, default: bool) -> bool:
        value = _input(env, name)
        if not value:
            return default
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        problems.append(f"input {name} is {value!r}; use true or false")
        return default

    comment = _input(env, "comment") or "auto"
    if comment not in ("auto", "true", "false"):
        problems.append(f"input comment is {comment!r}; use auto, true or false")
        comment = "auto"
    working_directory = _input(env, "working-directory") or "."
    name = _input(env, "name") or _default_name(working_directory)
    inputs = ActionInputs(
        working_directory=working_directory,
        sources=tuple(_input(env, "source").split()),
        requirements=_input(env, "requirements") or None,
        python_version=_input(env, "python-version") or None,
        architecture=_input(env, "architecture") or None,
        installer=_input(env, "installer") or None,
        layout=_input(env, "layout") or None,
        output=_input(env, "output") or None,
        verify=boolean("verify", True),
        compare_to=_input(env, "compare-to") or None,
        baseline_ref=_input(env, "baseline-ref") or None,
        comment=cast("CommentMode", comment),
        token=_token(_input(env, "github-token"), "input github-token", problems),
        name=name,
        comment_author=_input(env, "comment-author") or None,
        no_build=boolean("no-build", True),
        split=boolean("split", False),
        layer_compare_to=_input(env, "layer-compare-to") or None,
    )
    if inputs.compare_to and inputs.baseline_ref:
        problems.append("give compare-to or baseline-ref, not both")
    if inputs.layer_compare_to and not inputs.split:
        problems.append("layer-compare-to needs split: true")
    if inputs.layer_compare_to and inputs.baseline_ref:
        problems.append("give layer-compare-to or baseline-ref, not both")
    if problems:
        raise ConfigError("Invalid action inputs: " + "; ".join(problems) + ".")
    return inputs


def _token(value: str, where: str, problems: list[str]) -> str:
    if not value:
        return ""
    try:
        return validate_token(value, where)
    except ConfigError as exc:
        problems.append(exc.message.rstrip("."))
        return ""


def within_workspace(config: BuildConfig, workspace: Path) -> None:
    """Every path the build reads or writes must lie inside the workspace (symlinks resolved)."""
    root = workspace.resolve()
    paths = [
        ("working-directory", config.project_dir),
        *(("source", source) for source in config.sources),
        ("requirements", config.requirements),
        ("output", config.output),
        ("manifest", config.manifest),
    ]
    outside = []
    for what, path in paths:
        if path is None:
            continue
        try:
            path.resolve().relative_to(root)
        except ValueError:
            outside.append(f"{what} {visible(str(path))}")
    if outside:
        raise ConfigError(
            f"In the action every path must stay inside the workspace {root}; these do not: "
            + "; ".join(outside)
            + ". Give paths relative to working-directory that stay inside the repository."
        )


def _default_name(working_directory: str) -> str:
    name = Path(working_directory).name
    return name if name not in ("", ".", "..") else "lambda"


def build_options(inputs: ActionInputs, project: Path) -> dict[str, Any]:
    """CLI options for `make_config`; paths in inputs are relative to the working directory."""
    return {
        "sources": [project / s for s in inputs.sources] or None,
        "requirements": project / inputs.requirements if inputs.requirements else None,
        "python_version": inputs.python_version,
        "architecture": inputs.architecture,
        "installer": inputs.installer,
        "layout": inputs.layout,
        "output": project / inputs.output if inputs.output else None,
        "no_build": inputs.no_build,
        "split": True if inputs.split else None,
    }

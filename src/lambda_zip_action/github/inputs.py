"""The action's inputs: read from `INPUT_*` once, validated together, turned into build options.

Paths in the inputs are relative to working-directory, and every path the build reads or writes
must stay inside the workspace (`within_workspace`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from lambda_zip_action.config import BuildConfig
from lambda_zip_action.errors import ConfigError
from lambda_zip_action.github.rest import validate_token
from lambda_zip_action.markdown import visible
from lambda_zip_action.options import ACTION_INPUTS, BY_NAME

CommentMode = Literal["auto", "true", "false"]
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


@dataclass(frozen=True)
class ActionInputs:
    """The action's inputs, validated once. Empty optional inputs are None (use the default)."""

    working_directory: str
    verify: bool
    compare_to: str | None
    baseline_ref: str | None
    comment: CommentMode
    token: str
    name: str
    comment_author: str | None = None
    # The build options given as inputs (options.ACTION_INPUTS), parsed as their kind says and
    # keyed by option name; an input left empty is absent (the project's setting or the
    # default applies), except `no_build`, which is always there (default true).
    build: Mapping[str, Any] = field(default_factory=lambda: {"no_build": True})
    layer_compare_to: str | None = None
    # Functions of the deploy configuration to build (empty: every one), and which
    # configuration file to read when the project holds several.
    functions: tuple[str, ...] = ()
    deploy_config: str | None = None

    @property
    def split(self) -> bool:
        return bool(self.build.get("split"))

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
        verify=boolean("verify", True),
        compare_to=_input(env, "compare-to") or None,
        baseline_ref=_input(env, "baseline-ref") or None,
        comment=cast("CommentMode", comment),
        token=_token(_input(env, "github-token"), "input github-token", problems),
        name=name,
        comment_author=_input(env, "comment-author") or None,
        build={"no_build": True, **_build_inputs(env, problems)},
        layer_compare_to=_input(env, "layer-compare-to") or None,
        functions=tuple(_input(env, "function").replace(",", " ").split()),
        deploy_config=_input(env, "deploy-config") or None,
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


def _build_inputs(env: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    """The build options given as inputs, each parsed as the option table says."""
    values: dict[str, Any] = {}
    for option in ACTION_INPUTS:
        raw = _input(env, option.input_name)
        if not raw:
            continue
        if option.kind in ("true", "false"):
            if raw not in _TRUE and raw not in _FALSE:
                problems.append(f"input {option.input_name} is {raw!r}; use true or false")
                continue
            # An explicit false is kept: it overrides a project's `split = true`.
            values[option.name] = (raw in _TRUE) == (option.kind == "true")
        elif option.kind in ("paths", "globs"):
            values[option.name] = tuple(raw.split())
        elif option.kind == "integer":
            try:
                values[option.name] = int(raw)
            except ValueError:
                problems.append(f"input {option.input_name} is {raw!r}; use a whole number")
        else:
            values[option.name] = raw
    return values


def build_options(inputs: ActionInputs, project: Path) -> dict[str, Any]:
    """Options for `make_config`; paths in inputs are relative to the working directory."""
    options: dict[str, Any] = {}
    for name, value in inputs.build.items():
        kind = BY_NAME[name].kind
        if kind == "paths":
            options[name] = [project / item for item in value] or None
        elif kind == "path":
            options[name] = project / value
        else:
            options[name] = value
    return options

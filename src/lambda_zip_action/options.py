"""Every build option, declared once: its flag, its pyproject key, its action input, and
whether it changes bytes.

The command line's build flags (cli), the `[tool.lambda-zip]` settings (config), the action's
build inputs (github.inputs: the input is the flag without `--`) and the arguments of verify's
rebuild (`rebuild_arguments`) are all made from `OPTIONS`, so an option added here reaches all
four; the rebuild gets every option whose `affects_bytes` is set, and
`tests/unit/test_options.py` fails if a value does not survive the trip through the rebuild's
command line, or if action.yml and the table disagree. Adding an option is one entry here plus
its use (a BuildConfig field, and an input in action.yml when `action_input` is set).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lambda_zip_action.runtimes import ARCHITECTURES, DEFAULT_PYTHON_VERSION, LAYOUTS, RUNTIMES

if TYPE_CHECKING:
    from lambda_zip_action.config import BuildConfig

# value: one string; path / paths: one or repeated paths; globs: repeated strings;
# true / false: a flag that sets True or False; integer: a whole number.
Kind = Literal["value", "path", "paths", "globs", "true", "false", "integer"]


@dataclass(frozen=True)
class Option:
    name: str  # the BuildConfig field and argparse dest
    flag: str
    kind: Kind
    help: str
    # The key in [tool.lambda-zip]; None for options a project may not set (they run a program
    # or weaken a safety check: `python`, `no-build`) and for verify's own.
    setting: str | None
    affects_bytes: bool
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    # Whether the action takes it as an input, named as the flag without `--`.
    action_input: bool = False

    @property
    def input_name(self) -> str:
        return self.flag.removeprefix("--")

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        keywords: dict[str, Any] = {"dest": self.name, "help": self.help}
        if self.kind in ("true", "false"):
            keywords.update(action="store_const", const=self.kind == "true")
        elif self.kind in ("paths", "globs"):
            keywords.update(action="append", metavar=self.metavar)
            if self.kind == "paths":
                keywords["type"] = Path
        else:
            keywords.update(metavar=self.metavar, choices=self.choices)
            keywords["type"] = {"path": Path, "integer": int}.get(self.kind, str)
        parser.add_argument(self.flag, **keywords)

    def parse_setting(self, value: object) -> tuple[object, str | None]:
        """A `[tool.lambda-zip]` value as this option takes it, or a problem in words.

        TOML has types: a switch is a boolean (`"false"`, a string, is refused rather than
        read as true), a list of paths or globs is a string or a list of strings."""
        if self.kind in ("paths", "globs") and isinstance(value, str):
            value = [value]
        ok, wants = _SETTING_TYPES[self.kind]
        problem = None
        if not ok(value):
            problem = f"{self.setting} = {value!r} must be {wants}"
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                problem += f" (write {value.strip().lower()} without quotes)"
        elif self.choices is not None and value not in self.choices:
            problem = f"{self.setting} = {value!r} must be one of {', '.join(self.choices)}"
        return (None, problem) if problem else (value, None)

    def arguments(self, value: object) -> list[str]:
        """The flag and value that make the rebuild's option equal to `value`."""
        if value is None or value in ((), []):
            return []
        if self.kind == "true":
            return [self.flag] if value else []
        if self.kind == "false":
            return [] if value else [self.flag]
        if self.kind in ("paths", "globs"):
            assert isinstance(value, Sequence)
            return [part for item in value for part in (self.flag, str(item))]
        return [self.flag, str(value)]


def _strings(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, str) for i in value)


# What each kind of option takes in pyproject.toml: a check and its words.
_SETTING_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "true": (lambda v: isinstance(v, bool), "true or false"),
    "false": (lambda v: isinstance(v, bool), "true or false"),
    "paths": (_strings, "a string or a list of strings"),
    "globs": (_strings, "a string or a list of strings"),
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "path": (lambda v: isinstance(v, str), "a string"),
    "value": (lambda v: isinstance(v, str), "a string"),
}

OPTIONS: tuple[Option, ...] = (
    Option("sources", "--source", "paths", "directory whose contents go to the archive root; "
           "repeatable (default: src/, else the project directory when modules lie at its top)",
           "source", True, metavar="DIR", action_input=True),
    Option("requirements", "--requirements", "path", "requirements.txt, uv.lock, poetry.lock or "
           "pyproject.toml (default: found in the project: uv.lock, poetry.lock, "
           "requirements.txt)", "requirements", True, metavar="FILE", action_input=True),
    Option("python_version", "--python-version", "value", f"Lambda Python runtime: "
           f"{', '.join(RUNTIMES)} (default: from the project's requires-python and "
           f".python-version, else {DEFAULT_PYTHON_VERSION})", "python-version", True,
           metavar="X.Y", choices=tuple(RUNTIMES), action_input=True),
    Option("architecture", "--architecture", "value", "Lambda architecture (default: x86_64)",
           "architecture", True, choices=(*ARCHITECTURES, "aarch64"), action_input=True),
    Option("installer", "--installer", "value", "installer for dependencies (default: uv)",
           "installer", True, choices=("uv", "pip"), action_input=True),
    Option("python", "--python", "path", "CPython of exactly the target version, for bytecode "
           "(default: found on this machine)", None, True, metavar="PATH"),
    Option("layout", "--layout", "value", "function: package at the root; layer: everything "
           "under python/ (default: function)", "layout", True, choices=tuple(LAYOUTS),
           action_input=True),
    Option("output", "--output", "path", "the zip to write (default: dist/lambda.zip)",
           "output", False, metavar="FILE", action_input=True),
    Option("split", "--split", "true", "write the dependencies as a layer zip of their own "
           "(python/...) beside a function zip holding your code only", "split", True,
           action_input=True),
    Option("layer_output", "--layer-output", "path", "with --split, the layer zip to write "
           "(default: <output stem>-layer.zip beside --output)", "layer-output", False,
           metavar="FILE"),
    Option("manifest", "--manifest", "path", "the manifest to write (default: "
           "<output>.manifest.json)", "manifest", False, metavar="FILE"),
    Option("sbom", "--no-sbom", "false", "write no CycloneDX SBOM (<zip>.cdx.json) beside "
           "each zip", "sbom", True),
    Option("excludes", "--exclude", "globs", "leave out source paths matching GLOB (a name, or "
           "a path with /); repeatable", "exclude", True, metavar="GLOB"),
    Option("includes", "--include", "globs", "ship source paths matching GLOB that are skipped "
           "by default (tests/ at the top of a top-level layout) or refused (a .env file, a "
           "private key); repeatable", "include", True, metavar="GLOB"),
    Option("compile", "--no-compile", "false", "ship no bytecode (every cold start then "
           "compiles all code)", "compile", True),
    Option("compression_level", "--compression-level", "integer", "deflate level 0-9 "
           "(default: 6)", "compression-level", True, metavar="N"),
    Option("source_invalidation", "--source-invalidation", "value", "bytecode mode for your own "
           "code (dependencies always use unchecked-hash; default: checked-hash)",
           "source-invalidation", True, choices=("checked-hash", "unchecked-hash")),
    Option("fail_on_size_limit", "--fail-on-size-limit", "true", "fail instead of warning when "
           "the package exceeds Lambda's size limits", "fail-on-size-limit", False),
    Option("no_build", "--no-build", "true", "refuse every source distribution (uv --no-build, "
           "pip --only-binary=:all:): no dependency's build script runs on this machine; local "
           "path dependencies fail too", None, True, action_input=True),
)  # fmt: skip

BY_NAME = {option.name: option for option in OPTIONS}
# [tool.lambda-zip] key -> option name.
SETTINGS = {option.setting: option.name for option in OPTIONS if option.setting is not None}
# Keys a project may not set, with the flag to use instead.
COMMAND_LINE_ONLY = {
    option.flag.removeprefix("--"): option.flag
    for option in OPTIONS
    if option.setting is None and option.name in ("python", "no_build")
}
# The build options the action takes as inputs.
ACTION_INPUTS = tuple(option for option in OPTIONS if option.action_input)
# Options a project's settings give as paths (kept inside the project), and as lists.
PATH_OPTIONS = tuple(o.name for o in OPTIONS if o.kind in ("path", "paths") and o.setting)
LIST_OPTIONS = tuple(o.name for o in OPTIONS if o.kind in ("paths", "globs"))


def add_build_options(parser: argparse.ArgumentParser) -> None:
    for option in OPTIONS:
        option.add_to(parser)


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The options on a parsed command line, None where not given."""
    return {option.name: getattr(args, option.name) for option in OPTIONS}


def rebuild_arguments(config: BuildConfig, overrides: dict[str, object]) -> list[str]:
    """Command-line arguments that rebuild `config`: every option that affects the bytes, as
    `config` holds it (defaults resolved), except those in `overrides`, given as there."""
    arguments: list[str] = []
    for option in OPTIONS:
        if option.name in overrides:
            arguments += option.arguments(overrides[option.name])
        elif option.affects_bytes:
            arguments += option.arguments(getattr(config, option.name))
    return arguments

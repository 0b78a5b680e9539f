"""The build configuration: one frozen value made from flags, pyproject settings and action inputs.

Precedence: command-line flags (or action inputs), then `[tool.lambda-zip]` in the project's
`pyproject.toml`, then defaults. The project's pyproject is trusted less than the command line:
it may not name a program to run (`python` is a command-line setting only; `--no-build` too),
and every path it gives must stay inside the project once symlinks are resolved, so a
checked-out pull request can neither run a binary of its choosing nor write outside its tree.
Paths given on the command line are relative to the current directory, as with any command;
paths in `pyproject.toml` and the defaults are relative to the project directory. Every problem
is gathered and reported at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from lambda_zip_action.deploy.model import FunctionSpec
from lambda_zip_action.errors import ConfigError
from lambda_zip_action.markdown import visible
from lambda_zip_action.options import BY_NAME, COMMAND_LINE_ONLY, PATH_OPTIONS, SETTINGS
from lambda_zip_action.project import default_sources, target_python
from lambda_zip_action.runtimes import (
    ARCHITECTURES,
    LAYOUTS,
    RUNTIMES,
    Architecture,
    Layout,
    Runtime,
)
from lambda_zip_action.split import layer_paths
from lambda_zip_action.toml_text import TomlError, parse_toml, table

InstallerName = Literal["uv", "pip"]
Invalidation = Literal["checked-hash", "unchecked-hash"]
INSTALLERS: tuple[InstallerName, ...] = ("uv", "pip")
INVALIDATIONS: tuple[Invalidation, ...] = ("checked-hash", "unchecked-hash")

DEFAULT_COMPRESSION_LEVEL = 6
LOCK_FILES = ("uv.lock", "poetry.lock", "requirements.txt")


@dataclass(frozen=True)
class BuildConfig:
    project_dir: Path
    sources: tuple[Path, ...]
    requirements: Path | None
    python_version: str
    architecture: Architecture
    installer: InstallerName
    python: Path | None
    layout: Layout
    output: Path
    manifest: Path
    excludes: tuple[str, ...] = ()
    # Paths (globs) brought back from the default skip rules, credentials included.
    includes: tuple[str, ...] = ()
    compile: bool = True
    # A CycloneDX SBOM beside each zip (sbom.py): <zip>.cdx.json.
    sbom: bool = True
    compression_level: int = DEFAULT_COMPRESSION_LEVEL
    source_invalidation: Invalidation = "checked-hash"
    fail_on_size_limit: bool = False
    source_date_epoch: int | None = None
    # --split: dependencies go to a layer zip of their own (see split.py).
    split: bool = False
    layer_output: Path | None = None
    layer_manifest: Path | None = None
    # Where temporary directories go; verify points the second build elsewhere.
    temp_root: Path | None = None
    # Refuse every source distribution: nothing from a dependency runs at install time.
    no_build: bool = False
    notes: tuple[str, ...] = field(default=(), compare=False)
    # How python_version was chosen, for messages that depend on it.
    python_version_reason: str = field(default="", compare=False)
    # A function its deploy configuration declares: its name, and its handler with where it
    # was declared ("template.yaml:12"), checked against what the zip holds before writing.
    function: str | None = field(default=None, compare=False)
    handler: str | None = field(default=None, compare=False)
    handler_origin: str = field(default="", compare=False)
    # The layers the function's deploy configuration attaches (what they hold is not known).
    layers: tuple[str, ...] = field(default=(), compare=False)
    # The deploy configuration file chosen with --deploy-config, for verify's rebuild.
    deploy_choice: str | None = field(default=None, compare=False)
    # Modules the deploy tool ships itself (FunctionSpec.support): (pinned requirement, files).
    support: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Files written by this run besides the above, where they end up (functions.build_functions
    # stages the above elsewhere first): never packed, nor their directory.
    written: tuple[Path, ...] = field(default=(), compare=False)

    @property
    def runtime(self) -> Runtime:
        return RUNTIMES[self.python_version]


def read_pyproject_settings(project_dir: Path) -> dict[str, Any]:
    """Return `[tool.lambda-zip]` of the project's pyproject.toml, keyed by option name."""
    path = project_dir / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = parse_toml(path.read_text(encoding="utf-8"))
    except (TomlError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path} is not valid TOML ({exc}). Fix the file and build again."
        ) from exc
    tool = data.get("tool", {})
    table = tool.get("lambda-zip", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.lambda-zip] in {path} must be a table.")
    refused = sorted(set(table) & set(COMMAND_LINE_ONLY))
    if refused:
        flags = ", ".join(COMMAND_LINE_ONLY[key] for key in refused)
        raise ConfigError(
            f"[tool.lambda-zip] in {path} sets {', '.join(refused)}, which a project's own "
            "settings may not choose: it would run a program of the checkout's choosing on the "
            f"build machine (or change what may run). Remove it and pass {flags} on the command "
            "line (in the Action: the inputs) instead."
        )
    # [tool.lambda-zip.functions] declares functions (deploy.declared reads it), not options.
    table = {key: value for key, value in table.items() if key != "functions"}
    unknown = sorted(set(table) - set(SETTINGS))
    if unknown:
        raise ConfigError(
            f"[tool.lambda-zip] in {path} has unknown setting(s) {', '.join(unknown)}; "
            f"known settings are {', '.join(sorted(SETTINGS))}."
        )
    number = table.get("python-version")
    if isinstance(number, int | float) and not isinstance(number, bool):
        # TOML reads python-version = 3.10 as the number 3.1.
        raise ConfigError(
            f"[tool.lambda-zip] python-version in {path} is the number {number!r}, not a "
            "version (TOML reads 3.10 as 3.1). Write it as a string, e.g. python-version = "
            '"3.12".'
        )
    settings: dict[str, Any] = {}
    wrong: list[str] = []
    for key, value in table.items():
        parsed, problem = BY_NAME[SETTINGS[key]].parse_setting(value)
        if problem is not None:
            wrong.append(visible(problem))
        settings[SETTINGS[key]] = parsed
    if wrong:
        raise ConfigError(
            f"[tool.lambda-zip] in {path}: " + "; ".join(wrong) + ". Fix the values and build "
            "again (see README's option table)."
        )
    escaping: list[str] = []
    for key in PATH_OPTIONS:
        value = settings.get(key)
        if isinstance(value, list):
            settings[key] = [_inside(project_dir, str(item), key, escaping) for item in value]
        elif isinstance(value, str):
            settings[key] = _inside(project_dir, value, key, escaping)
    if escaping:
        raise ConfigError(
            f"[tool.lambda-zip] in {path} gives paths outside the project {project_dir}: "
            + "; ".join(escaping)
            + ". A project's settings may only name paths inside it (symlinks are followed); "
            "to read or write elsewhere, pass the path on the command line."
        )
    return settings


def _inside(project_dir: Path, value: str, key: str, escaping: list[str]) -> Path:
    """`value` relative to the project; noted in `escaping` unless it resolves inside it."""
    path = project_dir / value
    root = project_dir.resolve()
    try:
        path.resolve().relative_to(root)
    except ValueError:
        shown = visible(value)
        escaping.append(
            f"{_SETTING_NAMES.get(key, key)} = {shown!r} (resolves to {path.resolve()})"
        )
    return path


_SETTING_NAMES = {option: name for name, option in SETTINGS.items()}


def make_config(
    project_dir: Path,
    options: Mapping[str, Any],
    source_date_epoch: str | None = None,
    function: FunctionSpec | None = None,
) -> BuildConfig:
    """Validate flags (`options`, None meaning "not given") over pyproject settings and defaults.

    `function`, a function the project's deploy configuration declares, gives the sources (its
    code directory), the runtime, architecture, dependency file and handler; a flag or setting
    that contradicts what it declares is an error, since the zip would not be what is deployed.
    """
    project_dir = project_dir.resolve()
    if not project_dir.is_dir():
        raise ConfigError(f"The project directory {project_dir} does not exist.")
    settings = read_pyproject_settings(project_dir)
    merged: dict[str, Any] = {**settings, **{k: v for k, v in options.items() if v is not None}}
    problems: list[str] = []
    notes: list[str] = []
    if function is not None:
        flags = {key for key, value in options.items() if value is not None}
        _declared(function, merged, problems, notes, flags)
        if function.requirements is not None and not _is_within(function.requirements,
                                                                project_dir):  # fmt: skip
            problems.append(
                f"{function.origin or 'the deploy configuration'} installs "
                f"{visible(str(function.requirements))} for {visible(function.name)}, outside "
                f"the project {project_dir}"
            )
        from lambda_zip_action.deploy.source import repository_metadata

        if repository_metadata(function.code_dir, project_dir) is not None:
            problems.append(
                f"{function.origin or 'the deploy configuration'} puts the code of "
                f"{visible(function.name)} in a version control directory "
                f"({visible(str(function.code_dir))}), which is never shipped"
            )
        if not _is_within(function.code_dir, project_dir):
            problems.append(
                f"{function.origin or 'the deploy configuration'} puts the code of "
                f"{visible(function.name)} in {visible(str(function.code_dir))}, which resolves "
                f"outside the project {project_dir}: a deploy configuration may only name "
                "directories inside it"
            )

    given_version = merged.get("python_version")
    given_by = merged.pop("python_version_by", "the python-version setting")
    chosen = target_python(project_dir, None if given_version is None else str(given_version),
                           problems, given_by)  # fmt: skip
    python_version = chosen.value
    if given_version is None or function is not None:
        notes.append(chosen.reason)
    if python_version not in RUNTIMES:
        problems.append(
            f"python version {python_version!r} is not a Lambda Python runtime this tool "
            f"supports; choose one of {', '.join(RUNTIMES)}"
        )
    architecture = str(merged.get("architecture", "x86_64"))
    if architecture == "aarch64":
        architecture = "arm64"
    if architecture not in ARCHITECTURES:
        problems.append(
            f"architecture {architecture!r} is not a Lambda architecture; "
            f"choose {' or '.join(ARCHITECTURES)}"
        )
    installer = str(merged.get("installer", "uv"))
    if installer not in INSTALLERS:
        problems.append(f"installer {installer!r} is not supported; choose uv or pip")
    layout = str(merged.get("layout", "function"))
    if layout not in LAYOUTS:
        problems.append(f"layout {layout!r} is not known; choose function or layer")
    invalidation = str(merged.get("source_invalidation", "checked-hash"))
    if invalidation not in INVALIDATIONS:
        problems.append(
            f"source invalidation {invalidation!r} is not known; choose checked-hash or "
            "unchecked-hash (timestamp .pyc are always stale on Lambda)"
        )
    level = _integer(merged.get("compression_level", DEFAULT_COMPRESSION_LEVEL))
    if level is None or not 0 <= level <= 9:
        problems.append(
            f"compression level {merged.get('compression_level')!r} must be a whole number "
            "from 0 (stored) to 9"
        )
        level = DEFAULT_COMPRESSION_LEVEL

    given_sources = merged.get("sources")
    if not given_sources:
        found, why = default_sources(project_dir)
        if found is None:
            problems.append(why)
        else:
            notes.append(why)
        given_sources = [found or project_dir / "src"]
    sources = tuple(Path(p) for p in given_sources)
    sources = tuple((s if s.is_absolute() else Path.cwd() / s).resolve() for s in sources)
    for source in sources:
        if not source.exists():
            problems.append(f"source directory {source} does not exist")
        elif not source.is_dir():
            problems.append(f"source {source} is not a directory")

    if function is not None and not merged.get("requirements"):
        # The deploy tool's own rule decided (SAM: CodeUri/requirements.txt); nothing else is
        # guessed: a project's root requirements.txt is often the deploy tooling's own.
        requirements = None
        notes.append(f"{visible(function.name)} installs no dependencies: its deploy "
                     "configuration names no dependency file for it")  # fmt: skip
    else:
        requirements = _requirements(project_dir, merged.get("requirements"), problems, notes)
    if function is not None:
        _unused_dependency_files(function, requirements, problems, notes)

    default_name = f"{function.name}.zip" if function is not None else "lambda.zip"
    output = _absolute(merged.get("output") or project_dir / "dist" / default_name)
    manifest = _absolute(merged.get("manifest") or output.with_name(output.name + ".manifest.json"))
    for key, path in (("output", output), ("manifest", manifest)):
        # A default (or pyproject) path may lead out through a symlink the checkout holds.
        given = options.get(key) is not None or options.get("output") is not None
        if not given and not _is_within(path, project_dir):
            problems.append(
                f"the {key} {visible(str(path))} resolves to {path.resolve()}, outside the "
                f"project {project_dir} (a symlink on the way?); pass --{key} to write there"
            )
    blocked: set[Path] = set()
    for key, path in (("output", output), ("manifest", manifest)):
        blocking = _file_on_the_way(path)
        if blocking is not None and blocking not in blocked:
            blocked.add(blocking)
            problems.append(
                f"the {key} {visible(str(path))} cannot be written: {visible(str(blocking))} is "
                "a file, not a directory (remove it, or give another path)"
            )
    if output.exists() and output.is_dir():
        problems.append(
            f"output {output} is a directory; give a file name such as {output}/lambda.zip"
        )

    python = merged.get("python")
    epoch = _epoch(source_date_epoch, problems)
    excludes = tuple(str(e) for e in merged.get("excludes") or ())
    includes = tuple(str(e) for e in merged.get("includes") or ())

    split, layer_output, layer_manifest = layer_paths(merged, output, manifest, layout, problems)
    if problems:
        raise ConfigError("Invalid build settings: " + "; ".join(problems) + ".")
    return BuildConfig(
        project_dir=project_dir,
        sources=sources,
        requirements=requirements,
        python_version=python_version,
        architecture=cast("Architecture", architecture),
        installer=cast("InstallerName", installer),
        python=_absolute(python) if python else None,
        layout=cast("Layout", layout),
        output=output,
        manifest=manifest,
        excludes=excludes,
        includes=includes,
        compile=bool(merged.get("compile", True)),
        sbom=bool(merged.get("sbom", True)),
        compression_level=level,
        source_invalidation=cast("Invalidation", invalidation),
        fail_on_size_limit=bool(merged.get("fail_on_size_limit", False)),
        source_date_epoch=epoch,
        no_build=bool(merged.get("no_build", False)),
        split=split,
        layer_output=layer_output,
        layer_manifest=layer_manifest,
        notes=tuple(notes),
        python_version_reason=chosen.reason,
        function=function.name if function is not None else None,
        handler=function.handler.value if function and function.handler else None,
        handler_origin=str(function.handler.origin) if function and function.handler else "",
        layers=function.layers if function is not None else (),
        support=function.support if function is not None else (),
    )


def _declared(
    function: FunctionSpec,
    merged: dict[str, Any],
    problems: list[str],
    notes: list[str],
    flags: set[str],
) -> None:
    """Put what `function` declares into `merged`; a flag or setting that disagrees is a problem,
    except a project-wide [tool.lambda-zip] setting under a [tool.lambda-zip.functions] table,
    which the function's own value overrides (one file, the narrower table wins)."""
    name = visible(function.name)
    if function.tool == "pyproject":
        own = {"python_version": function.runtime, "architecture": function.architecture}
        for key, value in own.items():
            if value is not None and key not in flags:
                merged.pop(key, None)
    if function.runtime is not None:
        declared = function.runtime.value.removeprefix("python")
        given = merged.get("python_version")
        if given is not None and str(given) != declared:
            problems.append(
                f"{function.runtime.origin} declares {visible(function.runtime.value)} for "
                f"{name}, but python-version is {visible(str(given))}: the zip would carry "
                "bytecode that runtime never uses; drop the setting or change the declaration"
            )
        merged["python_version"] = declared
        merged["python_version_by"] = f"declared for {name} in {function.runtime.origin}"
    if function.architecture is not None:
        declared = function.architecture.value
        given = merged.get("architecture")
        if given is not None and {"aarch64": "arm64"}.get(str(given), str(given)) != declared:
            problems.append(
                f"{function.architecture.origin} declares the {visible(declared)} architecture "
                f"for {name}, but architecture is {visible(str(given))}: native wheels would "
                "not load there; drop the setting or change the declaration"
            )
        merged["architecture"] = declared
        notes.append(
            f"architecture {visible(declared)}: declared in {function.architecture.origin}"
        )
    setting = merged.get("sources")
    if setting and [Path(str(p)).resolve() for p in setting] != [function.code_dir.resolve()]:
        problems.append(
            f"[tool.lambda-zip] source names {', '.join(visible(str(p)) for p in setting)}, but "
            f"{function.origin or 'the deploy configuration'} declares the code of {name} in "
            f"{visible(str(function.code_dir))}: remove the setting, or declare the function in "
            "[tool.lambda-zip.functions]"
        )
    merged["sources"] = [function.code_dir]
    notes.append(f"function {name}: code from {function.code_dir}"
                 + (f", declared in {function.origin}" if function.origin else ""))  # fmt: skip
    if function.requirements is not None and merged.get("requirements") is None:
        merged["requirements"] = function.requirements
    # Deduplicated, so that verify's rebuild, given the merged lists, merges to the same.
    merged["excludes"] = list(dict.fromkeys([*(merged.get("excludes") or ()), *function.excludes]))
    merged["includes"] = list(dict.fromkeys([*(merged.get("includes") or ()), *function.includes]))
    notes.extend(function.notes)


DEPENDENCY_FILES = ("requirements.txt", "uv.lock", "poetry.lock", "Pipfile.lock", "pyproject.toml")


def _unused_dependency_files(
    function: FunctionSpec, requirements: Path | None, problems: list[str], notes: list[str]
) -> None:
    """A dependency file in the function's code directory that the build would not install:
    an error when nothing is installed (the usual slip: the zip lacks every dependency), a note
    beside the one the deploy tool installs (an exported requirements.txt beside its lock)."""
    for name in DEPENDENCY_FILES:
        candidate = function.code_dir / name
        if not candidate.is_file() or (requirements is not None and candidate == requirements):
            continue
        if name in function.excludes:  # the deploy tool leaves it out of the package too
            continue
        if name == "pyproject.toml" and not _has_project_dependencies(candidate):
            continue
        if requirements is not None:
            notes.append(f"{visible(str(candidate))} lies in the code directory of "
                         f"{visible(function.name)} too; the build installs {requirements}, as "
                         "its deploy tool does")  # fmt: skip
            continue
        using = "installs nothing"
        problems.append(
            f"{visible(str(candidate))} lies in the code directory of {visible(function.name)}, "
            f"but the build {using}: its dependencies would be missing from the zip; name it "
            "with requirements in [tool.lambda-zip.functions] (or --requirements), or remove it"
        )


def _requirements(
    project_dir: Path, given: object, problems: list[str], notes: list[str]
) -> Path | None:
    if given:
        path = _absolute(given)
        if not path.is_file():
            problems.append(f"requirements file {path} does not exist")
        return path
    for name in LOCK_FILES:
        candidate = project_dir / name
        if candidate.is_file():
            notes.append(f"using {name} from {project_dir}")
            return candidate
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file() and _has_project_dependencies(pyproject):
        notes.append(f"no lock file found; using the dependencies in {pyproject}")
        return pyproject
    notes.append(
        f"no uv.lock, poetry.lock, requirements.txt or [project] dependencies in {project_dir}: "
        "packaging the sources only"
    )
    return None


def _has_project_dependencies(pyproject: Path) -> bool:
    try:
        data = parse_toml(pyproject.read_text(encoding="utf-8"))
    except (TomlError, UnicodeDecodeError):
        return False
    return bool(table(data, "project").get("dependencies"))


def _absolute(value: object) -> Path:
    """An absolute, normalised path (`a/../b` is `b`); symlinks are left as they are."""
    path = Path(str(value))
    return Path(os.path.normpath(path if path.is_absolute() else Path.cwd() / path))


def _file_on_the_way(path: Path) -> Path | None:
    """The file (not directory) where a directory leading to `path` would have to be."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def _is_within(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+", value.strip()):
        return int(value)
    return None


def _epoch(value: str | None, problems: list[str]) -> int | None:
    if value is None or value == "":
        return None
    if not re.fullmatch(r"\d+", value.strip()):
        problems.append(f"SOURCE_DATE_EPOCH={value!r} must be a whole number of seconds")
        return None
    epoch = int(value)
    # A zip's DOS date holds the years 1980 to 2107.
    if not 315532800 <= epoch < 4354819200:
        problems.append(
            f"SOURCE_DATE_EPOCH={value} lies outside the years 1980 to 2107 that a zip can store"
        )
        return None
    return epoch

"""The orchestrator: a frozen configuration in, a result out. It never prints.

requirements -> interpreter -> install -> stage -> compile -> outputs (archive, manifest,
limits), each a module of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from lambda_zip_action.archive import (
    ArchiveResult,
    reference_zlib,
)
from lambda_zip_action.bytecode_cache import BytecodeCache, CachedGroup, FreshGroup
from lambda_zip_action.compile import compile_entries, default_workers
from lambda_zip_action.config import BuildConfig
from lambda_zip_action.errors import ConfigError, InterpreterError, SourceError
from lambda_zip_action.etags import S3ETags
from lambda_zip_action.events import Event, Listener, ignore
from lambda_zip_action.gitrepo import Checkout, checkout
from lambda_zip_action.handler import check_handler
from lambda_zip_action.install import InstallResult, install, installer_environment
from lambda_zip_action.installed_tree import Distribution
from lambda_zip_action.installers import InstallRequest, UvInstaller, make_installer
from lambda_zip_action.interpreter import Interpreter, find_interpreter, probe
from lambda_zip_action.limits import SizeReport, combined_problem
from lambda_zip_action.outputs import Artifact, Package, write_outputs
from lambda_zip_action.requirements import RequirementSet, load_requirements, repository_root
from lambda_zip_action.runtimes import Layout, task_root
from lambda_zip_action.sandbox import BuildPolicy, build_policy, tainted
from lambda_zip_action.sbom import sbom_path
from lambda_zip_action.stage import (
    SourceRules,
    StagedFile,
    case_collisions,
    collect,
    collect_sources,
    merge,
)


@dataclass(frozen=True)
class BuildResult:
    """The package (with --split: the function zip) and, with --split, the layer zip."""

    config: BuildConfig
    archive: ArchiveResult
    distributions: tuple[Distribution, ...]
    sizes: SizeReport
    requirements: RequirementSet
    interpreter: Path
    etags: S3ETags
    warnings: tuple[str, ...] = field(default=())
    built_from_source: tuple[str, ...] = field(default=())
    layer: Artifact | None = None
    # The bytecode groups as the cache holds them (with a cache): verify proves them.
    bytecode_groups: tuple[CachedGroup, ...] = field(default=())
    # verify's rebuild (a proven-only cache): the groups it compiled afresh.
    fresh_groups: tuple[FreshGroup, ...] = field(default=())

    @property
    def output(self) -> Path:
        return self.config.output

    @property
    def manifest(self) -> Path:
        return self.config.manifest

    @property
    def sbom(self) -> Path | None:
        return sbom_path(self.config.output) if self.config.sbom else None


def build(
    config: BuildConfig,
    env: Mapping[str, str],
    on_event: Listener = ignore,
    workers: int | None = None,
    rebuild_sdists: bool = False,
    reverse_traversal: bool = False,
    cache_dir: Path | None = None,
    rebuild_from_source: tuple[str, ...] = (),
    on_inputs_read: Callable[[Path], None] | None = None,
    proving_cache: bool = False,
    shared: SharedWork | None = None,
) -> BuildResult:
    """Build the zip and manifest described by `config`; `env` is the environment for tools.

    `cache_dir` keeps compiled bytecode and deflated large files between builds (see
    compile.BytecodeCache, archive.DeflateCache); the bytes are the same with or without it,
    which verify checks. `proving_cache` is verify's rebuild: it reads only bytecode an earlier
    verify proved and deflated bytes it inflates back first, and writes nothing to the cache.

    `on_inputs_read(interpreter)` is called once nothing the build reads can change under it any
    more: after an install that built nothing from source, with the staged sources copied into
    the build's own directory (verify then starts its rebuild alongside). Not called when a
    build script ran: the rebuild then starts after this build.
    """
    workers = workers or default_workers()
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        on_event(Event("warning", message))

    for note in config.notes:
        on_event(Event("info", note))
    if not reference_zlib():
        warn(
            f"this Python uses zlib {zlib.ZLIB_RUNTIME_VERSION}, not the reference zlib: the "
            "deflate bytes, and so the zip's hash, will differ from builds on other hosts; "
            "compare content digests, or build where Python links the reference zlib"
        )

    if cache_dir is not None and tainted(cache_dir):
        warn(
            f"{cache_dir} is not read or written: a build from source ran outside a sandbox "
            "while it existed, and its script could have forged any entry; delete the "
            "directory to start a clean cache"
        )
        cache_dir = None
    if shared is None:
        interpreter = _interpreter(config, env)
    else:
        interpreter = shared.interpreters.get((config.python_version, config.python)) or (
            shared.interpreters.setdefault((config.python_version, config.python),
                                           _interpreter(config, env)))  # fmt: skip
    runtime = config.runtime
    tool_env = installer_environment(env)
    work = Path(tempfile.mkdtemp(prefix="lambda-zip-", dir=config.temp_root))
    try:
        key = _install_key(config, interpreter, rebuild_sdists, rebuild_from_source,
                           reverse_traversal)  # fmt: skip
        done = shared.installs.get(key) if shared is not None else None
        if done is None:
            target = (shared.directory / f"dependencies-{len(shared.installs)}"
                      if shared is not None else work / "dependencies")  # fmt: skip
            done = _install(config, interpreter, tool_env, target, on_event, rebuild_sdists,
                            rebuild_from_source, reverse_traversal, env, cache_dir)  # fmt: skip
            if shared is not None:
                shared.installs[key] = done
        else:
            on_event(Event("info", f"dependencies from {_describe(config.requirements)} as "
                                   "installed for an earlier function of this build"))  # fmt: skip
        for message in done.warnings:
            warn(message)
        if cache_dir is not None and tainted(cache_dir):  # this build's install marked it
            cache_dir = None
        requirements, installed, dependencies = done.requirements, done.result, done.directory

        on_event(Event("stage", "Staging sources"))
        layer_files = (config.layer_output, config.layer_manifest)
        never_pack = (
            config.output,
            config.manifest,
            *(p for p in layer_files if p is not None),
            *config.written,
            *(sbom_path(p) for p in (config.output, config.layer_output) if p is not None),
        )
        groups = [list(done.staged) + _support(config, interpreter, tool_env, work, done)]
        for src in config.sources:
            rules = source_rules(config, src, _checkout(src, tool_env, warn))
            staged, report = collect_sources(src, rules, never_pack, reverse_traversal)
            groups.append(staged)
            for note in report.notes(src):
                on_event(Event("info", note))
            for warning in report.warnings(src):
                warn(warning)
        if config.split:
            packages = [
                Package(config.output, config.manifest, "function",
                         merge(*groups[1:], layer=False), ()),
                Package(_layer_output(config), _layer_manifest(config), "layer",
                         merge(groups[0], layer=True), installed.distributions),
            ]  # fmt: skip
            _check_split(config, packages)
        else:
            packages = [
                Package(config.output, config.manifest, config.layout,
                         merge(*groups, layer=config.layout == "layer"), installed.distributions)
            ]  # fmt: skip
            if not any(not entry.is_dir for entry in packages[0].entries):
                raise SourceError(
                    f"Nothing to package: {', '.join(str(s) for s in config.sources)} hold no "
                    "files and there are no dependencies. Lambda refuses an empty zip; point "
                    "--source at your code."
                )
            if not any(not entry.is_dir for group in groups[1:] for entry in group):
                warn("the source directories hold no files: the package holds dependencies only")
        if config.handler is not None and config.function is not None:
            check_handler(config.handler, config.handler_origin, config.function,
                          packages[0].entries, layers=config.layers, warn=warn,
                          elsewhere=[e.name.removeprefix("python/") for p in packages[1:]
                                     for e in p.entries])  # fmt: skip
        for package in packages:
            for first, second in case_collisions(package.entries):
                warn(
                    f"{first} and {second} differ only in case: they cannot both be checked out "
                    "on macOS or Windows"
                )

        if on_inputs_read is not None and not installed.built_from_source:
            for index, package in enumerate(packages):
                package.entries = _private_sources(package.entries, work / f"sources-{index}")
            on_inputs_read(interpreter.path)

        bytecode_groups: tuple[CachedGroup, ...] = ()
        fresh_groups: tuple[FreshGroup, ...] = ()
        if config.compile:
            on_event(Event("stage", f"Compiling bytecode with CPython {interpreter.version}"))
            for index, package in enumerate(packages):
                # A directory per package: a function file named like a layer file
                # (src/python/six.py beside python/six.py) must not overwrite its bytecode.
                compiled = compile_entries(
                    package.entries,
                    interpreter.path,
                    runtime.cache_tag,
                    task_root(cast("Layout", package.layout)),
                    work / f"bytecode-{index}" if shared is None
                    else shared.directory_for("bytecode"),
                    config.source_invalidation,
                    env,
                    workers,
                    progress=lambda done, total: on_event(
                        Event("progress", "compile", done, total)
                    ),
                    reverse=reverse_traversal,
                    cache=BytecodeCache(cache_dir / "bytecode", interpreter.identity,
                                        proven_only=proving_cache)
                    if cache_dir is not None
                    else None,
                    memo=shared.bytecode if shared is not None else None,
                )  # fmt: skip
                bytecode_groups += compiled.groups
                fresh_groups += compiled.fresh
                if compiled.from_cache:
                    on_event(
                        Event(
                            "info",
                            f"{compiled.from_cache} of {len(compiled.bytecode)} .pyc from the "
                            f"{'proven ' if proving_cache else ''}bytecode cache in {cache_dir}",
                        )
                    )
                for name, why in compiled.skipped:
                    on_event(Event("info", f"left {name} as source: it does not compile ({why})"))
                package.entries = merge(package.entries, list(compiled.bytecode), layer=False)

        # Where each zip ends up (a multi-function build writes it to a staging file first).
        # (config.written: the final output, manifest, layer output, layer manifest, index.)
        finals = {}
        if config.written:
            finals[config.output] = config.written[0]
            if config.layer_output is not None and len(config.written) > 2:
                finals[config.layer_output] = config.written[2]
        on_event(Event("stage", "Writing " + " and ".join(str(finals.get(p.output, p.output))
                                                         for p in packages)))  # fmt: skip
        artifacts = write_outputs(config, packages, requirements, interpreter,
                           installed.installer, installed.installer_version, dependencies,
                           workers, on_event, cache_dir, proving_cache,
                           shared.packed if shared is not None else None)  # fmt: skip
        for artifact in artifacts:
            if artifact.sizes.problems:
                warn(artifact.sizes.describe())
        if (together := combined_problem([artifact.sizes for artifact in artifacts])) is not None:
            warn(together)
        function = artifacts[0]
        return BuildResult(
            config,
            function.archive,
            installed.distributions,
            function.sizes,
            requirements,
            interpreter.path,
            function.etags,
            tuple(warnings),
            installed.built_from_source,
            artifacts[1] if config.split else None,
            bytecode_groups,
            fresh_groups,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class _Installed:
    """A dependency set installed, normalised and staged, with what its install warned of."""

    requirements: RequirementSet
    result: InstallResult
    directory: Path
    staged: tuple[StagedFile, ...]
    warnings: tuple[str, ...]


@dataclass
class SharedWork:
    """What the builds of one command share (every function of a deploy configuration): each
    interpreter is found once, and each dependency set installed, normalised and staged once,
    into `directory`, which lives until the command ends. Nothing shared changes a byte: a
    function's zip is the one its own build would write."""

    directory: Path
    interpreters: dict[tuple[str, Path | None], Interpreter] = field(default_factory=dict)
    installs: dict[tuple[object, ...], _Installed] = field(default_factory=dict)
    # Bytecode groups compiled, by key (compile.compile_entries' memo), and deflated files by
    # path and stat (archive.write_zip's memo).
    bytecode: dict[str, tuple[list[tuple[str, str]], dict[str, Path]]] = field(default_factory=dict)
    packed: dict[tuple[object, ...], Any] = field(default_factory=dict)
    counter: int = 0

    def directory_for(self, kind: str) -> Path:
        self.counter += 1
        return self.directory / f"{kind}-{self.counter}"


def _install_key(
    config: BuildConfig,
    interpreter: Interpreter,
    rebuild_sdists: bool,
    rebuild_from_source: tuple[str, ...],
    reverse_traversal: bool,
) -> tuple[object, ...]:
    """Everything an install and its staging depend on, the dependency file's bytes included."""
    content = None
    if config.requirements is not None:
        try:
            content = hashlib.sha256(config.requirements.read_bytes()).hexdigest()
        except OSError:
            content = None
    return (config.requirements, content, config.project_dir, config.python_version,
            config.architecture, config.installer, config.no_build, interpreter.path,
            rebuild_sdists, rebuild_from_source, reverse_traversal)  # fmt: skip


def _install(
    config: BuildConfig,
    interpreter: Interpreter,
    tool_env: dict[str, str],
    dependencies: Path,
    on_event: Listener,
    rebuild_sdists: bool,
    rebuild_from_source: tuple[str, ...],
    reverse_traversal: bool,
    env: Mapping[str, str],
    cache_dir: Path | None,
) -> _Installed:
    """Read the dependency file, install it into `dependencies` and stage what was installed;
    `env` is the caller's whole environment, to judge what a build script could read."""
    runtime = config.runtime
    warnings: list[str] = []
    on_event(Event("stage", f"Reading {_describe(config.requirements)}"))
    uv = UvInstaller(tool_env)
    requirements = load_requirements(
        config.requirements,
        runtime.marker_environment(config.architecture),
        uv.export_lock,
        repository_root(config.project_dir),
    )
    if requirements.unpinned:
        shown = ", ".join(requirements.unpinned[:5])
        warnings.append(
            f"{len(requirements.unpinned)} requirement(s) are not pinned ({shown}): the "
            "package can change without a commit. Lock them (uv lock, poetry lock, or "
            "uv pip compile --generate-hashes); the manifest records what was installed"
        )

    on_event(
        Event(
            "stage",
            "No dependencies to install"
            if requirements.empty
            else f"Installing dependencies with {config.installer} for {runtime.identifier} "
            f"{config.architecture}",
        )
    )
    installer = make_installer(config.installer, tool_env, interpreter.path)
    installed = install(
        installer,
        InstallRequest(
            requirements,
            runtime,
            config.architecture,
            interpreter.path,
            dependencies,
            rebuild_sdists=rebuild_sdists,
            rebuild_from_source=rebuild_from_source,
            no_build=config.no_build,
            policy=BuildPolicy()
            if config.no_build
            else build_policy(
                env, cache_dir, repository_root(config.project_dir), dependencies.parent
            ),
        ),
    )
    if not requirements.locked:
        named = requirements.names()
        loose = [f"{d.name} {d.version}" for d in installed.distributions if d.name not in named]
        if loose:
            warnings.append(
                f"{_describe(config.requirements)} does not pin {len(loose)} of the "
                f"distributions installed ({', '.join(loose[:5])}"
                f"{', ...' if len(loose) > 5 else ''}): they resolve afresh on every build, "
                "so a later build can differ without a commit. Lock the whole closure "
                "(uv pip compile --generate-hashes, uv lock or poetry lock)"
            )
    if installed.built_from_source:
        warnings.append(
            f"built on this machine from source (an sdist or a local directory), running "
            f"their build scripts: {', '.join(installed.built_from_source)}; --no-build "
            "refuses them"
        )

    staged = collect(dependencies, "dependency", reverse=reverse_traversal)
    return _Installed(requirements, installed, dependencies, tuple(staged), tuple(warnings))


def _support(
    config: BuildConfig,
    interpreter: Interpreter,
    tool_env: dict[str, str],
    work: Path,
    done: _Installed,
) -> list[StagedFile]:
    """The files of modules the deploy tool adds to a package itself (Chalice's runtime), from
    the release the project pins, installed on its own (no dependencies); none when the
    dependencies already hold that distribution."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    installed = {canonicalize_name(d.name) for d in done.result.distributions}
    staged: list[StagedFile] = []
    for index, (line, files) in enumerate(config.support):
        name = canonicalize_name(Requirement(line.split(" --hash")[0]).name)
        if name in installed:
            continue
        target = work / f"support-{index}"
        requirement = RequirementSet("requirements.txt", None, None, (line,), locked=True,
                                     hashed="--hash=" in line)  # fmt: skip
        install(
            make_installer(config.installer, tool_env, interpreter.path),
            InstallRequest(
                requirement,
                config.runtime,
                config.architecture,
                interpreter.path,
                target,
                no_build=True,
            ),
        )
        for file in files:
            path = target / file
            if not path.is_file():
                raise SourceError(f"{line.split(' --hash')[0]} holds no {file}, which its tool "
                                  "adds to the package: pin a release that has it.")  # fmt: skip
            for parent in Path(file).parents[:-1]:
                staged.append(StagedFile(parent.as_posix() + "/", None, 0o755, "dependency"))
            staged.append(StagedFile(file, path, 0o644, "dependency", path.stat().st_size))
    unique = {entry.name: entry for entry in staged}
    return sorted(unique.values(), key=lambda entry: entry.name.encode("utf-8"))


def _private_sources(entries: list[StagedFile], directory: Path) -> list[StagedFile]:
    """The staged source files, each copied into `directory`: what the rest of the build reads.

    Dependencies already live in the build's own directory; sources are the project's files,
    which another process (the verifying rebuild, or something it starts) could rewrite.
    """
    private = []
    for index, entry in enumerate(entries):
        if entry.origin == "source" and entry.path is not None and not entry.is_dir:
            copy = directory / str(index)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(entry.path, copy)
            private.append(dataclasses.replace(entry, path=copy))
        else:
            private.append(entry)
    return private


def _layer_output(config: BuildConfig) -> Path:
    assert config.layer_output is not None, "make_config sets it with split"
    return config.layer_output


def _layer_manifest(config: BuildConfig) -> Path:
    assert config.layer_manifest is not None, "make_config sets it with split"
    return config.layer_manifest


def _check_split(config: BuildConfig, packages: list[Package]) -> None:
    function, layer = packages
    if not any(not entry.is_dir for entry in function.entries):
        raise SourceError(
            f"Nothing for the function zip: {', '.join(str(s) for s in config.sources)} hold no "
            "files. With --split the function zip holds your code only and Lambda refuses an "
            "empty zip; point --source at your code. Nothing was written."
        )
    if not any(not entry.is_dir for entry in layer.entries):
        raise SourceError(
            f"Nothing for the layer zip: {_describe(config.requirements)} installs no "
            "dependencies. Lambda refuses an empty layer; build without --split. Nothing was "
            "written."
        )


def _checkout(source: Path, env: Mapping[str, str], warn: Callable[[str], None]) -> Checkout | None:
    """What git tracks and ignores in `source`; None outside a repository, or (with a
    warning) when git cannot tell."""
    try:
        return checkout(source, env)
    except ConfigError as exc:
        warn(
            f"{exc.message} Files git ignores in {source} are packed too, so this build can "
            "differ from a CI build of the commit."
        )
        return None


def source_rules(
    config: BuildConfig, source: Path, checkout: Checkout | None = None
) -> SourceRules:
    """What staging leaves out of `source`: the settings, the defaults of a top-level layout,
    the directory the zip is written to (a `dist/` inside `--source .`), and what git ignores
    (`checkout`); and what it refuses for the target (foreign binaries)."""
    never = []
    written = (config.output, config.manifest, config.layer_output, config.layer_manifest)
    for path in (*written, *config.written):
        if path is None:
            continue
        try:
            relative = path.parent.resolve().relative_to(source)
        except ValueError:
            continue
        if relative.parts:
            never.append(relative.as_posix())
    # A deploy tool's code directory holds the function's code beside what the tool reads
    # (requirements.txt, tests, events): it is staged as a top-level layout is.
    top_level = source == config.project_dir or config.function is not None
    if top_level and config.requirements is not None:
        # The lock or requirements list given by --requirements, whatever its name, is an
        # input of the build in a top-level layout, not a module to ship.
        with contextlib.suppress(ValueError):
            never.append(config.requirements.resolve().relative_to(source).as_posix())
    return SourceRules(
        config.excludes, config.includes, top_level=top_level,
        never=tuple(never), python_version=config.python_version,
        architecture=config.architecture, checkout=checkout,
    )  # fmt: skip


def _interpreter(config: BuildConfig, env: Mapping[str, str]) -> Interpreter:
    try:
        return find_interpreter(
            config.python_version, config.python, env, project=config.project_dir
        )
    except InterpreterError as exc:
        if config.compile or config.python is not None:
            if config.python is None and config.python_version_reason:
                raise InterpreterError(
                    f"{exc.message} The target was {config.python_version_reason}."
                ) from exc
            raise
    # Without bytecode, any CPython can drive the installers: they target the runtime anyway.
    host = probe(Path(sys.executable), env)
    if host is None:  # pragma: no cover - this process is a CPython
        raise InterpreterError(f"Cannot run {sys.executable}.")
    return host


def _describe(path: Path | None) -> str:
    return str(path) if path else "no requirements"


__all__ = ["BuildResult", "build"]

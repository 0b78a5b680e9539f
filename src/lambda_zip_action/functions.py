"""Every function a project's deploy configuration declares, built with one command.

`plan` reads the deploy configuration (deploy.discover) and makes one BuildConfig per function:
its code directory, runtime, architecture, dependency file and handler as declared, the
project's settings and the command line's flags over the rest. `build_functions` builds (or
verifies) them in turn into a staging directory beside the outputs and moves every zip and
manifest into place only once all are built, then writes the index (`dist/lambda-zip.json`)
that lists each function with its hashes, for people and for a workflow's matrix. A failure in
any function leaves every previous output untouched.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_zip_action.build import BuildResult
from lambda_zip_action.config import BuildConfig, make_config
from lambda_zip_action.deploy import discover
from lambda_zip_action.deploy.model import DeployConfig, FunctionSpec
from lambda_zip_action.errors import ConfigError, OutputError
from lambda_zip_action.escape import plain
from lambda_zip_action.outputs import Artifact, atomic_output

INDEX_SCHEMA = "lambda-zip/index/1"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
INDEX_NAME = "lambda-zip.json"


@dataclass(frozen=True)
class FunctionBuild:
    spec: FunctionSpec
    config: BuildConfig
    # "layer": a layer the deploy configuration builds from the project (SAM's LayerVersion
    # with a Python BuildMethod), packed under python/.
    kind: str = "function"


@dataclass(frozen=True)
class Plan:
    deploy: DeployConfig
    functions: tuple[FunctionBuild, ...]
    # The index to write, or None when --output names the one zip to write.
    index: Path | None


@dataclass(frozen=True)
class Selection:
    """Which functions to build (--function; none: all), from which deploy configuration file
    (--deploy-config), and `into` (verify's rebuild): every zip and manifest there, no index."""

    names: tuple[str, ...] = ()
    deploy_config: str | None = None
    into: Path | None = None


def plan(
    project_dir: Path,
    options: Mapping[str, Any],
    source_date_epoch: str | None,
    selection: Selection = Selection(),
) -> Plan | None:
    """The functions to build, or None when the project declares none (or --source is given)."""
    names, choose, into = selection.names, selection.deploy_config, selection.into
    project_dir = project_dir.resolve()
    if options.get("sources"):
        if names:
            raise ConfigError(
                "--function picks a function the deploy configuration declares, and --source "
                "builds a package by hand from the directories it names: give one or the other."
            )
        return None
    deploy = discover(project_dir, choose)
    if deploy is None:
        if names:
            raise ConfigError(
                f"--function {plain(names[0])} was given, but {project_dir} holds no deploy "
                "configuration declaring functions (template.yaml, serverless.yml, cdk.out, "
                "*.tf, .chalice/config.json, zappa_settings.json or [tool.lambda-zip.functions])."
            )
        return None
    if not deploy.functions:
        raise ConfigError(
            f"{', '.join(str(f) for f in deploy.files)} declares no Python function this tool "
            "can build" + (f" ({'; '.join(deploy.notes)})" if deploy.notes else "") + ". "
            "Declare the function in [tool.lambda-zip.functions], or build by hand with --source."
        )
    declared = [(f.name, f.origin) for f in deploy.functions]
    for name, origin in [*declared, *((layer.name, layer.origin) for layer in deploy.layers)]:
        # Names become file names (dist/<name>.zip): whatever a reader let through, nothing
        # that leaves dist/ or hides a file.
        if not _SAFE_NAME.fullmatch(name):
            raise ConfigError(
                f"{origin or 'the deploy configuration'} declares a function or layer named "
                f"{plain(name)!r}, which cannot name a file: use letters, digits, '.', '_' and "
                "'-' (at most 64, starting with a letter or digit)."
            )
    chosen = _select(deploy, names)
    if options.get("output") is not None and len(chosen) > 1:
        raise ConfigError(
            f"--output names one zip, but {len(chosen)} functions are declared "
            f"({', '.join(plain(f.name) for f in chosen)}): pick one with --function NAME, or "
            "leave --output out to write dist/<function>.zip for each."
        )
    for key in ("manifest", "layer_output", "layer_manifest"):
        if options.get(key) is not None and len(chosen) > 1:
            raise ConfigError(f"--{key.replace('_', '-')} names one file, but {len(chosen)} "
                              "functions are built: pick one with --function NAME.")  # fmt: skip
    builds = tuple(
        FunctionBuild(spec, dataclasses.replace(
            make_config(project_dir, options, source_date_epoch, spec), deploy_choice=choose))
        for spec in chosen
    ) + tuple(
        FunctionBuild(spec, dataclasses.replace(make_config(
            project_dir, {**options, "layout": "layer", "split": None}, source_date_epoch, spec),
            deploy_choice=choose), kind="layer")
        for spec in _layers(deploy, names)
    )  # fmt: skip
    if into is not None:
        into.mkdir(parents=True, exist_ok=True)
        builds = tuple(dataclasses.replace(b, config=_into(b.config, into)) for b in builds)
    _check_distinct_outputs(builds)
    given_output = options.get("output") is not None or into is not None
    index = None if given_output else project_dir / "dist" / INDEX_NAME
    return Plan(deploy, builds, index)


def _layers(deploy: DeployConfig, names: Sequence[str]) -> list[FunctionSpec]:
    """The layers to build, as functions without a handler: each Python layer the deploy
    configuration builds from the project, for the newest runtime it declares."""
    found = []
    for layer in deploy.layers:
        python = layer.build_method is None or layer.build_method.startswith("python")
        if not python or (names and layer.name not in names):
            continue
        runtimes = sorted(layer.runtimes, key=lambda r: _version(r.value))
        found.append(FunctionSpec(
            layer.name, layer.tool, layer.content_dir, None,
            runtimes[-1] if runtimes else None,
            layer.architectures[0] if layer.architectures else None,
            layer.requirements, origin=layer.origin,
            notes=(f"layer {layer.name}: bytecode for {runtimes[-1].value}, the newest of its "
                   f"compatible runtimes ({', '.join(r.value for r in runtimes)}); the others "
                   "compile its modules at import",) if len(runtimes) > 1 else (),
        ))  # fmt: skip
    return found


def _version(runtime: str) -> tuple[int, ...]:
    digits = runtime.removeprefix("python").split(".")
    return tuple(int(d) if d.isdigit() else 0 for d in digits)


def _select(deploy: DeployConfig, names: Sequence[str]) -> list[FunctionSpec]:
    if not names:
        return list(deploy.functions)
    layers = {layer.name for layer in deploy.layers}
    names = [name for name in names if name not in layers]
    if not names:
        return []
    by_name = {spec.name: spec for spec in deploy.functions}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ConfigError(
            f"--function {', '.join(plain(n) for n in unknown)}: no such function in "
            f"{', '.join(str(f) for f in deploy.files)}; it declares "
            f"{', '.join(plain(n) for n in by_name)}."
        )
    return [by_name[name] for name in dict.fromkeys(names)]


def _check_distinct_outputs(builds: Sequence[FunctionBuild]) -> None:
    seen: dict[Path, str] = {}
    for build in builds:
        config = build.config
        for path in (config.output, config.manifest, config.layer_output, config.layer_manifest):
            if path is None:
                continue
            other = seen.setdefault(path, build.spec.name)
            if other != build.spec.name:
                raise ConfigError(
                    f"{plain(other)} and {plain(build.spec.name)} would both be written to "
                    f"{path}; give them distinct names in the deploy configuration."
                )


@dataclass(frozen=True)
class Built:
    """One function's result, with its paths where they were moved to."""

    spec: FunctionBuild
    result: BuildResult
    # verify: (reproducible, rebuilt sha256, the layer's rebuilt sha256 or None)
    verified: Any = None


def build_functions(
    the_plan: Plan,
    run: Callable[[BuildConfig], tuple[BuildResult, Any]],
    on_start: Callable[[FunctionBuild], None] = lambda build: None,
) -> list[Built]:
    """Build every planned function with `run` into a staging directory, then move them all
    into place and write the index; `run` returns the build's result and anything verify adds."""
    staged: list[tuple[FunctionBuild, BuildConfig]] = []
    directories: dict[Path, Path] = {}
    try:
        for build in the_plan.functions:
            config = build.config
            staging = directories.get(config.output.parent)
            if staging is None:
                config.output.parent.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(prefix=".lambda-zip-staging-",
                                                dir=config.output.parent))  # fmt: skip
                directories[config.output.parent] = staging
            staged.append((build, _into(config, staging)))
        results = []
        for build, config in staged:
            on_start(build)
            result, verified = run(config)
            results.append((build, result, verified))
        return [_move(build, result, verified) for build, result, verified in results]
    finally:
        for staging in directories.values():
            shutil.rmtree(staging, ignore_errors=True)


def _into(config: BuildConfig, staging: Path) -> BuildConfig:
    """`config` writing every file under `staging`, under the same names."""

    def moved(path: Path | None) -> Path | None:
        return None if path is None else staging / path.name

    return dataclasses.replace(
        config,
        output=staging / config.output.name,
        manifest=staging / config.manifest.name,
        layer_output=moved(config.layer_output),
        layer_manifest=moved(config.layer_manifest),
    )


def _move(build: FunctionBuild, result: BuildResult, verified: Any) -> Built:
    final = build.config
    pairs = [(result.config.output, final.output), (result.config.manifest, final.manifest)]
    layer = result.layer
    if layer is not None and final.layer_output is not None and final.layer_manifest is not None:
        pairs += [(layer.output, final.layer_output), (layer.manifest, final.layer_manifest)]
        layer = dataclasses.replace(layer, output=final.layer_output,
                                    manifest=final.layer_manifest)  # fmt: skip
    try:
        for source, target in pairs:
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
    except OSError as exc:
        raise OutputError(f"Moving {source} to {target} failed: {exc.strerror or exc}.") from exc
    moved = dataclasses.replace(result, config=dataclasses.replace(result.config,
                                output=final.output, manifest=final.manifest,
                                layer_output=final.layer_output,
                                layer_manifest=final.layer_manifest), layer=layer)  # fmt: skip
    return Built(build, moved, verified)


def function_document(built: Built, project_dir: Path) -> dict[str, Any]:
    """One function's row of the index: its name, what was declared, and its zip's hashes."""
    from lambda_zip_action.deploy_output import artifact_document, layer_document

    result, spec = built.result, built.spec.spec
    document: dict[str, Any] = {
        "name": spec.name,
        "tool": spec.tool,
        "declared-in": str(spec.origin) if spec.origin else None,
        "handler": spec.handler.value if spec.handler else None,
        "runtime": result.config.runtime.identifier,
        "python-version": result.config.python_version,
        "architecture": result.config.architecture,
        "code-dir": _relative(spec.code_dir, project_dir),
        **artifact_document(
            result.output, result.manifest, result.archive, result.sizes, result.etags
        ),
        "zip": _relative(result.output, project_dir),
        "distributions": [{"name": d.name, "version": d.version} for d in result.distributions],
        "warnings": list(result.warnings),
    }
    document["manifest"] = _relative(result.manifest, project_dir)
    del document["path"]  # "zip", relative to the project: the index is read on other machines
    if result.layer is not None:
        document["layer"] = layer_document(result.layer)
    if built.verified is not None:
        document["reproducible"], document["rebuild-sha256"], layer_sha = built.verified
        if layer_sha is not None:
            document["layer"]["rebuild-sha256"] = layer_sha
    return document


def index_document(built: Sequence[Built], the_plan: Plan, project_dir: Path) -> dict[str, Any]:
    return {
        "schema": INDEX_SCHEMA,
        "deploy-configuration": [str(origin) for origin in the_plan.deploy.files],
        "tool": the_plan.deploy.tool,
        "functions": [function_document(b, project_dir) for b in built if b.spec.kind != "layer"],
        "layers": [function_document(b, project_dir) for b in built if b.spec.kind == "layer"],
    }


def plan_document(the_plan: Plan) -> dict[str, Any]:
    """What `lambda-zip functions --json` prints: each planned function and layer, unbuilt."""
    rows: dict[str, list[dict[str, Any]]] = {"functions": [], "layers": []}
    for planned in the_plan.functions:
        spec, config = planned.spec, planned.config
        rows["layers" if planned.kind == "layer" else "functions"].append({
            "name": spec.name,
            "tool": spec.tool,
            "declared-in": str(spec.origin) if spec.origin else None,
            "handler": spec.handler.value if spec.handler else None,
            "runtime": config.runtime.identifier,
            "python-version": config.python_version,
            "architecture": config.architecture,
            "code-dir": _relative(spec.code_dir, config.project_dir),
            "requirements": None if config.requirements is None
            else _relative(config.requirements, config.project_dir),
            "zip": _relative(config.output, config.project_dir),
        })  # fmt: skip
    return {
        "schema": INDEX_SCHEMA,
        "deploy-configuration": [str(origin) for origin in the_plan.deploy.files],
        "tool": the_plan.deploy.tool,
        **rows,
    }


def write_index(path: Path, document: Mapping[str, Any]) -> None:
    with atomic_output(path) as stream:
        stream.write((json.dumps(document, indent=2, sort_keys=True) + "\n").encode())


def _relative(path: Path, project_dir: Path) -> str:
    try:
        return path.resolve().relative_to(project_dir).as_posix() or "."
    except ValueError:
        return str(path)


__all__ = ["Artifact", "Built", "FunctionBuild", "Plan", "build_functions", "plan"]

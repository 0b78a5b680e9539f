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
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_zip_action.archive import ArchiveResult
from lambda_zip_action.build import BuildResult
from lambda_zip_action.config import BuildConfig, _is_within, make_config
from lambda_zip_action.deploy import discover
from lambda_zip_action.deploy.model import DeployConfig, FunctionSpec
from lambda_zip_action.errors import ConfigError, OutputError
from lambda_zip_action.escape import plain
from lambda_zip_action.outputs import Artifact, atomic_output, locked_directories
from lambda_zip_action.sbom import sbom_path

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
    project_dir = _project_directory(project_dir)
    choose = _choice(choose, project_dir)
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
        for spec in layer_specs(deploy, names)
    )  # fmt: skip
    if into is not None:
        into.mkdir(parents=True, exist_ok=True)
        builds = tuple(dataclasses.replace(b, config=_into(b.config, into / b.spec.name))
                       for b in builds)  # fmt: skip
    _check_distinct_outputs(builds)
    given_output = options.get("output") is not None or into is not None
    index = None if given_output else project_dir / "dist" / INDEX_NAME
    if index is not None and not _is_within(index.parent, project_dir):
        raise ConfigError(
            f"The functions' index {index} resolves to {index.parent.resolve()}, outside the "
            f"project {project_dir} (dist is a symlink?): nothing was built. Remove the link, "
            "or build one function with --function NAME --output PATH."
        )
    return Plan(deploy, builds, index)


def _choice(choose: str | None, project_dir: Path) -> str | None:
    """--deploy-config, relative to the project: given relative to the working directory, it
    is made relative to the project, which is how verify's rebuild (run elsewhere) reads it."""
    if choose is not None and not (project_dir / choose).exists() and Path(choose).exists():
        return os.path.relpath(Path(choose).resolve(), project_dir)
    return choose


def _project_directory(project_dir: Path) -> Path:
    if not project_dir.is_dir():
        raise ConfigError(
            f"The project {plain(str(project_dir))} is not a directory"
            + ("" if project_dir.exists() else " (it does not exist)")
            + ": give the directory that holds the deploy configuration with --project."
        )
    return project_dir.resolve()


def layer_specs(deploy: DeployConfig, names: Sequence[str]) -> list[FunctionSpec]:
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
    seen: dict[str, str] = {}
    for build in builds:
        config = build.config
        for path in (config.output, config.manifest, config.layer_output, config.layer_manifest):
            if path is None:
                continue
            # By case too: on macOS and Windows (a developer's checkout, an artifact
            # downloaded there) dist/Api.zip and dist/api.zip are one file.
            other = seen.setdefault(str(path).casefold(), build.spec.name)
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
    # verify: its proof.verify.VerifyResult
    verified: Any = None


def build_functions(
    the_plan: Plan,
    run: Callable[[BuildConfig], tuple[BuildResult, Any]],
    on_start: Callable[[FunctionBuild], None] = lambda build: None,
    check: Callable[[list[Built]], list[Built]] | None = None,
) -> list[Built]:
    """Build every planned function with `run` into a staging directory, then move them all
    into place with the index; `run` returns the build's result and anything verify adds.

    `check` (verify) sees every staged build before anything moves and returns them with what
    it found; when it raises, as when anything before it fails, nothing is moved: every
    previous zip, manifest and the index stay as they were, together.
    """
    stagings: dict[Path, Path] = {}

    def staged_path(final: Path, number: int) -> Path:
        directory = stagings.get(final.parent)
        if directory is None:
            final.parent.mkdir(parents=True, exist_ok=True)
            directory = Path(tempfile.mkdtemp(prefix=".lambda-zip-staging-", dir=final.parent))
            stagings[final.parent] = directory
        # A directory per file: two outputs with one name in two directories stay two files.
        (directory / str(number)).mkdir()
        return directory / str(number) / final.name

    try:
        staged: list[tuple[FunctionBuild, BuildConfig]] = []
        count = 0
        for build in the_plan.functions:
            paths: dict[str, Any] = {}
            for key in _PATH_KEYS:
                final = getattr(build.config, key)
                if final is not None:
                    count += 1
                    paths[key] = staged_path(final, count)
            staged.append((build, dataclasses.replace(
                build.config, **paths, written=_written(the_plan, build.config))))  # fmt: skip
        built = []
        for build, config in staged:
            on_start(build)
            result, verified = run(config)
            built.append(Built(build, result, verified))
        if check is not None:
            built = check(built)
        return _put_in_place(the_plan, built)
    except OSError as exc:
        raise OutputError(
            f"Writing the functions' outputs failed: {exc.strerror or exc}. Every previous "
            "output is untouched."
        ) from exc
    finally:
        for staging in stagings.values():
            shutil.rmtree(staging, ignore_errors=True)


_PATH_KEYS = ("output", "manifest", "layer_output", "layer_manifest")


def _written(the_plan: Plan, config: BuildConfig) -> tuple[Path, ...]:
    """Every file this build puts in place: staging never packs them (nor their directory)."""
    paths = [getattr(config, key) for key in _PATH_KEYS]
    sboms = [sbom_path(p) for p in (config.output, config.layer_output) if p and config.sbom]
    return tuple(p for p in (*paths, the_plan.index, *sboms) if p is not None)


def _put_in_place(the_plan: Plan, staged: list[Built]) -> list[Built]:
    """Check every staged file is still what the build wrote, then rename them all into place,
    and the index last, under one lock of their directories."""
    moves: list[tuple[Path, Path, str]] = []
    built = []
    for one in staged:
        final, result = one.spec.config, one.result
        archive = result.archive
        moves += [(result.config.output, final.output, archive.sha256),
                  *_sbom_move(result.config.output, final.output, archive),
                  (result.config.manifest, final.manifest, archive.manifest_sha256)]  # fmt: skip
        layer = result.layer
        if layer and final.layer_output is not None and final.layer_manifest is not None:
            archive = layer.archive
            moves += [(layer.output, final.layer_output, archive.sha256),
                      *_sbom_move(layer.output, final.layer_output, archive),
                      (layer.manifest, final.layer_manifest, archive.manifest_sha256)]  # fmt: skip
            layer = dataclasses.replace(layer, output=final.layer_output,
                                        manifest=final.layer_manifest,
                                        sbom=layer.sbom and sbom_path(final.layer_output),
                                        )  # fmt: skip
        moved = dataclasses.replace(result, config=dataclasses.replace(result.config,
                                    output=final.output, manifest=final.manifest,
                                    layer_output=final.layer_output,
                                    layer_manifest=final.layer_manifest), layer=layer)  # fmt: skip
        verified = one.verified
        if dataclasses.is_dataclass(verified) and hasattr(verified, "first"):
            verified = dataclasses.replace(verified, first=moved)  # type: ignore[type-var]
        built.append(Built(one.spec, moved, verified))
    for source, target, sha256 in moves:
        # A later function's build script runs while an earlier one's zip is staged: what it
        # may have changed is not moved.
        if sha256 and _sha256(source) != sha256:
            raise OutputError(
                f"{target.name} changed after it was written (something that ran during the "
                "build of a later function wrote it), so nothing was moved into place: every "
                "previous output is untouched. Build again; build the functions one by one with "
                "--function to find the dependency that does this."
            )
        if target.is_dir() and not target.is_symlink():
            raise OutputError(
                f"{target} is a directory, so nothing was moved into place: every previous "
                "output is untouched. Remove it or choose another output path."
            )
    index = the_plan.index
    pending: list[tuple[Path, Path]] = [(source, target) for source, target, _ in moves]
    temporary = None
    if index is not None:
        document = _merged_index(index_document(built, the_plan, _project(the_plan)), the_plan)
        index.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{index.name}.", suffix=".tmp", dir=index.parent)
        temporary = Path(name)
        with os.fdopen(handle, "wb") as stream:
            stream.write((json.dumps(document, indent=2, sort_keys=True) + "\n").encode())
        temporary.chmod(0o644)
        pending.append((temporary, index))
    try:
        with locked_directories(sorted({target.parent for _, target in pending})):
            for source, target in pending:
                source.replace(target)
    finally:
        if temporary is not None and temporary.exists():
            temporary.unlink()
    return built


def _sbom_move(staged: Path, final: Path, archive: ArchiveResult) -> list[tuple[Path, Path, str]]:
    """The SBOM written beside a staged zip, moved beside its final path (none: no move)."""
    if not archive.sbom_sha256:
        return []
    return [(sbom_path(staged), sbom_path(final), archive.sbom_sha256)]


def _into(config: BuildConfig, directory: Path) -> BuildConfig:
    """`config` writing every file under `directory` (verify's rebuild), one directory each."""
    paths: dict[str, Any] = {}
    for key in _PATH_KEYS:
        path = getattr(config, key)
        if path is not None:
            (directory / key).mkdir(parents=True, exist_ok=True)
            paths[key] = directory / key / path.name
    return dataclasses.replace(config, **paths)


def _project(the_plan: Plan) -> Path:
    return the_plan.functions[0].config.project_dir


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _merged_index(document: dict[str, Any], the_plan: Plan) -> dict[str, Any]:
    """With --function, the index still names every declared function and layer: those this
    run did not build as declared (`"built": false`), without a zip or a hash. Nothing is read
    from the previous index or the zips beside it: in a pull request's checkout both are the
    pull request's files (a committed index listing a committed zip as built and reproducible)."""
    built = {row["name"] for key in ("functions", "layers") for row in document[key]}
    for key, specs in (("functions", the_plan.deploy.functions),
                       ("layers", layer_specs(the_plan.deploy, ()))):  # fmt: skip
        rows = {row["name"]: row for row in document[key]}
        for spec in specs:
            if spec.name not in built:
                rows[spec.name] = {
                    "name": spec.name,
                    "tool": spec.tool,
                    "declared-in": str(spec.origin) if spec.origin else None,
                    "handler": spec.handler.value if spec.handler else None,
                    "runtime": spec.runtime.value if spec.runtime else None,
                    "built": False,
                }
        order = [spec.name for spec in specs]
        document[key] = sorted(rows.values(), key=lambda row: (
            order.index(row["name"]) if row["name"] in order else len(order)))  # fmt: skip
    return document


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
    document["built"] = True
    if "sbom" in document:
        document["sbom"] = _relative(Path(document["sbom"]), project_dir)
    del document["path"]  # "zip", relative to the project: the index is read on other machines
    if result.layer is not None:
        document["layer"] = layer_document(result.layer)
    verified = built.verified  # verify: its VerifyResult
    if verified is not None:
        document["reproducible"] = verified.reproducible
        document["rebuild-sha256"] = verified.second_sha256
        if verified.layer is not None and "layer" in document:
            document["layer"]["rebuild-sha256"] = verified.layer.second_sha256
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

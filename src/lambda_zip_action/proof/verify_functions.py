"""verify for every function of a deploy configuration, with one rebuild for them all.

The first builds run in this process and share what they can (build.SharedWork). One rebuild
process, set up to differ as verify's always is (verify.differing_process: umask, temporary
directory, time zone, locale, hash seed, workers, reversed walks, every sdist built again),
reads the same deploy configuration and builds every function again, sharing among its own
builds the same way; then each pair of zips is compared and explained as `verify` does. The
rebuild starts alongside the first builds when every function installs one dependency set and
that install built nothing from source (nothing that runs at install time could still rewrite
a file); otherwise once the first builds are done.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lambda_zip_action.build import BuildResult, SharedWork, build
from lambda_zip_action.config import BuildConfig
from lambda_zip_action.events import Event, Listener
from lambda_zip_action.functions import Built, FunctionBuild, Plan, build_functions
from lambda_zip_action.launch import self_command
from lambda_zip_action.options import OPTIONS
from lambda_zip_action.proof.verify import (
    LayerVerification,
    RebuildError,
    VerifyResult,
    _compare,
    _Rebuild,
    _settle_cache,
    differing_process,
    fresh_groups,
    rebuild_workers,
)

REBUILDING = "Rebuilding every function from scratch in a different environment to verify"


def verify_functions(
    the_plan: Plan,
    options: Mapping[str, Any],
    env: Mapping[str, str],
    on_event: Listener,
    workers: int | None,
    cache_dir: Path | None,
    shared: SharedWork,
    on_start: Callable[[FunctionBuild], None] = lambda build: None,
) -> list[tuple[Built, VerifyResult]]:
    """Build every planned function, rebuild them all in one differing process, compare."""
    scratch = Path(tempfile.mkdtemp(prefix="lambda-zip-verify-"))
    rebuild: _Rebuild | None = None
    configs = [planned.config for planned in the_plan.functions]
    one_set = len({_dependency_set(config) for config in configs}) == 1

    def start(rebuilt: tuple[str, ...]) -> None:
        nonlocal rebuild
        command, child_env, cwd = _invocation(the_plan, options, env, scratch, workers,
                                              rebuilt, cache_dir)  # fmt: skip
        rebuild = _Rebuild.__new__(_Rebuild)
        rebuild.start(scratch, command, child_env, cwd)

    def alongside(interpreter: Path) -> None:
        if rebuild is None and one_set:
            on_event(Event("stage", f"{REBUILDING}, alongside the first builds"))
            start(())

    def run(config: BuildConfig) -> tuple[BuildResult, Any]:
        result = build(config, env, on_event, workers, cache_dir=cache_dir,
                       on_inputs_read=alongside, shared=shared)  # fmt: skip
        return result, None

    def check(built: list[Built]) -> list[Built]:
        # Every zip is still staged: a rebuild that fails leaves every previous output.
        if rebuild is None:
            on_event(Event("stage", REBUILDING))
            start(tuple(sorted({label for b in built for label in b.result.built_from_source})))
        else:
            on_event(Event("stage", "Waiting for the verifying rebuild"))
        assert rebuild is not None
        document = rebuild.document(on_event)
        rebuilt = {row["name"]: row for key in ("functions", "layers")
                   for row in document.get(key) or []}  # fmt: skip
        on_event(Event("stage", "Comparing the two builds of every function"))
        return [_verified(one, rebuilt, cache_dir, on_event) for one in built]

    try:
        built = build_functions(the_plan, run, on_start, check)
        return [(one, one.verified) for one in built]
    finally:
        if rebuild is not None:
            rebuild.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def _verified(
    one: Built, rebuilt: Mapping[str, Any], cache_dir: Path | None, on_event: Listener
) -> Built:
    first = one.result
    row = rebuilt.get(one.spec.spec.name)
    if row is None:
        raise RebuildError(
            f"The verifying rebuild did not build {one.spec.spec.name}, so the build is not "
            "reproducible: the deploy configuration read differently the second time."
        )
    layer = None
    if first.layer is not None:
        layer = LayerVerification(*_compare(first.layer.output, first.layer.archive.sha256,
                                            Path(row["layer"]["path"]),
                                            first.layer.sbom))  # fmt: skip
    second_sha, same, differences, entries = _compare(
        first.output, first.archive.sha256, Path(row["path"]), first.sbom
    )
    result = VerifyResult(first, second_sha, same, differences, entries, layer)
    if first.bytecode_groups and cache_dir is not None:
        _settle_cache(result, fresh_groups(row), on_event)
    return dataclasses.replace(one, verified=result)


def _dependency_set(config: BuildConfig) -> tuple[object, ...]:
    return (config.requirements, config.python_version, config.architecture, config.installer,
            config.no_build, config.python)  # fmt: skip


def _invocation(
    the_plan: Plan,
    options: Mapping[str, Any],
    env: Mapping[str, str],
    scratch: Path,
    workers: int | None,
    rebuilt: Sequence[str],
    cache_dir: Path | None,
) -> tuple[list[str], dict[str, str], Path]:
    deep = scratch / "a" / "much" / "deeper" / "temporary" / "directory"
    deep.mkdir(parents=True, exist_ok=True)
    first = the_plan.functions[0].config
    command = [
        *self_command(), "build", "--project", str(first.project_dir),
        *user_arguments(options),
        *(part for planned in the_plan.functions for part in ("--function", planned.spec.name)),
        *(["--deploy-config", first.deploy_choice] if first.deploy_choice else []),
        "--rebuild-into", str(scratch / "rebuild"),
        "--jobs", str(rebuild_workers(workers)),
        "--reverse-traversal", "--rebuild-sdists", "--json",
        *(["--cache-dir", str(cache_dir), "--proving-cache"] if cache_dir else ["--no-cache"]),
        *(part for label in rebuilt for part in ("--rebuild-from-source", label)),
    ]  # fmt: skip
    return differing_process(command, env, deep, first.source_date_epoch)


def user_arguments(options: Mapping[str, Any]) -> list[str]:
    """The flags the user gave that change the bytes, paths made absolute (the rebuild runs in
    another directory); the rest comes from the deploy configuration, read again."""
    arguments: list[str] = []
    for option in OPTIONS:
        value = options.get(option.name)
        if value is None or not option.affects_bytes:
            continue
        # Absolute, links kept: a venv's bin/python resolved would be its base interpreter.
        if isinstance(value, Path):
            value = Path(os.path.abspath(value))  # noqa: PTH100
        elif isinstance(value, list | tuple):
            value = [Path(os.path.abspath(item)) if isinstance(item, Path) else item  # noqa: PTH100
                     for item in value]  # fmt: skip
        arguments += option.arguments(value)
    return arguments

"""The CLI's pipeline run for the action: a bytecode interpreter found (or installed), then the
build or its proof, with progress shown in a log group.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from actions_toolkit import core  # type: ignore[import-untyped]

from lambda_zip_action.build import BuildResult, SharedWork, build
from lambda_zip_action.config import BuildConfig
from lambda_zip_action.errors import InterpreterError
from lambda_zip_action.github.runner import group, log, show_event
from lambda_zip_action.installers import uv_binary
from lambda_zip_action.interpreter import find_interpreter
from lambda_zip_action.proof.explain import render_verify
from lambda_zip_action.proof.verify import verify


def ensure_interpreter(config: BuildConfig, env: Mapping[str, str]) -> BuildConfig:
    """Find CPython X.Y for bytecode (uv, PATH, pyenv), else ask uv to install it.

    `uv python install` needs the network; when it fails too the error says what to do.
    """
    if not config.compile or config.python is not None:
        return config
    try:
        found = find_interpreter(config.python_version, None, env, project=config.project_dir)
    except InterpreterError as missing:
        core.info(f"No CPython {config.python_version} here; trying uv python install")
        why = _uv_python_install(config.python_version, env)
        try:
            found = find_interpreter(config.python_version, None, env, project=config.project_dir)
        except InterpreterError:
            raise InterpreterError(
                f"{missing.message} `uv python install {config.python_version}` failed as well "
                f"({why}). Add actions/setup-python with python-version {config.python_version} "
                "before this action, or allow the runner to download Python."
            ) from None
    return replace(config, python=found.path)


def _uv_python_install(version: str, env: Mapping[str, str]) -> str:
    """Run `uv python install`; the last line it printed, to explain a failure."""
    try:
        installed = subprocess.run(
            [uv_binary(), "python", "install", version],
            env={**env, "UV_PYTHON_DOWNLOADS": "automatic"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return (installed.stderr.strip().splitlines() or [f"exit {installed.returncode}"])[-1]


@dataclass(frozen=True)
class Built:
    """A build and, when it was verified, whether its rebuild gave the same bytes."""

    result: BuildResult
    reproducible: bool | None  # None: not verified


def run_pipeline(
    config: BuildConfig,
    env: Mapping[str, str],
    *,
    verify_build: bool,
    title: str,
    shared: SharedWork | None = None,
) -> Built:
    """Build, or build and verify, inside the log group `title`, with the build cache that
    action.yml restores (LAMBDA_ZIP_CACHE_DIR; empty with the cache input false)."""
    cache = env.get("LAMBDA_ZIP_CACHE_DIR") or None
    cache_dir = Path(cache).resolve() if cache else None
    with group(title):
        if verify_build:
            verified = verify(config, env, show_event, cache_dir=cache_dir, shared=shared)
            log(render_verify(verified).rstrip("\n"))
            return Built(verified.first, verified.reproducible)
        return Built(build(config, env, show_event, cache_dir=cache_dir, shared=shared), None)

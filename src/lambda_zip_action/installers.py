"""The two installers, uv and pip, behind one Protocol: their command lines and how they run.

Both get the same marker-evaluated requirements file and the same platform ceiling, and
install into a fresh staging directory without bytecode; install.py runs them and
installed_tree.py normalises what they leave, so a lock gives the same tree with either.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lambda_zip_action.errors import InstallError, RequirementsError
from lambda_zip_action.install_failures import explain_failure, last_lines
from lambda_zip_action.requirements import RequirementSet
from lambda_zip_action.runtimes import Architecture, Runtime
from lambda_zip_action.sandbox import BuildPolicy, refusal, taint


@dataclass(frozen=True)
class InstallRequest:
    """What to install, for which runtime and machine, into which directory, and how."""

    requirements: RequirementSet
    runtime: Runtime
    architecture: Architecture
    interpreter: Path
    target: Path
    # verify's rebuild: downloaded wheels from the shared cache, every build from scratch
    # (see install._install_rebuilding). `rebuild_from_source` names ("name version") what
    # the first build built from source.
    rebuild_sdists: bool = False
    rebuild_from_source: tuple[str, ...] = ()
    # Run the installer with a fresh, empty cache of its own (uv --no-cache, pip --no-cache-dir).
    fresh_cache: bool = False
    # Refuse source distributions (and local directories, which need a build too).
    no_build: bool = False
    # When builds are allowed: where a build script runs (sandbox.BuildPolicy): in a sandbox,
    # or, where none starts, refused unless the caller opted in.
    policy: BuildPolicy = field(default_factory=BuildPolicy)


class Installer(Protocol):
    """An installer backend: uv or pip."""

    name: str
    # The directory, relative to the target, that the RECORD rows it writes are relative to.
    record_base: str

    def version(self) -> str: ...

    def install(self, request: InstallRequest, requirements_file: Path) -> None: ...


def uv_binary() -> str:
    """The uv that ships with this tool (the `uv` wheel), else one on PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise InstallError(
                "uv is not installed: install this tool with its dependencies "
                "(pip install lambda-zip-action) or put uv on PATH."
            ) from None
        return found


def _run(command: list[str], env: Mapping[str, str], cwd: Path | None = None) -> str:
    try:
        completed = subprocess.run(
            command,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise InstallError(f"Cannot run {command[0]}: {exc.strerror}.") from exc
    if completed.returncode != 0:
        raise _Failed(completed.stdout + completed.stderr)
    return completed.stdout


class _Failed(Exception):
    def __init__(self, output: str) -> None:
        super().__init__(output)
        self.output = output


class UvInstaller:
    name = "uv"
    record_base = ""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._uv = uv_binary()

    def version(self) -> str:
        return _run([self._uv, "--version"], self._env).split()[1]

    def export_lock(self, lock: Path) -> str:
        """uv.lock -> requirements.txt text: main dependencies only, with hashes."""
        command = [
            self._uv, "export", "--frozen", "--format", "requirements-txt", "--no-dev",
            "--no-emit-project", "--no-editable", "--no-header", "--no-annotate",
            "--directory", str(lock.parent),
        ]  # fmt: skip
        try:
            return _run(command, self._env)
        except _Failed as exc:
            raise RequirementsError(
                f"uv could not read {lock}: {last_lines(exc.output)} "
                "Regenerate the lock with `uv lock`."
            ) from exc

    def install(self, request: InstallRequest, requirements_file: Path) -> None:
        runtime = request.runtime
        command = [
            self._uv, "pip", "install",
            "--target", str(request.target),
            "--python", str(request.interpreter),
            "--python-platform", runtime.uv_platform(request.architecture),
            "--python-version", runtime.python_version,
            # Hardlinks from uv's cache: nothing in the staging tree is modified in place
            # (normalize_tree deletes files and replaces RECORD), so the cache stays intact.
            "--link-mode", "hardlink",
            "--no-progress",
            "-r", str(requirements_file),
        ]  # fmt: skip
        if request.requirements.locked:
            command.append("--no-deps")
        if request.requirements.hashed:
            command.append("--require-hashes")
        if request.fresh_cache:
            command.append("--no-cache")
        if request.no_build:
            command.append("--no-build")
        _install(command, self._env, request)


class PipInstaller:
    name = "pip"
    # pip's --target installs into a home scheme and moves its directories into the target.
    record_base = "lib/python"

    def __init__(self, env: Mapping[str, str], python: Path) -> None:
        self._env = env
        self._python = python

    def version(self) -> str:
        try:
            return _run([str(self._python), "-I", "-m", "pip", "--version"], self._env).split()[1]
        except _Failed as exc:
            raise InstallError(
                f"pip is not available for {self._python}: add it with "
                f"`{self._python} -m ensurepip`, or build with --installer uv."
            ) from exc

    def install(self, request: InstallRequest, requirements_file: Path) -> None:
        """One pip run, or two when hashed pins meet direct references without hashes.

        A single `--hash` puts pip in hash-checking mode for the whole file, where a local
        directory (a monorepo's `libs/shared`, as uv.lock exports it) cannot be installed at
        all. The hashed pins are then installed in hash-checking mode and the direct references
        in a second run, into a directory of their own that is merged into the target.
        """
        hashed, direct = _split_direct(request.requirements.lines)
        if not (direct and any("--hash=" in line for line in hashed)):
            self._run(request, requirements_file, request.target, request.requirements.hashed)
            return
        options = [line for line in request.requirements.lines if line.startswith("-")]
        hashed_file = requirements_file.with_name("requirements.lambda.hashed.txt")
        hashed_file.write_text("".join(f"{line}\n" for line in options + hashed), "utf-8")
        self._run(request, hashed_file, request.target, hashed=True)
        direct_file = requirements_file.with_name("requirements.lambda.direct.txt")
        direct_file.write_text("".join(f"{line}\n" for line in options + direct), "utf-8")
        direct_target = request.target.with_name(request.target.name + ".direct")
        self._run(request, direct_file, direct_target, hashed=False)
        merge_into(direct_target, request.target)

    def _run(self, request: InstallRequest, requirements: Path, target: Path, hashed: bool) -> None:
        runtime = request.runtime
        abi = runtime.cache_tag.replace("cpython-", "cp")
        command = [
            str(self._python), "-I", "-m", "pip", "install",
            "--target", str(target),
            "--no-compile", "--no-warn-script-location", "--disable-pip-version-check",
            "--no-input", "--progress-bar", "off",
            "--python-version", runtime.python_version,
            "--implementation", "cp",
            "--abi", abi, "--abi", "abi3", "--abi", "none",
        ]  # fmt: skip
        for platform in runtime.pip_platforms(request.architecture):
            command += ["--platform", platform]
        if request.requirements.locked:
            # With the whole closure pinned, pip may build pure-Python sdists; the platform
            # check after installing catches any native code built for the host instead.
            command.append("--no-deps")
        if request.no_build or not request.requirements.locked:
            command.append("--only-binary=:all:")
        if request.no_build:
            # pip builds a local directory or an sdist URL even under --only-binary=:all:.
            _refuse_direct_builds(request)
        if _pip_has_report(self.version()):
            # What each distribution was made from: an sdist's URL even when pip reused the
            # wheel it built last time (its log then says "Using cached ....whl").
            command += ["--report", str(pip_report_path(target))]
        if hashed:
            command.append("--require-hashes")
        if request.fresh_cache:
            command.append("--no-cache-dir")
        command += ["-r", str(requirements)]
        _install(command, self._env, request)


DIRECT_REFERENCE = re.compile(r"^(?:[./]|file:|[a-z][a-z0-9+.-]*://)|\s@\s", re.IGNORECASE)


def _split_direct(lines: Iterable[str]) -> tuple[list[str], list[str]]:
    """(every other requirement, direct references without hashes) among the lines."""
    rest, direct = [], []
    for line in lines:
        if line.startswith("-"):
            continue
        if "--hash=" not in line and DIRECT_REFERENCE.search(line):
            direct.append(line)
        else:
            rest.append(line)
    return rest, direct


def merge_into(source: Path, target: Path) -> None:
    """Move the tree `source` into `target`; a file both hold stays as `target` has it.

    A file both hold belongs to two distributions: check_claims names them.
    """
    for child in sorted(source.iterdir()):
        destination = target / child.name
        if child.is_dir() and not child.is_symlink() and destination.is_dir():
            merge_into(child, destination)
        elif not destination.exists():
            child.rename(destination)
    shutil.rmtree(source)


def _install(command: list[str], env: Mapping[str, str], request: InstallRequest) -> None:
    if not request.no_build:
        policy = request.policy
        if policy.sandbox is not None:
            command = policy.sandbox.wrap(command, policy.mounts.existing())
        elif not policy.unsandboxed:
            raise InstallError(refusal(policy.exposed))
        else:
            for marker in policy.taint:
                taint(marker)
    try:
        _run(command, env)
    except _Failed as exc:
        error = explain_failure(exc.output, request.runtime, request.architecture)
        if request.no_build:
            error = InstallError(
                f"{error.message} Source distributions are refused (--no-build; the Action's "
                "no-build input): lock a version that has a wheel, or allow builds with "
                "no-build: false if you trust that package's build script."
            )
        raise error from None


_DIRECT = re.compile(r"^\s*(?:(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]*\])?\s*@\s*)?(?P<url>\S+)")


def _refuse_direct_builds(request: InstallRequest) -> None:
    """Under no_build, refuse requirements that name a directory or an sdist by path or URL."""
    refused = []
    for line in request.requirements.text.splitlines():
        text = line.split(" #", 1)[0].strip().rstrip("\\").strip()
        if not text or text.startswith(("#", "--")):
            continue
        match = _DIRECT.match(text)
        assert match is not None
        url = match.group("url").split(";", 1)[0]
        direct = "@" in text.split(";", 1)[0] or url.startswith(("/", ".", "file:", "-e"))
        if direct and not url.endswith(".whl"):
            refused.append(match.group("name") or url)
    if refused:
        raise InstallError(
            f"{', '.join(refused)} must be built from source (a local directory or a source "
            "archive), and source distributions are refused (--no-build; the Action's no-build "
            "input): publish a wheel and depend on it, or allow builds with no-build: false if "
            "you trust that package's build script."
        )


PIP_REPORT = "pip-install-report"


def pip_report_path(target: Path) -> Path:
    """Where pip's --report of the run into `target` goes: one per run, beside the target."""
    return target.parent / f"{PIP_REPORT}.{target.name}.json"


def _pip_has_report(version: str) -> bool:
    # `pip install --report` appeared in pip 22.2.
    numbers = [int(part) for part in re.findall(r"\d+", version)[:2]]
    return numbers >= [22, 2]


def make_installer(name: str, env: Mapping[str, str], python: Path) -> Installer:
    """The backend called `name` ("uv" or "pip"); pip runs as `python -m pip`."""
    if name == "pip":
        return PipInstaller(env, python)
    return UvInstaller(env)

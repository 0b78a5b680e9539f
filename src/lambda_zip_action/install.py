"""Install the dependencies for the Lambda platform, then remove what varies between installers.

The installer is a Protocol with two small backends, uv and pip. Both get the same
marker-evaluated requirements file and the same platform ceiling, install into a fresh staging
directory without bytecode, and the result is normalised by one function, so a lock gives the
same tree with either installer.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from email.parser import HeaderParser
from pathlib import Path
from typing import Protocol

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name

from lambda_zip_action import records
from lambda_zip_action.errors import InstallError, RequirementsError
from lambda_zip_action.requirements import RequirementSet
from lambda_zip_action.runtimes import Architecture, Runtime

# Files the installers write that say who installed, when asked, or from which local path;
# uv adds cache keys (with timestamps) for packages it built from a local directory.
INSTALLER_FILES = ("INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json", "uv_build.json")
# Lock files installers leave in a --target directory.
TARGET_LEFTOVERS = (".lock",)
# Where both installers put a wheel's .data/headers in a --target directory.
HEADERS_DIR = "include"


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    source: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class InstallRequest:
    requirements: RequirementSet
    runtime: Runtime
    architecture: Architecture
    interpreter: Path
    target: Path
    # verify's rebuild: downloaded wheels from the shared cache, every build from scratch
    # (see _install_rebuilding). `rebuild_from_source` names ("name version") what the first
    # build built from source.
    rebuild_sdists: bool = False
    rebuild_from_source: tuple[str, ...] = ()
    # Run the installer with a fresh, empty cache of its own (uv --no-cache, pip --no-cache-dir).
    fresh_cache: bool = False
    # Refuse source distributions (and local directories, which need a build too).
    no_build: bool = False


@dataclass(frozen=True)
class InstallResult:
    installer: str
    installer_version: str
    distributions: tuple[Distribution, ...]
    # "name version" of every distribution built on this machine (its build backend ran here).
    built_from_source: tuple[str, ...] = ()


class Installer(Protocol):
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
                f"uv could not read {lock}: {_last_lines(exc.output)} "
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
        _merge_into(direct_target, request.target)

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


_DIRECT_REFERENCE = re.compile(r"^(?:[./]|file:|[a-z][a-z0-9+.-]*://)|\s@\s", re.IGNORECASE)


def _split_direct(lines: Iterable[str]) -> tuple[list[str], list[str]]:
    """(every other requirement, direct references without hashes) among the lines."""
    rest, direct = [], []
    for line in lines:
        if line.startswith("-"):
            continue
        if "--hash=" not in line and _DIRECT_REFERENCE.search(line):
            direct.append(line)
        else:
            rest.append(line)
    return rest, direct


def _merge_into(source: Path, target: Path) -> None:
    """Move the tree `source` into `target`; a file both hold stays as `target` has it.

    A file both hold belongs to two distributions: check_claims names them.
    """
    for child in sorted(source.iterdir()):
        destination = target / child.name
        if child.is_dir() and not child.is_symlink() and destination.is_dir():
            _merge_into(child, destination)
        elif not destination.exists():
            child.rename(destination)
    shutil.rmtree(source)


def _install(command: list[str], env: Mapping[str, str], request: InstallRequest) -> None:
    try:
        _run(command, env)
    except _Failed as exc:
        error = _explain_failure(exc.output, request)
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


_PIP_REPORT = "pip-install-report"


def pip_report_path(target: Path) -> Path:
    """Where pip's --report of the run into `target` goes: one per run, beside the target."""
    return target.parent / f"{_PIP_REPORT}.{target.name}.json"


def _pip_has_report(version: str) -> bool:
    # `pip install --report` appeared in pip 22.2.
    numbers = [int(part) for part in re.findall(r"\d+", version)[:2]]
    return numbers >= [22, 2]


_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")


def built_from_source(request: InstallRequest) -> tuple[str, ...]:
    """ "name version" of every distribution that was built on this machine, not downloaded.

    uv writes `uv_build.json` into the .dist-info of every distribution it built (from an
    sdist or a local directory), also when it reuses the wheel from its cache; pip's
    `--report` names the artifact each distribution came from. Neither a WHEEL's
    `Generator` nor its tags tell: a built wheel looks like a downloaded one.
    """
    built = set()
    for marker in request.target.glob("*.dist-info/uv_build.json"):
        built.add(_dist_label(marker.parent.name))
    for report in sorted(request.target.parent.glob(f"{_PIP_REPORT}.*.json")):
        try:
            items = json.loads(report.read_text(encoding="utf-8")).get("install") or []
        except (ValueError, OSError, AttributeError):
            items = []
        for item in items:
            info = item.get("download_info") or {}
            url = str(info.get("url", ""))
            if "dir_info" in info or "vcs_info" in info or not url.endswith(".whl"):
                metadata = item.get("metadata") or {}
                built.add(f"{metadata.get('name', url)} {metadata.get('version', '')}".strip())
    return tuple(sorted(built, key=str.lower))


def install(installer: Installer, request: InstallRequest) -> InstallResult:
    """Install `request.requirements` into `request.target` and normalise the tree."""
    request.target.mkdir(parents=True, exist_ok=True)
    version = installer.version()
    if not request.requirements.empty:
        requirements_file = request.target.parent / "requirements.lambda.txt"
        requirements_file.write_text(request.requirements.text, encoding="utf-8")
        if request.rebuild_sdists:
            _install_rebuilding(installer, request, requirements_file)
        else:
            installer.install(request, requirements_file)
    built = built_from_source(request)  # before normalize_tree removes uv's markers
    distributions = normalize_tree(request.target, installer.record_base)
    check_platform(distributions, request)
    return InstallResult(installer.name, version, distributions, built)


def _install_rebuilding(installer: Installer, request: InstallRequest, file: Path) -> None:
    """verify's rebuild: every wheel built from source is built again, from scratch.

    A downloaded wheel whose hash is pinned cannot differ, so it comes from the installers'
    shared cache, in a run that refuses every build (uv --no-build, pip --only-binary=:all:):
    no wheel built by an earlier run can come out of that cache. A wheel built from source can
    differ, and installers cache those too (uv even for a local archive under --refresh), so
    what the first build built from source and every direct reference that is not a .whl
    (archive, directory, VCS) is installed by a second run with a fresh, empty cache into a
    directory of its own, merged into the target. Unlocked requirements that needed a build are
    resolved and installed in one run with a fresh cache: any dependency could be the sdist.
    """
    requirements = request.requirements
    rebuilt: set[str] = {
        canonicalize_name(label.split(" ")[0]) for label in request.rebuild_from_source
    }
    options = [line for line in requirements.lines if line.startswith("-")]
    wheels: list[str] = []
    builds: list[str] = []
    for line in requirements.lines:
        if not line.startswith("-"):
            (builds if _needs_build(line, rebuilt) else wheels).append(line)
    if builds and not requirements.locked:
        installer.install(replace(request, fresh_cache=True), file)
        return
    if wheels:
        wheel_set = replace(requirements, lines=tuple(options + wheels))
        file.write_text(wheel_set.text, encoding="utf-8")
        try:
            installer.install(replace(request, requirements=wheel_set, no_build=True), file)
        except InstallError as exc:
            raise InstallError(
                "The rebuild had to build a distribution from source that the first build "
                f"installed as a wheel (it installs wheels with builds refused): {exc.message}"
            ) from None
    if builds:
        build_set = replace(
            requirements,
            lines=tuple(options + builds),
            hashed=requirements.hashed and all("--hash=" in line for line in builds),
        )
        side = request.target.with_name(request.target.name + ".fresh")
        side.mkdir()
        build_file = file.with_name("requirements.lambda.fresh.txt")
        build_file.write_text(build_set.text, encoding="utf-8")
        installer.install(
            replace(request, requirements=build_set, target=side, fresh_cache=True), build_file
        )
        _merge_into(side, request.target)


_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _needs_build(line: str, rebuilt: set[str]) -> bool:
    """A direct reference to anything but a wheel, or a pin the first build built from source."""
    spec = line.split(" --hash=", 1)[0].split(";", 1)[0].strip()
    if _DIRECT_REFERENCE.search(spec):
        return not spec.rsplit("#", 1)[0].endswith(".whl")
    name = _NAME.match(spec)
    return name is not None and canonicalize_name(name.group(1)) in rebuilt


def normalize_tree(target: Path, relative_to: str = "") -> tuple[Distribution, ...]:
    """Remove what differs between installers and machines; keep what importlib.metadata reads.

    `relative_to` is the directory the installer's RECORD rows are relative to (see records).
    What each part of a wheel becomes:

    - purelib and platlib (`.data/purelib`, `.data/platlib` included) ship at the root;
    - `.data/headers` is removed: nothing compiles against headers on Lambda, and uv and pip
      put them in different places (`include/<name>/`, `include/python/<name>/`);
    - `.data/scripts` is removed with `bin/`: launchers name the build machine's Python;
    - `.data/data` ships where both installers put it (the target root, as `pip -t` does), and
      RECORD lists it whichever installer wrote it;
    - directories left empty (a wheel's `PyYAML.libs/`, which uv creates and pip does not)
      are removed.
    """
    for leftover in ("bin", *TARGET_LEFTOVERS):
        path = target / leftover
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    for directory, dirnames, filenames in os.walk(target):
        if "__pycache__" in dirnames:
            shutil.rmtree(Path(directory) / "__pycache__")
            dirnames.remove("__pycache__")
        for name in filenames:
            if name.endswith((".pyc", ".pyo")):
                (Path(directory) / name).unlink()
    distributions = []
    for dist_info in records.dist_infos(target):
        source = _source(dist_info)
        for name in INSTALLER_FILES:
            (dist_info / name).unlink(missing_ok=True)
        kept = []
        for row in records.read_record(dist_info, relative_to):
            path = target / row.path
            if row.path.split("/")[0] == HEADERS_DIR:
                if path.is_file() and not path.is_symlink():
                    path.unlink()
            elif (
                not row.path.endswith((".pyc", ".pyo"))
                and "__pycache__" not in row.path
                and path.is_file()
            ):
                kept.append(row)
        records.write_record(dist_info, kept)
        distributions.append(_distribution(dist_info, source))
    _remove_empty_directories(target)
    check_claims(target)
    return tuple(sorted(distributions, key=lambda d: d.name.lower()))


def _remove_empty_directories(target: Path) -> None:
    for directory, _, filenames in os.walk(target, topdown=False):
        path = Path(directory)
        if path != target and not filenames and not any(path.iterdir()):
            path.rmdir()


def check_claims(target: Path) -> None:
    """Refuse two distributions that install the same file.

    Which copy ends up on disk depends on the installer and its order (uv merges, pip keeps
    the first and warns), so the package would depend on who built it.
    """
    owners: dict[str, list[str]] = {}
    for path, dist_info in records.claims(target):
        owners.setdefault(path, []).append(dist_info)
    clashes: dict[tuple[str, ...], list[str]] = {}
    for path, claimants in sorted(owners.items()):
        labels = tuple(sorted({_dist_label(c) for c in claimants}))
        if len(labels) > 1:
            clashes.setdefault(labels, []).append(path)
    if clashes:
        described = []
        for labels, paths in clashes.items():
            tops = sorted({p.split("/")[0] + ("/" if "/" in p else "") for p in paths})
            examples = ", ".join(paths[:2]) + (", ..." if len(paths) > 2 else "")
            described.append(
                f"{' and '.join(labels)} both install {', '.join(tops)} "
                f"({len(paths)} files: {examples})"
            )
        raise InstallError(
            "Two distributions install the same files: "
            + "; ".join(described)
            + ". Which copy wins depends on the installer and its order, so the package would "
            "not be reproducible. Keep only one of them in the lock (often one is an "
            "unrelated package with the same import name)."
        )


def _dist_label(dist_info_name: str) -> str:
    name, _, version = dist_info_name.removesuffix(".dist-info").rpartition("-")
    return f"{canonicalize_name(name)} {version}"


def _source(dist_info: Path) -> str:
    direct_url = dist_info / "direct_url.json"
    if not direct_url.is_file():
        return "index"
    try:
        data = json.loads(direct_url.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return "direct"
    url = str(data.get("url", ""))
    if "vcs_info" in data:
        vcs = data["vcs_info"]
        return f"{vcs.get('vcs', 'vcs')}+{url}@{vcs.get('commit_id', '')}"
    if url.startswith("file:"):
        # A local path names the build machine: keep the last component only.
        return "file:" + url.rstrip("/").rsplit("/", 1)[-1]
    return url


def check_record_hashes(
    written: Iterable[records.HashedEntry], expected: Mapping[str, str], prefix: str = ""
) -> None:
    """Every installed file must still be the bytes its wheel shipped.

    Installers link files out of their caches; anything that later edits an installed copy in
    place (a certificate bundle patched, a "quick fix" to a dependency) edits the cache too,
    and every later build would ship it. The hashes come for free: the archive computed them.
    """
    wrong = records.modified_files(written, expected, prefix)
    if wrong:
        shown = ", ".join(wrong[:5]) + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        raise InstallError(
            f"Installed files differ from what their wheels' RECORD says: {shown}. The "
            "installer's cache has probably been modified through a hard link; clear it "
            "(`uv cache clean <package>` or `pip cache purge`) and build again. Nothing was "
            "written."
        )


def _distribution(dist_info: Path, source: str) -> Distribution:
    metadata = HeaderParser().parsestr(
        (dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
    )
    tags: tuple[str, ...] = ()
    wheel = dist_info / "WHEEL"
    if wheel.is_file():
        parsed = HeaderParser().parsestr(wheel.read_text(encoding="utf-8", errors="replace"))
        tags = expand_tags(parsed.get_all("Tag") or ())
    return Distribution(
        name=canonicalize_name(str(metadata.get("Name", records.distribution_name(dist_info)))),
        version=str(metadata.get("Version", "")),
        source=source,
        tags=tags,
    )


def expand_tags(lines: Iterable[str]) -> tuple[str, ...]:
    """Every tag a WHEEL's `Tag:` lines stand for, compressed sets expanded (PEP 425)."""
    expanded: set[str] = set()
    for line in lines:
        try:
            expanded.update(str(tag) for tag in parse_tag(line.strip()))
        except ValueError:
            expanded.add(line.strip())
    return tuple(sorted(expanded))


def check_platform(distributions: tuple[Distribution, ...], request: InstallRequest) -> None:
    """Refuse native code that was built for the host instead of downloaded for the target.

    Installers build sdists on the host; a pure-Python one is fine anywhere, a native one would
    give a library for the wrong glibc or machine, which fails only on Lambda.
    """
    allowed = set(request.runtime.pip_platforms(request.architecture)) | {"any"}
    wrong = []
    for distribution in distributions:
        platforms = {tag.rsplit("-", 1)[-1] for tag in distribution.tags}
        if platforms and not platforms & allowed:
            wrong.append(
                f"{distribution.name} {distribution.version} ({', '.join(sorted(platforms))})"
            )
    if wrong:
        raise InstallError(
            f"No wheel for {request.runtime.identifier} on {request.architecture} "
            f"({request.runtime.uv_platform(request.architecture)}) for: {'; '.join(wrong)}. "
            "The installer built native code for this machine from the source distribution, "
            "which would fail on Lambda. Choose a version that publishes manylinux wheels for "
            "the target, or build that wheel for the target and install it from a local index."
        )


# What uv and pip print when an install fails, by kind; checked against their real output
# (tests/data/installer-output/). The first kind that matches wins, in this order: a source
# build's own output can mention the network (cargo fetching crates), which is not the cause.
_BUILD_FAILED = (
    re.compile(r"Failed to build `(?P<package>[^`]+)`"),
    re.compile(r"Failed building wheel for (?P<package>\S+)"),
    re.compile(
        r"Failed to build installable wheels for some \S+ based projects \((?P<package>[^)]+)\)"
    ),
    re.compile(r"Could not build wheels for (?P<package>\S+)"),
    re.compile(r"metadata-generation-failed|subprocess-exited-with-error"),
)
_HASH_MISMATCH = (
    re.compile(r"Hash mismatch for `(?P<package>[^`]+)`"),
    re.compile(r"DO NOT MATCH THE HASHES[^\n]*\n\s+(?P<package>\S+) from"),
)
_HASH_MISSING = (
    re.compile(r"Hashes are required in --require-hashes mode[^\n]*\n\s+(?P<package>\S+)"),
    re.compile(
        r"In `--require-hashes` mode, all requirements must have a hash[^`]*`(?P<package>[^`]+)`"
    ),
    re.compile(r"(?i)hash-checking mode|--require-hashes. mode"),
)
_NETWORK = (
    re.compile(r"Failed to fetch: `?(?P<package>[^\s`]+)"),
    re.compile(r"(?i)tcp connect error|dns error|error sending request|connection refused"),
    re.compile(r"NewConnectionError|connection broken by|Max retries exceeded|Could not fetch URL"),
    re.compile(r"(?i)temporary failure in name resolution|read timed out|timed out"),
)
_NO_WHEEL = (
    re.compile(
        r"`?(?P<package>[\w.\-]+==[\w.!+\-]+)`? has no (?:usable wheels|wheels with a matching)"
    ),
)
_NOT_FOUND = (
    re.compile(r"there is no version of (?P<package>\S+?)(?: and|,|$)", re.MULTILINE),
    re.compile(r"No matching distribution found for (?P<package>\S+)"),
)
_CONFLICT = (
    re.compile(r"No solution found when resolving dependencies"),
    re.compile(r"ResolutionImpossible|conflicting dependencies"),
)
_PIP_COLLECTING = re.compile(r"^(?:Collecting|Processing) (\S+)", re.MULTILINE)


def _match(patterns: tuple[re.Pattern[str], ...], output: str) -> tuple[bool, str | None]:
    for pattern in patterns:
        found = pattern.search(output)
        if found:
            return True, found.groupdict().get("package")
    return False, None


def _explain_failure(output: str, request: InstallRequest) -> InstallError:
    """One message per kind of failure, from what the installer actually said."""
    target = (
        f"{request.runtime.identifier} on {request.architecture} "
        f"({request.runtime.uv_platform(request.architecture)})"
    )
    said = f"Installer said: {_last_lines(output)}"
    matched, package = _match(_BUILD_FAILED, output)
    if matched:
        if package is None:
            collected = _PIP_COLLECTING.findall(output)
            package = collected[-1] if collected else "a dependency"
        if "/" in package:
            return InstallError(
                f"Building {package} from its source failed, so nothing was installed: fix "
                f"that package's build (its pyproject.toml or setup.py) and build again. {said}"
            )
        return InstallError(
            f"No wheel of {package} for {target}: the installer tried to build it from its "
            "source distribution, and the build failed. Lambda needs a wheel built for the "
            "target; a build on this machine would in any case be refused if it held native "
            "code, which would be built for this machine, not for Lambda. Choose a version "
            "that publishes a wheel for the target (or another Python version or "
            f"architecture). {said}"
        )
    matched, package = _match(_HASH_MISMATCH, output)
    if matched:
        return InstallError(
            f"A downloaded file of {package or 'a dependency'} did not match the hash in the "
            "lock, so nothing was installed. The index served other bytes than were locked: "
            f"check the index, or re-lock if the change is expected. {said}"
        )
    matched, package = _match(_HASH_MISSING, output)
    if matched:
        return InstallError(
            f"The requirements pin hashes, but not for {package or 'every requirement'}: "
            "installers then refuse the whole file. Regenerate it with hashes for every "
            f"requirement (uv pip compile --generate-hashes). {said}"
        )
    matched, package = _match(_NETWORK, output)
    if matched:
        return InstallError(
            f"The installer could not download the dependencies for {target}"
            + (f" ({package})" if package else "")
            + f": check the network and the index settings. {said}"
        )
    matched, package = _match(_NO_WHEEL, output)
    if matched:
        return InstallError(
            f"No wheel of {package} for {target}. Lambda needs a binary wheel built for that "
            "platform: choose a version that publishes one, or another Python version or "
            f"architecture. {said}"
        )
    matched, package = _match(_NOT_FOUND, output)
    if matched:
        return InstallError(
            f"The index has no {package} that installs on {target}: check the name and "
            f"version, and that the version publishes a wheel for the target. {said}"
        )
    matched, _ = _match(_CONFLICT, output)
    if matched:
        return InstallError(
            "The requirements conflict: no set of versions satisfies them all. Loosen or fix "
            f"the pins named below, then lock again. {said}"
        )
    return InstallError(f"Installing the dependencies for {target} failed: {said}")


def _last_lines(output: str, count: int = 6) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return " ".join(lines[-count:]) if lines else "(no output)"


def make_installer(name: str, env: Mapping[str, str], python: Path) -> Installer:
    if name == "pip":
        return PipInstaller(env, python)
    return UvInstaller(env)


# What installers may see of the caller's environment: an allow-list, so that a secret under
# any name (GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, ACTIONS_ID_TOKEN_REQUEST_TOKEN, a deploy key)
# never reaches a build backend that an sdist runs. Kept: finding programs and a home
# (PATH, HOME, TMPDIR), locale and time zone, proxies and certificate bundles, and the
# installers' own settings (UV_*, PIP_*: indexes and their credentials, caches, offline mode)
# and what git needs for git+ssh requirements. Index credentials therefore do reach a build
# backend that an sdist runs: --no-build is what keeps every build script from running.
ALLOWED_VARIABLES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TEMP", "TMP", "TZ", "LANG",
        "LANGUAGE", "TERM", "NO_COLOR", "SOURCE_DATE_EPOCH", "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME", "XDG_DATA_HOME",
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
        "http_proxy", "https_proxy", "no_proxy", "all_proxy",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
        "NIX_SSL_CERT_FILE", "PYTHONHASHSEED", "PYTHONIOENCODING", "PYTHONUTF8",
        "SSH_AUTH_SOCK", "GIT_SSH_COMMAND",
    }
)  # fmt: skip
ALLOWED_PREFIXES = ("LC_", "UV_", "PIP_")


def installer_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The installers' environment: the allow-listed part of the caller's, plus fixed settings."""
    cleaned = {
        name: value
        for name, value in env.items()
        if name in ALLOWED_VARIABLES or name.startswith(ALLOWED_PREFIXES)
    }
    cleaned.setdefault("UV_PYTHON_DOWNLOADS", "never")
    cleaned["PIP_NO_INPUT"] = "1"
    cleaned["PYTHONDONTWRITEBYTECODE"] = "1"
    return cleaned


__all__ = [
    "Distribution",
    "InstallRequest",
    "InstallResult",
    "Installer",
    "PipInstaller",
    "UvInstaller",
    "check_record_hashes",
    "install",
    "installer_environment",
    "make_installer",
    "normalize_tree",
]

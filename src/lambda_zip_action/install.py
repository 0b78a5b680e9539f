"""Install the dependencies for the Lambda platform: run an installer, then normalise the tree.

The installer backends are in installers.py, the normalisation and the checks of what they
left in installed_tree.py. Here: one install as the build runs it, verify's rebuild (every
wheel built from source built again), what was built on this machine, and the environment
the installers get (an allow-list).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import canonicalize_name

from lambda_zip_action import records
from lambda_zip_action.errors import InstallError
from lambda_zip_action.installed_tree import Distribution, check_platform, normalize_tree
from lambda_zip_action.installers import (
    DIRECT_REFERENCE,
    PIP_REPORT,
    Installer,
    InstallRequest,
    merge_into,
)


@dataclass(frozen=True)
class InstallResult:
    """What an install did: which installer, and the distributions it left, normalised."""

    installer: str
    installer_version: str
    distributions: tuple[Distribution, ...]
    # "name version" of every distribution built on this machine (its build backend ran here).
    built_from_source: tuple[str, ...] = ()


def built_from_source(request: InstallRequest) -> tuple[str, ...]:
    """ "name version" of every distribution that was built on this machine, not downloaded.

    uv writes `uv_build.json` into the .dist-info of every distribution it built (from an
    sdist or a local directory), also when it reuses the wheel from its cache; pip's
    `--report` names the artifact each distribution came from. Neither a WHEEL's
    `Generator` nor its tags tell: a built wheel looks like a downloaded one.
    """
    built = set()
    for marker in request.target.glob("*.dist-info/uv_build.json"):
        built.add(records.dist_label(marker.parent.name))
    for report in sorted(request.target.parent.glob(f"{PIP_REPORT}.*.json")):
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
            _install_guarded(installer, request, requirements_file)
    built = built_from_source(request)  # before normalize_tree removes uv's markers
    distributions = normalize_tree(request.target, installer.record_base)
    check_platform(distributions, request)
    return InstallResult(installer.name, version, distributions, built)


def _install_guarded(installer: Installer, request: InstallRequest, file: Path) -> None:
    """Wheels first, with every build refused: no build script runs, and the installers'
    shared caches serve as usual. Only when that fails (a distribution has to be built, or
    something else is wrong) does the install run again allowing builds, with a fresh cache of
    its own, in the sandbox (installers._install), where the shared caches and this tool's are
    read-only: no build script can write what later builds and verify read from them."""
    if request.no_build:
        installer.install(request, file)
        return
    try:
        installer.install(replace(request, no_build=True), file)
        return
    except InstallError:
        for leftover in (request.target, request.target.with_name(request.target.name + ".direct")):
            shutil.rmtree(leftover, ignore_errors=True)
        for report in request.target.parent.glob(f"{PIP_REPORT}.*.json"):
            report.unlink(missing_ok=True)
        request.target.mkdir(parents=True, exist_ok=True)
    installer.install(replace(request, fresh_cache=True), file)


def _install_rebuilding(installer: Installer, request: InstallRequest, file: Path) -> None:
    """verify's rebuild: every wheel downloaded again, every wheel built from source built again.

    Nothing comes from the installers' shared caches. uv checks a wheel's hash when it
    downloads it, then keeps it unpacked and links installs from there unchecked: a file
    edited in that cache (with its RECORD row) would be installed by both builds alike, and
    called reproducible. So the downloaded wheels are installed with a fresh, empty cache (uv
    --no-cache, pip --no-cache-dir), each one fetched and checked against its hash again, in a
    run that refuses every build (uv --no-build, pip --only-binary=:all:). What the first build
    built from source and every direct reference that is not a .whl (archive, directory, VCS)
    is built again, by a second run with a fresh cache into a directory of its own, merged into
    the target (installers cache built wheels too, uv even for a local archive under --refresh,
    which would hide a nondeterministic build). Unlocked requirements that needed a build are
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
            installer.install(
                replace(request, requirements=wheel_set, no_build=True, fresh_cache=True), file
            )
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
        merge_into(side, request.target)


_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _needs_build(line: str, rebuilt: set[str]) -> bool:
    """A direct reference to anything but a wheel, or a pin the first build built from source."""
    spec = line.split(" --hash=", 1)[0].split(";", 1)[0].strip()
    if DIRECT_REFERENCE.search(spec):
        return not spec.rsplit("#", 1)[0].endswith(".whl")
    name = _NAME.match(spec)
    return name is not None and canonicalize_name(name.group(1)) in rebuilt


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

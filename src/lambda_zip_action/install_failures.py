"""What an installer's failed run means: one message per kind of failure, from its output.

The patterns are checked against the real output of uv and pip (tests/data/installer-output/).
"""

from __future__ import annotations

import re

from lambda_zip_action.errors import InstallError
from lambda_zip_action.runtimes import Architecture, Runtime

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


def explain_failure(output: str, runtime: Runtime, architecture: Architecture) -> InstallError:
    """One message per kind of failure, from what the installer said installing for the target."""
    target = f"{runtime.identifier} on {architecture} ({runtime.uv_platform(architecture)})"
    said = f"Installer said: {last_lines(output)}"
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


def last_lines(output: str, count: int = 6) -> str:
    """The last `count` non-blank lines of `output`, joined into one line."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return " ".join(lines[-count:]) if lines else "(no output)"

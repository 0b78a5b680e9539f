"""Whether a uv.lock still locks what its pyproject.toml asks for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from lambda_zip_action.errors import RequirementsError
from lambda_zip_action.toml_text import table

# Reads a TOML file's bytes, raising RequirementsError with the file named.
TomlReader = Callable[[Path, bytes], dict[str, Any]]


def check_uv_lock_current(path: Path, data: bytes, read_toml: TomlReader) -> None:
    """Refuse a uv.lock whose project requirements are not the pyproject.toml's beside it, as
    `uv sync --locked` does: else the zip would ship what the lock says, not what the project
    asks for (a pin changed in pyproject.toml and not locked)."""
    pyproject = path.with_name("pyproject.toml")
    try:
        project = table(read_toml(pyproject, pyproject.read_bytes()), "project")
    except (OSError, RequirementsError):
        return
    name, deps = project.get("name"), project.get("dependencies", [])
    if not isinstance(name, str) or not isinstance(deps, list):
        return
    try:
        lock = read_toml(path, data)
    except RequirementsError:
        return  # uv export says what is wrong with it, in uv's words
    root = next(
        (
            package
            for package in _list(lock.get("package"))
            if isinstance(package, dict)
            and canonicalize_name(str(package.get("name", ""))) == canonicalize_name(name)
            and isinstance(package.get("source"), dict)
            and ("virtual" in package["source"] or "editable" in package["source"])
        ),
        None,
    )
    if root is None:
        return  # a workspace member or a lock uv lays out otherwise: uv export still checks it
    locked: dict[str, list[str]] = {}
    for entry in _list(table(root, "metadata").get("requires-dist")):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            locked.setdefault(canonicalize_name(entry["name"]), []).append(
                str(entry.get("specifier", ""))
            )
    wanted: dict[str, list[Requirement]] = {}
    for dep in deps:
        try:
            requirement = Requirement(str(dep))
        except InvalidRequirement:
            return  # the install reports it
        wanted.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    problems = _differences(wanted, locked)
    if problems:
        raise RequirementsError(
            f"{path} is out of date with {pyproject.name}: {'; '.join(problems[:5])}. The zip "
            "would ship what the lock holds, not what the project asks for. Run `uv lock` and "
            "commit the lock."
        )


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _differences(wanted: dict[str, list[Requirement]], locked: dict[str, list[str]]) -> list[str]:
    """How the project's requirements and the lock's record of them differ, in words."""
    problems = [
        f"{n} is in pyproject.toml, not in the lock" for n in sorted(wanted.keys() - locked)
    ]
    problems += [
        f"{n} is in the lock, not in pyproject.toml" for n in sorted(locked.keys() - wanted)
    ]
    for n in sorted(wanted.keys() & locked.keys()):
        if len(wanted[n]) != 1 or len(locked[n]) != 1 or wanted[n][0].url is not None:
            continue  # several entries (by marker) or a direct reference: names only
        asked, recorded = wanted[n][0].specifier, locked[n][0]
        try:
            same = SpecifierSet(recorded) == asked
        except InvalidSpecifier:
            continue
        if not same:
            problems.append(
                f"pyproject.toml asks for {n}{asked or ' (any version)'}, the lock was made for "
                f"{n}{recorded or ' (any version)'}"
            )
    return problems

"""What a project says about itself when no setting does: where its code is, which Python.

Sources: `src/` when there is one (flat modules or `src/<package>`), else the project directory
itself when modules or packages lie at its top (`app.py` beside `requirements.txt`); staging
then leaves out what such a directory holds besides code (source_rules.TOP_LEVEL_SKIPPED).

Target Python: `requires-python` bounds the choice (`[project]`, or Poetry's
`[tool.poetry.dependencies] python`), `.python-version` picks inside it, else the newest Lambda
runtime inside it, else the newest runtime. A `.python-version` outside `requires-python` is
ignored with a note; a setting outside it is an error, since the lock was resolved for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from lambda_zip_action.escape import plain
from lambda_zip_action.runtimes import DEFAULT_PYTHON_VERSION as NEWEST
from lambda_zip_action.runtimes import RUNTIMES
from lambda_zip_action.source_rules import TOP_LEVEL_SKIPPED, SourceRules, top_level_dotenv
from lambda_zip_action.toml_text import TomlError, parse_toml, table


@dataclass(frozen=True)
class Choice:
    """A value found in the project, and why, in words for the build's notes and errors."""

    value: str
    reason: str


def pyproject(project_dir: Path) -> dict[str, Any]:
    path = project_dir / "pyproject.toml"
    try:
        data: dict[str, Any] = parse_toml(path.read_text(encoding="utf-8"))
    except (OSError, TomlError, UnicodeDecodeError):
        return {}
    return data


def default_sources(project_dir: Path) -> tuple[Path | None, str]:
    """The source directory of a project that names none, and why (or why there is none)."""
    src = project_dir / "src"
    if src.is_dir():
        return src, "sources: src/ (src layout), packed as the archive root"
    rules = SourceRules(top_level=True)
    found = sorted(
        child.name
        for child in project_dir.iterdir()
        if not rules.skipped(child.name, child.is_dir(), child if child.is_dir() else None)
        and not child.name.startswith(".")
        and (
            (child.is_file() and child.suffix == ".py")
            or (child.is_dir() and (child / "__init__.py").is_file())
        )
    )
    if not found:
        return None, (
            f"no src/ directory and no Python module or package at the top of "
            f"{plain(str(project_dir))}: give the directory holding your handler with --source "
            "DIR (or [tool.lambda-zip] source)"
        )
    shown = ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "")
    dotenv = sorted(
        child.name
        for child in project_dir.iterdir()
        if child.is_file() and top_level_dotenv(child.name)
    )
    secrets = (
        f"; {', '.join(plain(name) for name in dotenv)} left out too (local settings, often "
        f"secrets: --include {plain(dotenv[0])} to ship it)"
        if dotenv
        else ""
    )
    return project_dir, (
        f"sources: the project directory (top-level layout: no src/, and {shown} at the top), "
        f"without {', '.join(TOP_LEVEL_SKIPPED[:6])}, project and deploy-tool files, caches "
        f"and virtual environments; --include brings one back{secrets}"
    )


def requires_python(project_dir: Path, data: dict[str, Any]) -> tuple[SpecifierSet, str] | None:
    """The project's requires-python, from [project] or Poetry's python dependency."""
    text = table(data, "project").get("requires-python")
    where = "[project] requires-python"
    if not isinstance(text, str):
        text = table(data, "tool", "poetry", "dependencies").get("python")
        where = "[tool.poetry.dependencies] python"
        if not isinstance(text, str):
            return None
        text = _poetry_constraint(text)
    try:
        return SpecifierSet(text), f"{where} {text!r}"
    except InvalidSpecifier:
        return None


def _poetry_constraint(text: str) -> str:
    """Poetry's `^3.12`, `~3.12`, `3.12.*` and `>=3.10,<3.14` as PEP 440 specifiers."""
    text = text.strip()
    caret = re.fullmatch(r"\^(\d+)\.(\d+)(?:\.\d+)?", text)
    if caret:
        return f">={caret.group(1)}.{caret.group(2)},<{int(caret.group(1)) + 1}"
    tilde = re.fullmatch(r"~(\d+)\.(\d+)(?:\.\d+)?", text)
    if tilde:
        return f">={tilde.group(1)}.{tilde.group(2)},<{tilde.group(1)}.{int(tilde.group(2)) + 1}"
    return re.sub(r"\s+(?=[<>=!~])", ",", text)


def admits(specifier: SpecifierSet, version: str) -> bool:
    """Whether any release of minor `version` ("3.12") satisfies `specifier`."""
    return any(specifier.contains(f"{version}.{patch}") for patch in range(100))


def pinned_version(project_dir: Path) -> str | None:
    """The minor version a `.python-version` file names (`3.12`, `3.12.1`, `cpython-3.12`)."""
    try:
        text = (project_dir / ".python-version").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        found = re.search(r"(?<![\d.])(\d+)\.(\d+)", line.split("#", 1)[0])
        if found:
            return f"{found.group(1)}.{found.group(2)}"
    return None


def target_python(
    project_dir: Path,
    given: str | None,
    problems: list[str],
    given_by: str = "the python-version setting",
) -> Choice:
    """The Lambda runtime to build for: `given` (a flag, setting or deploy declaration, as
    `given_by` says), else from the project."""
    data = pyproject(project_dir)
    bound = requires_python(project_dir, data)
    change = "choose another with --python-version or [tool.lambda-zip] python-version"
    if given is not None:
        if bound is not None and given in RUNTIMES and not admits(bound[0], given):
            problems.append(
                f"python version {given} is outside the project's {bound[1]} (python{given}: "
                f"{given_by}): the lock was resolved for those versions, and installers would "
                "look for wheels that were never locked; choose a version inside it, or change "
                "requires-python"
            )
        return Choice(given, f"python{given}: {given_by}")
    pinned = pinned_version(project_dir)
    candidates = [v for v in RUNTIMES if bound is None or admits(bound[0], v)]
    if bound is not None and not candidates:
        problems.append(
            f"the project's {bound[1]} admits no Lambda runtime ({', '.join(RUNTIMES)}); {change}"
        )
        return Choice(NEWEST, f"python{NEWEST}: no runtime fits {bound[1]}")
    if pinned is not None and pinned in candidates:
        inside = f", inside {bound[1]}" if bound is not None else ""
        return Choice(pinned, f"python{pinned}: from .python-version{inside}; {change}")
    ignored = ""
    if pinned is not None:
        why_not = (
            f"not a Lambda runtime this tool supports ({', '.join(RUNTIMES)})"
            if pinned not in RUNTIMES
            else "outside it"
        )
        ignored = f" (.python-version's {pinned} is {why_not})"
    if bound is not None:
        newest = max(candidates, key=lambda v: tuple(int(p) for p in v.split(".")))
        why = f"the newest Lambda runtime inside {bound[1]}{ignored}"
        return Choice(newest, f"python{newest}: {why}; {change}")
    return Choice(
        NEWEST,
        f"python{NEWEST}: the newest Lambda runtime, as the project sets no python-version, "
        f"requires-python or .python-version{ignored}; {change}",
    )

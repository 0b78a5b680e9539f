"""The Serverless Framework's `package.patterns` (and the older `exclude` / `include`) as
lambda-zip's excludes and includes (see source_rules: a glob without "/" matches a name at any
depth, one with "/" the whole path; excludes always win, includes bring back what the default
rules leave out).

The Framework applies the patterns in order, the last match deciding. `!node_modules/**`
becomes the exclude `node_modules`; a later positive pattern becomes an include. An
allow-list (`!./**`, then what to keep) becomes, for the code directory as it is, an exclude
of every top-level entry no kept pattern names. What the rules cannot say (a positive pattern
taking back part of an excluded directory) is an error naming the line.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path

from lambda_zip_action.deploy.model import Origin
from lambda_zip_action.errors import DeployConfigError
from lambda_zip_action.escape import plain

EVERYTHING = {"**", "*", "**/*", ".", "./**", "./*", "./**/*", "*/**"}


def translate(
    patterns: Iterable[tuple[str, bool, Origin]], code_dir: Path, prefix: str, notes: list[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(excludes, includes) for `patterns`, each (pattern, negated, where it was written);
    `prefix` is the code directory's path in the service (`module/`), stripped from them."""
    excludes: list[str] = []
    includes: list[str] = []
    kept: list[str] | None = None  # the allow-list, once everything was left out
    for pattern, negated, said in patterns:
        text = pattern.strip().removeprefix("./")
        text = text.removeprefix(prefix) if prefix else text
        if text in EVERYTHING:
            if not negated:
                raise DeployConfigError(
                    f"{said}: the package pattern {plain(pattern)!r} takes everything back "
                    "after leaving some of it out, which lambda-zip's rules cannot say. "
                    "Declare the function in [tool.lambda-zip.functions] with exclude globs."
                )
            excludes, includes, kept = [], [], []
            continue
        glob = _glob(text)
        if negated:
            excludes.append(glob)
            continue
        top = glob.split("/")[0]
        if any(fnmatch.fnmatchcase(top, excluded.split("/")[0]) for excluded in excludes):
            raise DeployConfigError(
                f"{said}: the package pattern {plain(pattern)!r} takes back part of what an "
                "earlier pattern leaves out, which lambda-zip's rules (excludes always win) "
                "cannot say. Reorder the patterns, or declare the function in "
                "[tool.lambda-zip.functions]."
            )
        (includes if kept is None else kept).append(glob)
    if kept is not None:
        tops = {glob.split("/")[0] for glob in kept}
        dropped = [
            child.name
            for child in sorted(code_dir.iterdir())
            if not any(fnmatch.fnmatchcase(child.name, top) for top in tops)
        ]
        deep = sorted(glob for glob in kept if "/" in glob and not glob.endswith("**"))
        if deep:
            notes.append(
                f"the package patterns keep {', '.join(plain(g) for g in deep)}: all of "
                f"{', '.join(sorted({plain(g.split('/')[0]) for g in deep}))} is packed"
            )
        excludes = [*dropped, *excludes]
        includes = [*includes, *(g.removesuffix("/**") for g in kept)]
    return tuple(excludes), tuple(includes)


def _glob(pattern: str) -> str:
    """`node_modules/**` -> `node_modules`, `**/*.pyc` -> `*.pyc`, `docs/` -> `docs`."""
    while pattern.endswith(("/**", "/*", "/")) and pattern.count("/") >= 1:
        pattern = pattern[:-1] if pattern.endswith("/") else pattern.rsplit("/", 1)[0]
    while pattern.startswith("**/"):
        pattern = pattern[3:]
    return pattern

"""Reading a deploy configuration file: YAML (with CloudFormation's short tags) and JSON into
plain values that remember the line each mapping key was written on, and the checks every
reader shares (a path inside the project, a runtime Lambda runs, a name that can name a file).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from lambda_zip_action.deploy.model import Declared, Origin
from lambda_zip_action.errors import DeployConfigError
from lambda_zip_action.escape import plain
from lambda_zip_action.runtimes import RUNTIMES

# A deploy configuration is text a person writes: far below this.
MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 200

# Lambda's Python runtimes it no longer supports, with the date each was deprecated.
RETIRED = {
    "python2.7": "2021-07-15",
    "python3.6": "2022-07-18",
    "python3.7": "2023-12-04",
    "python3.8": "2024-10-14",
    "python3.9": "2025-12-15",
}


class Lines(dict[str, Any]):
    """A mapping read from a file, with the 1-based line of each key (`line_of`)."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key, self.line)


def read_text(path: Path, project_dir: Path) -> str:
    """A configuration file of the project: a regular file inside it (a link may not lead
    out: its text would reach the log), at most 8 MiB, UTF-8."""
    try:
        path.resolve().relative_to(project_dir.resolve())
    except ValueError:
        raise DeployConfigError(
            f"{relative(path, project_dir)} leads outside the project (a symbolic link to "
            f"{plain(str(path.resolve()))}): a deploy configuration must be a file of the project."
        ) from None
    try:
        if not path.is_file():
            raise DeployConfigError(f"{relative(path, project_dir)} is not a regular file.")
        if path.stat().st_size > MAX_BYTES:
            raise DeployConfigError(
                f"{relative(path, project_dir)} is over 8 MiB: not a deploy "
                "configuration this tool reads."
            )
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        utf16 = path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
        raise DeployConfigError(
            f"{relative(path, project_dir)} is not UTF-8 text (byte {exc.start + 1} is not"
            + (", and it starts as UTF-16 does" if utf16 else "")
            + "): deploy tools read it as UTF-8; save it as UTF-8."
        ) from exc
    except OSError as exc:
        raise DeployConfigError(f"{relative(path, project_dir)} cannot be read: {exc}.") from exc


def load_yaml(path: Path, project_dir: Path) -> Any:
    """YAML with line numbers; `!Ref x` becomes {"Ref": x}, `!GetAtt a.b` {"Fn::GetAtt": [a, b]},
    any other `!Name v` {"Fn::Name": v}, as CloudFormation reads the short forms."""
    text = read_text(path, project_dir)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise DeployConfigError(
            f"{relative(path, project_dir)}{where} is not valid YAML ({_first_line(exc)}): fix it "
            "or name another deploy configuration with --deploy-config."
        ) from exc
    if node is None:
        return None
    try:
        _BUDGET[:] = [Budget(relative(path, project_dir))]
        return _value(node, 0)
    except _RepeatedKey as exc:
        key, first, again = exc.args
        raise DeployConfigError(
            f"{relative(path, project_dir)}:{again} repeats the key {plain(key)!r} of line "
            f"{first} in the same mapping: YAML parsers disagree on which one counts (PyYAML "
            "and SAM keep the last, CloudFormation refuses the template). Keep one."
        ) from None
    except RecursionError as exc:  # pragma: no cover - MAX_DEPTH stops it first
        raise DeployConfigError(f"{relative(path, project_dir)} nests too deeply.") from exc


class _RepeatedKey(Exception):
    """(key, its first line, the line repeating it) within one mapping."""


def _first_line(exc: Exception) -> str:
    return plain(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)


_BUDGET: list[Budget] = []


def _value(node: yaml.Node, depth: int) -> Any:
    if _BUDGET:
        _BUDGET[0].spend()
    if depth > MAX_DEPTH:
        raise DeployConfigError(
            f"a deploy configuration nests deeper than {MAX_DEPTH} levels "
            f"(line {node.start_mark.line + 1})."
        )
    tag = node.tag or ""
    if isinstance(node, yaml.MappingNode):
        result: Any = _mapping(node, depth)
    elif isinstance(node, yaml.SequenceNode):
        result = [_value(item, depth + 1) for item in node.value]
    elif tag.startswith("!") and not tag.startswith("!!"):
        result = node.value  # a short tag's scalar is its text: !Ref MyParameter
    else:
        assert isinstance(node, yaml.ScalarNode)
        result = _scalar(node)
    if tag.startswith("!") and not tag.startswith("!!"):
        name = tag[1:]
        if name == "GetAtt" and isinstance(result, str):
            result = result.split(".", 1)
        key = name if name in ("Ref", "Condition") else f"Fn::{name}"
        tagged = Lines(node.start_mark.line + 1)
        tagged[key] = result
        return tagged
    return result


def _mapping(node: yaml.MappingNode, depth: int) -> Lines:
    mapping = Lines(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            merged = _value(value_node, depth + 1)
            for item in merged if isinstance(merged, list) else [merged]:
                if isinstance(item, Mapping):
                    for key, value in item.items():
                        mapping.setdefault(key, value)
            continue
        key = str(_value(key_node, depth + 1))
        if key in mapping.key_lines:
            raise _RepeatedKey(key, mapping.key_lines[key], key_node.start_mark.line + 1)
        mapping[key] = _value(value_node, depth + 1)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _scalar(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node)
    finally:
        loader.dispose()


def load_json(path: Path, project_dir: Path) -> Any:
    """JSON; each mapping remembers the line its keys first appear on (found in the text)."""
    text = read_text(path, project_dir)
    try:
        data = json.loads(text, object_pairs_hook=_pairs)
    except _RepeatedKey as exc:
        raise DeployConfigError(
            f"{relative(path, project_dir)} repeats the key {plain(exc.args[0])!r} in one "
            "object: JSON parsers disagree on which one counts. Keep one."
        ) from None
    except (ValueError, RecursionError) as exc:
        raise DeployConfigError(
            f"{relative(path, project_dir)} is not valid JSON ({_first_line(exc)})."
        ) from exc
    _locate(data, text.splitlines())
    return data


def _pairs(pairs: list[tuple[str, Any]]) -> Lines:
    mapping = Lines()
    for key, value in pairs:
        if key in mapping:
            raise _RepeatedKey(key, 0, 0)
        mapping[key] = value
    return mapping


def _locate(value: Any, lines: list[str], start: int = 0, index: Any = None) -> None:
    """Give each key of every mapping the first line at or after `start` that quotes it.

    The lines where each quoted key appears are listed once (one pass over the text), so a
    template of many keys costs a lookup per key, not a scan of the rest of the file."""
    if index is None:
        index = _key_index(lines)
    if isinstance(value, Lines):
        for key, item in value.items():
            found = None
            for needle in {json.dumps(key), json.dumps(key, ensure_ascii=False)}:
                rows = index.get(needle[1:-1], ())
                at = bisect.bisect_left(rows, start)
                if at < len(rows) and (found is None or rows[at] < found):
                    found = rows[at]
            if found is not None:
                value.key_lines[key] = found + 1
            _locate(item, lines, found if found is not None else start, index)
    elif isinstance(value, list):
        for item in value:
            _locate(item, lines, start, index)


_QUOTED_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


def _key_index(lines: list[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for number, line in enumerate(lines):
        for match in _QUOTED_KEY.finditer(line):
            found.setdefault(match.group(1), []).append(number)
    return found


def relative(path: Path, project_dir: Path) -> str:
    try:
        return path.resolve().relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def origin(path: Path, project_dir: Path, mapping: Any = None, key: str | None = None) -> Origin:
    line = None
    if isinstance(mapping, Lines):
        line = mapping.line_of(key) if key is not None else mapping.line
    return Origin(relative(path, project_dir), line)


def inside(path: Path, project_dir: Path, said: Origin, what: str) -> Path:
    """`path` resolved, or an error naming `said` when it leaves the project."""
    resolved = path.resolve()
    try:
        resolved.relative_to(project_dir.resolve())
    except ValueError:
        raise DeployConfigError(
            f"{said} puts {what} at {plain(str(path))}, outside the project "
            f"{project_dir}: a deploy configuration may only name directories inside it."
        ) from None
    if not resolved.is_dir():
        raise DeployConfigError(
            f"{said} puts {what} in {plain(str(path))}, which is not a directory of the project."
        )
    repository = repository_metadata(resolved, project_dir)
    if repository is not None:
        raise DeployConfigError(
            f"{said} puts {what} in {plain(repository)}, a version control directory: it holds "
            "the checkout's credentials (actions/checkout's token in .git/config) and is never "
            "shipped."
        )
    return resolved


VCS_DIRECTORIES = (".git", ".hg", ".svn")

# What reading one configuration may cost: values built (YAML aliases repeat what they name)
# and references resolved (a local naming others eight times, each naming eight more...).
# Real configurations stay far below; a few kilobytes written to expand exponentially do not.
MAX_STEPS = 200_000
MAX_RESOLVED_CHARS = 1024 * 1024


class Budget:
    """Counts the work of reading one configuration; an error once it is spent."""

    def __init__(self, what: str) -> None:
        self.what, self.steps = what, 0

    def spend(self, text: object = None) -> None:
        self.steps += 1
        too_long = isinstance(text, str) and len(text) > MAX_RESOLVED_CHARS
        if self.steps > MAX_STEPS or too_long:
            raise DeployConfigError(
                f"{self.what} expands past what a deploy configuration needs ("
                + ("a value over 1 MiB" if too_long else f"over {MAX_STEPS:,} values")
                + ": aliases or references nested many times over): not read."
            )


def repository_metadata(path: Path, project_dir: Path) -> str | None:
    """The version control directory `path` is or lies in (`.git`, a bare repository's
    layout), relative to the project; None when it is neither."""
    resolved = path.resolve()
    try:
        parts = resolved.relative_to(project_dir.resolve()).parts
    except ValueError:
        parts = ()
    for index, part in enumerate(parts):
        if part in VCS_DIRECTORIES:
            return "/".join(parts[: index + 1])
    for candidate in (resolved, *resolved.parents):
        if candidate == project_dir.resolve().parent:
            break
        if (
            (candidate / "HEAD").is_file()
            and (candidate / "objects").is_dir()
            and (candidate / "refs").is_dir()
        ):
            return str(candidate)
    return None


def python_runtime(value: object, said: Origin, function: str) -> Declared | None:
    """A declared runtime: Declared for a Python runtime Lambda runs, None for another
    language; an error for a retired or unknown Python runtime."""
    if not isinstance(value, str):
        raise DeployConfigError(
            f"{said} declares the runtime of {plain(function)} as "
            f"{plain(repr(value))[:80]}, not a runtime name such as "
            "python3.12."
        )
    if not value.startswith("python"):
        return None
    if value in RETIRED:
        raise DeployConfigError(
            f"{said} declares {value} for {plain(function)}, which Lambda no longer runs: it was "
            f"deprecated on {RETIRED[value]} (no security patches since; Lambda then blocks "
            "creating, and later updating, functions with it). Declare a supported runtime "
            f"({', '.join('python' + v for v in RUNTIMES)}) and build again."
        )
    if value.removeprefix("python") not in RUNTIMES:
        raise DeployConfigError(
            f"{said} declares the runtime {plain(value)} for {plain(function)}, which is not a "
            f"Lambda Python runtime this tool knows ({', '.join('python' + v for v in RUNTIMES)})."
        )
    return Declared(value, said)


def architecture(value: object, said: Origin, function: str) -> Declared:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value not in ("x86_64", "arm64"):
        raise DeployConfigError(
            f"{said} declares the architecture of {plain(function)} as "
            f"{plain(repr(value))[:80]}; Lambda runs x86_64 or arm64."
        )
    return Declared(str(value), said)


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def function_name(value: str, said: Origin) -> str:
    if not _NAME.fullmatch(value):
        raise DeployConfigError(
            f"{said} declares a function named {plain(value)!r}, which cannot name its zip: use "
            "letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit)."
        )
    return value

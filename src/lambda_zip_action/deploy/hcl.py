"""Terraform's HCL, read with python-hcl2: each top-level block of a module's *.tf files, its
values as python-hcl2 writes them (`"\\"text\\""` for a string, `"${var.x}"` for an
expression), and the line of the block and of each of its attributes.

The values and the lines come from one parse: python-hcl2's parse tree keeps positions
(`parses_to_tree`), its serializer the values; blocks are paired by their labels, in order.
A `Scope` resolves what can be known before Terraform runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_zip_action.deploy.model import Origin
from lambda_zip_action.deploy.source import Budget, read_text, relative
from lambda_zip_action.errors import DeployConfigError
from lambda_zip_action.escape import plain

_REFERENCE = re.compile(r"(?<!\$)\$\{([^{}]+)\}")  # `$${` writes a literal `${`
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


@dataclass(frozen=True)
class Block:
    """One top-level block: `resource "aws_lambda_function" "fn" { ... }` has the labels
    ("resource", "aws_lambda_function", "fn")."""

    labels: tuple[str, ...]
    body: Mapping[str, Any]
    file: str  # relative to the project
    line: int | None
    attribute_lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def origin(self) -> Origin:
        return Origin(self.file, self.line)

    def at(self, attribute: str) -> Origin:
        """Where `attribute` is written in this block (the block itself when it is not)."""
        return Origin(self.file, self.attribute_lines.get(attribute, self.line))

    @property
    def address(self) -> str:
        kind, *names = self.labels
        return " ".join([kind, *(f'"{n}"' for n in names)])


@dataclass(frozen=True)
class Resolved:
    """A value already resolved (a module call's argument), not to be read as HCL again."""

    value: Any


class Scope:
    """One module's blocks and the values its expressions can name."""

    def __init__(
        self, directory: Path, root: Path, project_dir: Path, inputs: Mapping[str, Resolved]
    ) -> None:
        self.directory, self.root, self.project_dir = directory, root, project_dir
        self.budget = Budget(f"the Terraform module in {directory.name or directory}")
        self.blocks = read_module(directory, project_dir)
        self.variables: dict[str, Any] = {}
        self.locals: dict[str, Any] = {}
        self.archives: dict[str, Block] = {}
        for block in self.blocks:
            kind, *names = block.labels
            if kind == "variable" and len(names) == 1 and "default" in block.body:
                self.variables[names[0]] = block.body["default"]
            elif kind == "locals":
                self.locals.update({k: v for k, v in block.body.items() if k[:2] != "__"})
            elif kind == "data" and names[:1] == ["archive_file"] and len(names) == 2:
                self.archives[names[1]] = block
        self.variables.update(inputs)

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """The plain value (strings unquoted, references replaced), or None if not known."""
        self.budget.spend(value)
        if isinstance(value, Resolved):
            return value.value
        if depth > 20:
            return None
        if isinstance(value, list):
            items = [self.resolve(item, depth + 1) for item in value]
            return None if any(item is None for item in items) else items
        if isinstance(value, Mapping):
            return {
                k: self.resolve(v, depth + 1) for k, v in value.items() if not k.startswith("__")
            }
        if not isinstance(value, str):
            return value
        return self._string(value, depth)

    def _string(self, value: str, depth: int) -> str | None:
        if not (len(value) >= 2 and value[0] == value[-1] == '"'):
            whole = _REFERENCE.fullmatch(value)
            return self._reference(whole.group(1).strip(), depth) if whole else None
        missing = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal missing
            found = self._reference(match.group(1).strip(), depth)
            if found is None or isinstance(found, Mapping | list):
                missing = True
                return ""
            return str(found).lower() if isinstance(found, bool) else str(found)

        text = _REFERENCE.sub(substitute, unquote(value)).replace("$${", "${")
        return None if missing else _ESCAPE.sub(lambda m: _ESCAPES.get(m[1], m[1]), text)

    def _reference(self, name: str, depth: int) -> Any:
        if name == "path.module":
            return str(self.directory)
        if name in ("path.root", "path.cwd"):
            return str(self.root)
        if name.startswith("var.") and name[4:] in self.variables:
            return self.resolve(self.variables[name[4:]], depth + 1)
        if name.startswith("local.") and name[6:] in self.locals:
            return self.resolve(self.locals[name[6:]], depth + 1)
        return None

    def path(self, value: str) -> Path:
        return self.directory / value  # an absolute value stays itself

    def need(self, block: Block, attribute: str, what: str) -> Any:
        """The resolved attribute, or an error naming its line."""
        if attribute not in block.body:
            raise DeployConfigError(
                f"{block.origin}: {block.address} declares no {attribute}; {what}."
            )
        found = self.resolve(block.body[attribute])
        if found is None:
            raise DeployConfigError(
                f"{block.at(attribute)}: the {attribute} of {block.address} is an expression "
                "known only when Terraform runs (not a literal, path.module, var.x with a "
                "default or local.x): write it here, or declare the function in "
                "[tool.lambda-zip.functions]."
            )
        return found


def unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def read_module(directory: Path, project_dir: Path) -> list[Block]:
    """Every top-level block of the *.tf files in `directory`, file by file."""
    blocks: list[Block] = []
    for path in sorted(directory.glob("*.tf")):
        if path.is_file():
            blocks.extend(_read_file(path, project_dir))
    return blocks


def _read_file(path: Path, project_dir: Path) -> list[Block]:
    from hcl2.api import parses_to_tree, serialize, transform

    text = read_text(path, project_dir)
    file = relative(path, project_dir)
    try:
        tree = parses_to_tree(text)
        data = serialize(transform(tree))
    except RecursionError as exc:
        raise DeployConfigError(f"{file} nests too deeply to be read.") from exc
    except Exception as exc:  # lark's and python-hcl2's errors have no common base
        line = getattr(exc, "line", None)
        where = f"{file}:{line}" if isinstance(line, int) and line > 0 else file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DeployConfigError(
            f"{where} is not valid HCL ({plain(first)[:200]}): fix it, or name another "
            "deploy configuration with --deploy-config."
        ) from exc
    lines: dict[tuple[str, ...], list[tuple[int | None, dict[str, int]]]] = {}
    for labels, line, attributes in _positions(tree):
        lines.setdefault(labels, []).append((line, attributes))
    blocks = []
    for labels, body in _serialized(data):
        found = lines.get(labels)
        line, attributes = found.pop(0) if found else (None, {})
        blocks.append(Block(labels, body, file, line, attributes))
    blocks.sort(key=lambda block: block.line or 0)
    return blocks


def _positions(tree: Any) -> Iterator[tuple[tuple[str, ...], int | None, dict[str, int]]]:
    body = next((c for c in tree.children if getattr(c, "data", None) == "body"), None)
    for block in getattr(body, "children", ()):
        if getattr(block, "data", None) != "block":
            continue
        labels: list[str] = []
        attributes: dict[str, int] = {}
        for child in block.children:
            kind = getattr(child, "data", None)
            if kind in ("identifier", "string"):
                labels.append("".join(_text(child)))
            elif kind == "body":
                for item in child.children:
                    if getattr(item, "data", None) in ("attribute", "block"):
                        name = "".join(_text(item.children[0]))
                        attributes.setdefault(name, item.meta.line)
        yield tuple(unquote(label) for label in labels), block.meta.line, attributes


def _text(node: Any) -> Iterator[str]:
    for child in getattr(node, "children", ()):
        if hasattr(child, "children"):
            yield from _text(child)
        elif getattr(child, "type", "") != "DBLQUOTE":
            yield str(child)


def _serialized(
    value: Any, labels: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    if isinstance(value, Mapping):
        if value.get("__is_block__") and labels:
            yield labels, value
            return
        for key, item in value.items():
            if not key.startswith("__"):
                yield from _serialized(item, (*labels, unquote(key)))
    elif isinstance(value, list) and labels:
        for item in value:
            yield from _serialized(item, labels)

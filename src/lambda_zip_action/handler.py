"""Whether a package holds the handler its deploy configuration names, before it is written.

Lambda's Python runtime splits the handler at its last dot: the module (`app`, `pkg.app`, or
Serverless' `src/handlers/app`, slashes read as dots) and the function in it. The module must
be in the package, as a `.py` file, a package `__init__.py` or an extension module; the name
must be bound at the top of that module (a def, a class, an assignment or an import), which is
read with `ast`, never run. A module that binds names it cannot show (`from x import *`, a
module `__getattr__`) is taken at its word.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from lambda_zip_action.errors import SourceError
from lambda_zip_action.escape import plain
from lambda_zip_action.stage import StagedFile

# Source larger than this is not parsed; the module's presence is checked all the same.
MAX_PARSED_BYTES = 8 * 1024 * 1024


def module_and_function(handler: str) -> tuple[str, str] | None:
    """("pkg/app", "handler") for `pkg.app.handler` or `pkg/app.handler`; None if malformed."""
    module, dot, function = handler.strip().rpartition(".")
    if not dot or not module or not function.isidentifier():
        return None
    parts = module.replace("/", ".").split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    return "/".join(parts), function


def check_handler(
    handler: str, origin: str, function: str, entries: Iterable[StagedFile], prefix: str = ""
) -> None:
    """Raise SourceError unless `entries` hold the module and function `handler` names."""
    said = f"{origin} declares handler {plain(handler)!r} for {plain(function)}"
    parsed = module_and_function(handler)
    if parsed is None:
        raise SourceError(
            f"{said}, which is not module.function (e.g. app.lambda_handler): Lambda could not "
            "import it. Nothing was written."
        )
    module, name = parsed
    files = {entry.name: entry for entry in entries if not entry.is_dir}
    candidates = (f"{prefix}{module}.py", f"{prefix}{module}/__init__.py")
    source = next((files[c] for c in candidates if c in files), None)
    if source is None:
        stem = f"{prefix}{module}."
        if any(n.startswith(stem) and n.endswith(".so") and "/" not in n[len(stem):]
               for n in files):  # fmt: skip
            return
        raise SourceError(
            f"{said}, but the package holds no {module}.py or {module}/__init__.py: Lambda "
            "would fail every invocation with Runtime.ImportModuleError. Check the code "
            "directory and the handler's path (it is relative to the code directory). Nothing "
            "was written."
        )
    if source.path is None or source.size > MAX_PARSED_BYTES:
        return
    try:
        tree = ast.parse(source.path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return  # the compile stage explains a file that does not parse
    if name not in _bound_names(tree) and not _binds_unknown(tree):
        raise SourceError(
            f"{said}, but {source.name} defines no {name}: Lambda would fail every invocation "
            "with Runtime.HandlerNotFound. Nothing was written."
        )


def _bound_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _binds_unknown(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return True
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            return True
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("globals", "setattr"):
            return True
    return False

"""Whether a package holds the handler its deploy configuration names, before it is written.

Lambda's Python runtime splits the handler at its last dot: the module (`app`, `pkg.app`, or
Serverless' `src/handlers/app`, slashes read as dots) and the function in it. The module must
be in the package, as a `.py` file, a package `__init__.py` or an extension module; the name
must be bound at the top of that module (a def, a class, an assignment or an import), which is
read with `ast`, never run. A module that binds names it cannot show (`from x import *`, a
module `__getattr__`) is taken at its word.

The modules the handler's module imports unconditionally (a plain `import` or `from` at its
top level, not inside `try` or `if`) must be importable there too: in the package, in the
standard library, or in what Lambda's Python runtime provides (boto3 and its dependencies).
A dependency file deleted or left out otherwise builds a zip that fails every invocation.
A function with layers may get the module from one of them: that is a warning.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterable

from lambda_zip_action.errors import SourceError
from lambda_zip_action.escape import plain
from lambda_zip_action.stage import StagedFile

# Source larger than this is not parsed; the module's presence is checked all the same.
MAX_PARSED_BYTES = 1024 * 1024

# What Lambda's Python runtimes import from outside the package: the AWS SDK, its
# dependencies and the runtime interface client (/var/runtime).
RUNTIME_PROVIDED = frozenset({
    "boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six",
    "awslambdaric", "bootstrap", "runtime_client", "lambda_runtime_client",
    # The runtime image's own pip, and the durable functions SDK of python3.13 and later.
    "pip", "aws_durable_execution_sdk_python",
})  # fmt: skip
# Modules of the standard library of some CPython 3.x that this interpreter may not list.
_REMOVED_STDLIB = frozenset({
    "asynchat", "asyncore", "distutils", "imp", "smtpd", "aifc", "audioop", "cgi", "cgitb",
    "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis", "nntplib", "ossaudiodev", "pipes",
    "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "lib2to3", "tomllib", "_typeshed",
})  # fmt: skip


def module_and_function(handler: str) -> tuple[str, str] | None:
    """("pkg/app", "handler") for `pkg.app.handler` or `pkg/app.handler`; None if malformed."""
    module, dot, function = handler.strip().rpartition(".")
    if not dot or not module or not function.isidentifier():
        return None
    parts = module.replace("/", ".").split(".")
    # Lambda's runtime imports the module with importlib.import_module, which takes a name
    # an import statement could not (`producer-function`, `src/lambda-start`): any part
    # without spaces or path tricks.
    if not all(part and part.isprintable() and not any(c.isspace() for c in part)
               and part not in (".", "..") for part in parts):  # fmt: skip
        return None
    return "/".join(parts), function


def check_handler(
    handler: str,
    origin: str,
    function: str,
    entries: Iterable[StagedFile],
    prefix: str = "",
    *,
    layers: tuple[str, ...] = (),
    warn: Callable[[str], None] = lambda message: None,
    elsewhere: Iterable[str] = (),
) -> None:
    """Raise SourceError unless `entries` hold the module and function `handler` names, and
    every module it imports unconditionally (in `entries` or `elsewhere`: names as they are
    importable, a --split layer's without its python/)."""
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
    if source is None and f"{prefix}{handler.strip()}" in files:
        # `run.sh`: a program an exec wrapper (AWS_LAMBDA_EXEC_WRAPPER, the Lambda Web
        # Adapter) starts, not a Python module.
        warn(f"{plain(function)}'s handler {plain(handler)!r} is a file of the package, not a "
             "Python module: taken as a program an exec wrapper runs, not checked")  # fmt: skip
        return
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
    except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
        return  # the compile stage explains a file that does not parse
    if name not in _bound_names(tree) and not _binds_unknown(tree):
        raise SourceError(
            f"{said}, but {source.name} defines no {name}: Lambda would fail every invocation "
            "with Runtime.HandlerNotFound. Nothing was written."
        )
    importable = [*files, *(f"{prefix}{name}" for name in elsewhere)]
    missing = [(line, top) for line, top in _top_level_imports(tree)
               if not _importable(top, importable, prefix)]  # fmt: skip
    if not missing:
        return
    where = ", ".join(f"{plain(top)} (line {line})" for line, top in missing)
    if layers:
        warn(f"{source.name}, {plain(function)}'s handler module, imports {where}, which the "
             "package does not hold: one of its layers must provide it")  # fmt: skip
        return
    raise SourceError(
        f"{said}; {source.name} imports {where} at its top level, which is neither in the "
        "package nor in the standard library nor provided by Lambda's runtime: Lambda would "
        "fail every invocation with Runtime.ImportModuleError. Add it to the function's "
        "dependency file (is it missing, or not the one the deploy configuration names?). "
        "Nothing was written."
    )


def _top_level_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, top-level module) of every absolute import run whenever the module is."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return list(dict.fromkeys(found))


def _importable(top: str, names: Iterable[str], prefix: str) -> bool:
    if top in sys.stdlib_module_names or top in _REMOVED_STDLIB or top in RUNTIME_PROVIDED:
        return True
    stem = f"{prefix}{top}"
    for name in names:
        if name == f"{stem}.py" or name.startswith(f"{stem}/"):
            return True
        rest = name[len(stem) :]
        if rest.startswith(".") and name.endswith((".so", ".pyc")) and "/" not in rest:
            return True
    return False


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

"""Terraform: the *.tf files of the root module, read with python-hcl2 (see hcl).

The root module is the project directory when it holds *.tf files, else each of the
directories real projects keep it in (terraform/, infra/, infrastructure/, tf/, iac/): several
are several configurations, one is named with --deploy-config. Functions:

- `aws_lambda_function` whose `filename` is a `data "archive_file"` (by reference, or by the
  same output_path): its `source_dir` is the code directory (`excludes` kept), or its
  `source_file` alone. A prebuilt zip or code in S3 is left out with a note.
- the terraform-aws-modules/lambda module: `source_path` as a directory or file (requirements.txt
  beside it is installed), or one map with `path`, `pip_requirements` (installed only when
  set) and `patterns` (simple ones become excludes); `commands` and `prefix_in_zip` are a
  build of its own, an error.
- a local module (`source = "./modules/lambda"`) is read with the arguments passed to it.

Values: `${path.module}`, `${path.root}`, `var.x` (its default, or what a module call passes)
and `local.x`; relative paths are relative to the module's directory. A needed value written
otherwise (known at apply time) is an error naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from lambda_zip_action.deploy.hcl import Block, Resolved, Scope
from lambda_zip_action.deploy.model import Declared, DeployConfig, FunctionSpec, Origin
from lambda_zip_action.deploy.source import (
    architecture,
    function_name,
    inside,
    python_runtime,
)
from lambda_zip_action.errors import DeployConfigError
from lambda_zip_action.escape import plain

DIRECTORIES = ("terraform", "infra", "infrastructure", "tf", "iac")
LAMBDA_MODULE = re.compile(r"terraform-aws-modules/(terraform-aws-)?lambda(/aws|\.git|$|[/?])")
MAX_MODULE_DEPTH = 4


def find(project_dir: Path) -> list[Path]:
    """The first *.tf file of each root module: the project's, else each conventional one."""
    for directories in (("",), DIRECTORIES):
        found = [
            files[0]
            for name in directories
            if (files := sorted(p for p in (project_dir / name).glob("*.tf") if p.is_file()))
        ]
        if found:
            return found
    return []


def read(path: Path, project_dir: Path) -> DeployConfig:
    root = path.parent.resolve()
    functions: list[FunctionSpec] = []
    notes: list[str] = []
    files: list[str] = []
    _read_scope(Scope(root, root, project_dir, {}), None, 0, functions, notes, files)
    origins = tuple(Origin(file) for file in dict.fromkeys(files))
    return DeployConfig("terraform", origins, tuple(functions), (), tuple(notes))


def _read_scope(
    scope: Scope,
    prefix: str | None,
    depth: int,
    functions: list[FunctionSpec],
    notes: list[str],
    files: list[str],
) -> None:
    files.extend(block.file for block in scope.blocks)
    for block in scope.blocks:
        kind, *names = block.labels
        if kind == "resource" and names[:1] == ["aws_lambda_function"] and len(names) == 2:
            spec = _resource(scope, block, names[1], prefix, notes)
        elif kind == "module" and len(names) == 1:
            source = scope.resolve(block.body.get("source"))
            if isinstance(source, str) and LAMBDA_MODULE.search(source):
                spec = _lambda_module(scope, block, names[0], prefix, notes)
            elif isinstance(source, str) and source.startswith(("./", "../")):
                if depth >= MAX_MODULE_DEPTH:
                    raise DeployConfigError(
                        f"{block.origin}: modules call modules over {MAX_MODULE_DEPTH} deep."
                    )
                _call(scope, block, names[0], source, prefix, depth, functions, notes, files)
                continue
            else:
                if "lambda" in str(source).lower():
                    notes.append(f"{block.origin}: {block.address} ({source}) is not read here")
                continue
        else:
            continue
        if spec is not None:
            functions.append(spec)


def _call(
    scope: Scope,
    block: Block,
    name: str,
    source: str,
    prefix: str | None,
    depth: int,
    functions: list[FunctionSpec],
    notes: list[str],
    files: list[str],
) -> None:
    directory = inside(scope.path(source), scope.project_dir, block.at("source"), f"module {name}")
    meta = {"source", "version", "count", "for_each", "providers", "depends_on"}
    inputs = {k: Resolved(scope.resolve(v)) for k, v in block.body.items() if k not in meta}
    inputs = {k: v for k, v in inputs.items() if v.value is not None}
    child = Scope(directory, scope.root, scope.project_dir, inputs)
    found: list[FunctionSpec] = []
    label = name if prefix is None else f"{prefix}.{name}"
    _read_scope(child, label, depth + 1, found, notes, files)
    if len(found) == 1 and found[0].name.startswith(f"{label}."):
        found = [_renamed(found[0], label, block.origin)]
    functions.extend(found)


def _renamed(spec: FunctionSpec, name: str, said: Origin) -> FunctionSpec:
    return replace(spec, name=function_name(name, said))


def _common(
    scope: Scope, block: Block, name: str, notes: list[str]
) -> tuple[Declared, Declared, Declared | None] | None:
    """(handler, runtime, architecture) of a Python zip function; None (noted) otherwise."""
    if "Image" in str(scope.resolve(block.body.get("package_type")) or ""):
        notes.append(f"{block.origin}: {name} is a container image: not built here")
        return None
    runtime_value = scope.need(block, "runtime", "a zip function needs one")
    runtime = python_runtime(runtime_value, block.at("runtime"), name)
    if runtime is None:
        notes.append(f"{block.at('runtime')}: {name} runs {plain(str(runtime_value))}: not Python")
        return None
    handler = scope.need(block, "handler", "name its module.function")
    if not isinstance(handler, str):
        raise DeployConfigError(f"{block.at('handler')}: the handler of {name} is not a string.")
    arches = scope.resolve(block.body.get("architectures"))
    if "architectures" in block.body and arches is None:
        scope.need(block, "architectures", "")
    arch = architecture(arches, block.at("architectures"), name) if arches else None
    return Declared(handler, block.at("handler")), runtime, arch


def _spec(
    name: str,
    prefix: str | None,
    block: Block,
    common: tuple[Declared, Declared, Declared | None],
    code_dir: Path,
    requirements: Path | None,
    excludes: tuple[str, ...] = (),
) -> FunctionSpec:
    handler, runtime, arch = common
    label = name if prefix is None else f"{prefix}.{name}"
    # Layers as written (an ARN, module.x.lambda_layer_arn): what they provide is not known.
    layers = block.body.get("layers")
    return FunctionSpec(
        layers=tuple(plain(str(layer))[:200] for layer in layers)
        if isinstance(layers, list)
        else (),
        name=function_name(label, block.origin),
        tool="terraform",
        code_dir=code_dir,
        handler=handler,
        runtime=runtime,
        architecture=arch,
        requirements=requirements if requirements is not None and requirements.is_file() else None,
        excludes=excludes,
        origin=block.origin,
    )


def _resource(
    scope: Scope, block: Block, name: str, prefix: str | None, notes: list[str]
) -> FunctionSpec | None:
    common = _common(scope, block, name, notes)
    if common is None:
        return None
    archive = _archive_of(scope, block)
    if archive is None:
        code = "in S3" if "s3_bucket" in block.body else "a zip built outside Terraform"
        notes.append(
            f"{block.origin}: {name}'s code is {code}, not a directory made into a zip by "
            'data "archive_file": not built here'
        )
        return None
    code_dir, excludes = _archive_code(scope, archive, name)
    return _spec(name, prefix, block, common, code_dir, code_dir / "requirements.txt", excludes)


def _archive_of(scope: Scope, block: Block) -> Block | None:
    raw = block.body.get("filename")
    named = re.search(r"data\.archive_file\.([\w-]+)\.output_path", str(raw or ""))
    if named:
        return scope.archives.get(named.group(1))
    filename = scope.resolve(raw)
    if not isinstance(filename, str):
        return None
    wanted = scope.path(filename).resolve()
    for archive in scope.archives.values():
        output = scope.resolve(archive.body.get("output_path"))
        if isinstance(output, str) and scope.path(output).resolve() == wanted:
            return archive
    return None


def _archive_code(scope: Scope, archive: Block, name: str) -> tuple[Path, tuple[str, ...]]:
    excludes = scope.resolve(archive.body.get("excludes")) or []
    if not isinstance(excludes, list):
        raise DeployConfigError(f"{archive.at('excludes')}: excludes is not a list of paths.")
    if "source_dir" in archive.body:
        source = scope.need(archive, "source_dir", "")
        said = archive.at("source_dir")
        code_dir = inside(scope.path(str(source)), scope.project_dir, said, f"the code of {name}")
        return code_dir, tuple(str(e) for e in excludes)
    if "source_file" in archive.body:
        file = scope.need(archive, "source_file", "")
        return _single_file(scope, str(file), archive.at("source_file"), name)
    raise DeployConfigError(
        f"{archive.origin}: {archive.address} zips neither a source_dir nor a source_file (inline "
        f"source content): declare {plain(name)} in [tool.lambda-zip.functions] to build it here."
    )


def _single_file(scope: Scope, value: str, said: Origin, name: str) -> tuple[Path, tuple[str, ...]]:
    """A zip of one file: its directory, with everything else beside it left out."""
    file = scope.path(value)
    code_dir = inside(file.parent, scope.project_dir, said, f"the code of {name}")
    if not file.is_file():
        raise DeployConfigError(f"{said}: {plain(str(value))} is not a file of the project.")
    others = sorted(child.name for child in code_dir.iterdir() if child.name != file.name)
    return code_dir, tuple(others)


def _makes_function(scope: Scope, block: Block, name: str, notes: list[str]) -> bool:
    """Whether the lambda module makes a function: not with create = false, nor with
    create_layer = true (it makes a layer then, whatever create_function says)."""
    body = block.body
    if scope.resolve(body.get("create_layer")) is True:
        notes.append(f"{block.origin}: {name} creates a layer: the functions that use it are "
                     "built, it is not")  # fmt: skip
        return False
    return False not in (scope.resolve(body.get("create")),
                         scope.resolve(body.get("create_function")))  # fmt: skip


def _lambda_module(
    scope: Scope, block: Block, name: str, prefix: str | None, notes: list[str]
) -> FunctionSpec | None:
    body = block.body
    if not _makes_function(scope, block, name, notes):
        return None
    prebuilt = ("local_existing_package", "s3_existing_package")
    if scope.resolve(body.get("create_package")) is False or any(k in body for k in prebuilt):
        notes.append(f"{block.origin}: {name} deploys a package built elsewhere: not built here")
        return None
    common = _common(scope, block, name, notes)
    if common is None:
        return None
    source = scope.need(block, "source_path", "name the directory of its code")
    said = block.at("source_path")
    if isinstance(source, list):
        if len(source) != 1:
            raise DeployConfigError(
                f"{said}: the source_path of {plain(name)} joins {len(source)} sources into one "
                "zip, which one code directory cannot say: declare the function in "
                "[tool.lambda-zip.functions] (one source, with its include and exclude globs)."
            )
        source = source[0]
    if isinstance(source, str):
        target = scope.path(source)
        if target.is_file():
            code_dir, excludes = _single_file(scope, source, said, name)
            return _spec(name, prefix, block, common, code_dir, None, excludes)
        code_dir = inside(target, scope.project_dir, said, f"the code of {name}")
        return _spec(name, prefix, block, common, code_dir, code_dir / "requirements.txt")
    if not isinstance(source, Mapping) or not isinstance(source.get("path"), str):
        raise DeployConfigError(f"{said}: the source_path of {plain(name)} names no path.")
    code_dir, requirements, excludes = _source_map(scope, source, said, name)
    return _spec(name, prefix, block, common, code_dir, requirements, excludes)


def _source_map(
    scope: Scope, source: Mapping[str, Any], said: Origin, name: str
) -> tuple[Path, Path | None, tuple[str, ...]]:
    """One source_path map: its code directory, dependency file and exclusions."""
    for key in ("commands", "prefix_in_zip", "npm_requirements", "poetry_install"):
        if source.get(key):
            raise DeployConfigError(
                f"{said}: the source_path of {plain(name)} sets {key}, a build step of the "
                "module's own that this tool does not reproduce: declare the function in "
                "[tool.lambda-zip.functions] to build it here."
            )
    code_dir = inside(scope.path(source["path"]), scope.project_dir, said, f"the code of {name}")
    wanted = source.get("pip_requirements")
    requirements = None  # the module installs nothing unless pip_requirements is set
    if wanted is True:
        requirements = code_dir / "requirements.txt"
    elif isinstance(wanted, str):
        requirements = scope.path(wanted)
        inside(requirements.parent, scope.project_dir, said, f"the requirements of {name}")
        if requirements.is_dir():
            requirements = requirements / "requirements.txt"
        if not requirements.is_file():
            raise DeployConfigError(f"{said}: {plain(wanted)} is not a file of the project.")
    return code_dir, requirements, _patterns(source.get("patterns"), said, name)


def _patterns(patterns: Any, said: Origin, name: str) -> tuple[str, ...]:
    """The module's `patterns` (regular expressions, `!` to leave out) as exclude globs."""
    if patterns is None:
        return ()
    if not isinstance(patterns, list):
        raise DeployConfigError(f"{said}: the patterns of {plain(name)} are not a list.")
    excludes = []
    for pattern in patterns:
        text = str(pattern).strip()
        glob = _regex_glob(text[1:]) if text.startswith("!") else None
        if glob is None:
            raise DeployConfigError(
                f"{said}: the source_path pattern {plain(text)!r} of {plain(name)} is not one "
                "this tool translates (only exclusions such as '!\\.venv/.*' or "
                "'!.*\\.txt'): declare the function in [tool.lambda-zip.functions] with "
                "exclude globs."
            )
        excludes.append(glob)
    return tuple(excludes)


def _regex_glob(regex: str) -> str | None:
    """`\\.venv/.*` -> `.venv`, `.*/.*\\.txt` -> `*.txt`, `.*\\.pyc` -> `*.pyc`; None if
    the expression is more than literal text and `.*`."""
    text = regex.removesuffix("/.*").removeprefix(".*/")
    if text in ("", ".*"):
        return None
    glob = []
    for piece in re.findall(r"\\.|\.\*|.", text):
        if piece in ("\\.", ".*"):
            glob.append("." if piece == "\\." else "*")
        elif piece.isalnum() or piece in "_-/":
            glob.append(piece)
        else:
            return None
    return "".join(glob)

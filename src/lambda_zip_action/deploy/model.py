"""The functions (and layers) a deploy configuration declares, each fact with where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Tool = Literal[
    "sam", "cloudformation", "serverless", "cdk", "terraform", "chalice", "zappa", "pyproject"
]


@dataclass(frozen=True)
class Origin:
    """Where a fact was read: a file (relative to the project when inside it) and a line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Declared:
    """One declared value and where it was declared."""

    value: str
    origin: Origin


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function to build, as its deploy tool declares it.

    `code_dir` is the directory the deploy tool packs (SAM's CodeUri, a CDK asset, Terraform's
    source_path, a Serverless service root or `module`), absolute and inside the project.
    `handler` is the handler string as declared (`app.lambda_handler`, `src/fn/app.handler`),
    relative to `code_dir`. `runtime` is the declared runtime identifier (`python3.12`), or None
    when the tool leaves it to the build machine (Chalice). `requirements` is the dependency file
    the deploy tool would install for this function (SAM: CodeUri/requirements.txt), or None.
    `excludes`/`includes` are globs relative to `code_dir` in the tool's packaging rules
    (Serverless `package.patterns`), translated to lambda-zip's exclude/include semantics.
    """

    name: str
    tool: Tool
    code_dir: Path
    handler: Declared | None
    runtime: Declared | None
    architecture: Declared | None
    requirements: Path | None = None
    layers: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    origin: Origin | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)
    # Modules the deploy tool adds to the package itself, as (requirement pinned in the
    # project, the files of it to ship): Chalice's runtime, chalice/__init__.py and app.py.
    support: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class LayerSpec:
    """A layer the deploy configuration builds from the project (SAM LayerVersion, ...)."""

    name: str
    tool: Tool
    content_dir: Path
    runtimes: tuple[Declared, ...] = ()
    architectures: tuple[Declared, ...] = ()
    build_method: str | None = None
    requirements: Path | None = None
    origin: Origin | None = None


@dataclass(frozen=True)
class DeployConfig:
    """Everything one project's deploy configuration declares."""

    tool: Tool
    files: tuple[Origin, ...]
    functions: tuple[FunctionSpec, ...]
    layers: tuple[LayerSpec, ...] = ()
    notes: tuple[str, ...] = ()

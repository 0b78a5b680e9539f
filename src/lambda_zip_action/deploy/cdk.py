"""The AWS CDK: the templates `cdk synth` writes to cdk.out/.

Each `AWS::Lambda::Function` whose code is an asset (`aws:asset:path` in its Metadata, a copy
of a project directory that cdk.out holds) is a function with its Handler, Runtime and
Architectures. The code is built from the project directory the asset was copied from, found
by its files (cdk.out is build output, often ignored by git); an asset that no project
directory matches (bundled, with its dependencies, by a PythonFunction) is built from cdk.out
as it is, with a note. Functions the CDK adds itself (custom resource providers, in other
languages) are left out with a note. A project with cdk.json and no cdk.out has to be
synthesized first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lambda_zip_action.deploy.model import Declared, DeployConfig, FunctionSpec, Origin
from lambda_zip_action.deploy.source import (
    architecture,
    function_name,
    inside,
    load_json,
    origin,
    python_runtime,
    relative,
)
from lambda_zip_action.errors import DeployConfigError
from lambda_zip_action.escape import plain

SKIPPED_DIRS = {"cdk.out", "node_modules", ".git", "__pycache__", ".venv", "venv", ".tox"}
# A project directory compared with an asset: at most this many files are hashed.
MAX_FILES = 2000


def find(project_dir: Path) -> Path | None:
    if (project_dir / "cdk.json").is_file():
        return project_dir / "cdk.json"
    return None


def read(path: Path, project_dir: Path) -> DeployConfig:
    out = project_dir / "cdk.out"
    file = Origin(relative(path, project_dir))
    if not (out / "manifest.json").is_file():
        raise DeployConfigError(
            f"{file} makes this a CDK app, but there is no cdk.out/manifest.json: the functions "
            "are known only once the app is synthesized. Run `cdk synth` first (it runs no "
            "deployment), or declare the functions in [tool.lambda-zip.functions]."
        )
    templates = sorted(out.rglob("*.template.json"))
    functions: list[FunctionSpec] = []
    notes: list[str] = []
    index = _Directories(project_dir)
    for template in templates:
        data = load_json(template, project_dir)
        resources = data.get("Resources") if isinstance(data, Mapping) else None
        if not isinstance(resources, Mapping):
            continue
        for name, resource in resources.items():
            if isinstance(resource, Mapping) and resource.get("Type") == "AWS::Lambda::Function":
                spec = _function(template, project_dir, name, resource, resources, index, notes)
                if spec is not None:
                    functions.append(spec)
    files = (file, *(Origin(relative(t, project_dir)) for t in templates))
    return DeployConfig("cdk", files, tuple(functions), (), tuple(notes))


def _function(
    template: Path,
    project_dir: Path,
    name: str,
    resource: Mapping[str, Any],
    resources: Any,
    index: _Directories,
    notes: list[str],
) -> FunctionSpec | None:
    said = origin(template, project_dir, resources, name)
    props: Mapping[str, Any] = _table(resource, "Properties")
    metadata: Mapping[str, Any] = _table(resource, "Metadata")
    runtime_said = origin(template, project_dir, props, "Runtime")
    runtime_value = props.get("Runtime")
    if not isinstance(runtime_value, str):
        notes.append(f"{said}: {name} has no plain Runtime: not built here")
        return None
    runtime = python_runtime(runtime_value, runtime_said, name)
    if runtime is None:
        notes.append(f"{said}: {name} runs {runtime_value}: not Python")
        return None
    asset = metadata.get("aws:asset:path")
    code = props.get("Code")
    if isinstance(code, Mapping) and "ZipFile" in code:
        notes.append(f"{said}: {name} has inline code: nothing to build")
        return None
    if not isinstance(asset, str):
        notes.append(f"{said}: {name}'s code is no asset of cdk.out: not built here")
        return None
    asset_said = origin(template, project_dir, metadata, "aws:asset:path")
    asset_dir = inside(template.parent / asset, project_dir, asset_said, f"the asset of {name}")
    code_dir = index.matching(asset_dir)
    entry = None if code_dir is not None else index.within(asset_dir)
    if entry is not None:
        code_dir = entry
        notes.append(
            f"{asset_said}: {name}'s asset holds {relative(entry, project_dir)} and more (the "
            "dependencies a bundling step installed, as PythonFunction does): built from "
            f"{relative(entry, project_dir)}, its requirements installed here"
        )
    if code_dir is None:
        code_dir = asset_dir
        notes.append(
            f"{asset_said}: {name}'s asset matches no project directory (bundled by "
            "the CDK?): built from cdk.out as it is"
        )
    handler = props.get("Handler")
    if not isinstance(handler, str):
        raise DeployConfigError(f"{said} declares {plain(name)} without a Handler.")
    arches = props.get("Architectures")
    requirements = code_dir / "requirements.txt"
    return FunctionSpec(
        name=function_name(name, said),
        tool="cdk",
        code_dir=code_dir,
        handler=Declared(handler, origin(template, project_dir, props, "Handler")),
        runtime=runtime,
        architecture=None
        if arches is None
        else architecture(arches, origin(template, project_dir, props, "Architectures"), name),
        requirements=requirements if requirements.is_file() else None,
        origin=said,
    )


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = data.get(key)
    return found if isinstance(found, Mapping) else {}


class _Directories:
    """Project directories by the digest of their files, to find the one an asset copies.

    Each file is hashed once (in chunks) and each directory's listing made once, however many
    assets and directories ask: a deep tree with a large file was read again per directory,
    per function."""

    def __init__(self, project_dir: Path) -> None:
        self.project_dir = project_dir
        self.digests: dict[str, Path] | None = None
        self.hashes: dict[Path, bytes] = {}
        self.trees: dict[Path, dict[str, bytes] | None] = {}

    def matching(self, asset: Path) -> Path | None:
        if self.digests is None:
            self.digests = {}
            for directory in _walk(self.project_dir):
                digest = self.digest(directory)
                if digest is not None:
                    self.digests.setdefault(digest, directory)
        wanted = self.digest(asset)
        return None if wanted is None else self.digests.get(wanted)

    def within(self, asset: Path) -> Path | None:
        """The project directory with the most files whose every file the asset holds, at the
        same place and with the same bytes (a bundled asset: the entry and its dependencies)."""
        held = self.files(asset)
        if not held:
            return None
        best: tuple[int, Path] | None = None
        for directory in _walk(self.project_dir):
            own = self.files(directory)
            bigger = best is None or len(own or ()) > best[0]
            if own and bigger and len(own) < len(held) and own.items() <= held.items():
                best = (len(own), directory)
        return None if best is None else best[1]

    def files(self, directory: Path) -> dict[str, bytes] | None:
        """The sha256 of each file under `directory` by its relative name; None when too many."""
        if directory not in self.trees:
            found: dict[str, bytes] | None = {}
            for path in sorted(directory.rglob("*")):
                parts = path.relative_to(directory).parts
                if any(p in SKIPPED_DIRS for p in parts) or not path.is_file() or path.is_symlink():
                    continue
                assert found is not None
                if len(found) >= MAX_FILES:
                    found = None
                    break
                found[path.relative_to(directory).as_posix()] = self.hash(path)
            self.trees[directory] = found
        return self.trees[directory]

    def digest(self, directory: Path) -> str | None:
        """The names and contents of the files under `directory` (caches left out), or None."""
        files = self.files(directory)
        if not files:
            return None
        digest = hashlib.sha256()
        for name, file_hash in files.items():
            digest.update(name.encode() + b"\0")
            digest.update(file_hash)
        return digest.hexdigest()

    def hash(self, path: Path) -> bytes:
        if path not in self.hashes:
            digest = hashlib.sha256()
            with path.open("rb") as stream:
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
            self.hashes[path] = digest.digest()
        return self.hashes[path]


def _walk(root: Path) -> Iterator[Path]:
    yield root
    try:
        children = sorted(root.iterdir())
    except OSError:
        return
    for child in children:
        if child.is_dir() and not child.is_symlink() and child.name not in SKIPPED_DIRS:
            yield from _walk(child)

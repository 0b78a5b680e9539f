"""`--split`: the function's own code and its dependencies as two reproducible zips.

One build installs, stages and compiles once and writes two packages:

- the function zip (`--output`, default dist/lambda.zip): the sources at the root, their
  bytecode compiled for /var/task;
- the layer zip (`--layer-output`, default `<output stem>-layer.zip` beside the function zip):
  the dependencies under `python/`, their bytecode compiled for /opt/python.

Each has its own manifest (`<zip>.manifest.json`), hashes and S3 ETags, and verify rebuilds and
compares both. A change to the handler then changes the function zip only: the layer keeps its
bytes, its hash and so its Terraform plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def default_layer_output(output: Path) -> Path:
    """dist/lambda.zip -> dist/lambda-layer.zip."""
    return output.with_name(f"{output.stem}-layer.zip")


def layer_paths(
    merged: Mapping[str, Any],
    output: Path,
    manifest: Path,
    layout: str,
    problems: list[str],
) -> tuple[bool, Path | None, Path | None]:
    """(split, layer zip, layer manifest) from the merged settings; problems are appended."""
    value = merged.get("split", False)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        value = value.strip().lower() == "true"
    if not isinstance(value, bool):
        problems.append(f"split {value!r} must be true or false")
        return False, None, None
    given = merged.get("layer_output")
    if not value:
        if given:
            problems.append(
                f"layer output {given} is given but split is not: add --split (or split = true) "
                "to build the dependencies as a layer"
            )
        return False, None, None
    if layout == "layer":
        problems.append(
            "split and layout layer exclude each other: split already writes the dependencies "
            "as a layer zip beside the function zip; drop --layout layer"
        )
    layer = Path(str(given)) if given else default_layer_output(output)
    if not layer.is_absolute():
        layer = Path.cwd() / layer
    layer_manifest = layer.with_name(layer.name + ".manifest.json")
    if layer.resolve() in (output.resolve(), manifest.resolve()) or layer_manifest.resolve() in (
        output.resolve(),
        manifest.resolve(),
    ):
        problems.append(
            f"layer output {layer} would overwrite the function zip or its manifest; give "
            "--layer-output another name"
        )
    if layer.exists() and layer.is_dir():
        problems.append(f"layer output {layer} is a directory; give a file name")
    # Inside a source directory is fine: the build never packs its outputs' directories.
    return True, layer, layer_manifest


__all__ = ["default_layer_output", "layer_paths"]

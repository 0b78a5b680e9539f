"""The tree the installers left, made the same whichever installer wrote it, then checked.

`normalize_tree` removes what differs between installers and machines and keeps what
importlib.metadata reads; the checks refuse two distributions that install the same file
(`check_claims`) and native code built for this machine instead of the target
(`check_platform`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name

from lambda_zip_action import records
from lambda_zip_action.errors import InstallError
from lambda_zip_action.installers import InstallRequest

# Files the installers write that say who installed, when asked, or from which local path;
# uv adds cache keys (with timestamps) for packages it built from a local directory.
INSTALLER_FILES = ("INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json", "uv_build.json")
# Lock files installers leave in a --target directory.
TARGET_LEFTOVERS = (".lock",)
# Where both installers put a wheel's .data/headers in a --target directory.
HEADERS_DIR = "include"


@dataclass(frozen=True)
class Distribution:
    """An installed distribution as the manifest lists it: PEP 503 name, origin, wheel tags."""

    name: str
    version: str
    source: str
    tags: tuple[str, ...]


def normalize_tree(target: Path, relative_to: str = "") -> tuple[Distribution, ...]:
    """Remove what differs between installers and machines; keep what importlib.metadata reads.

    `relative_to` is the directory the installer's RECORD rows are relative to (see records).
    What each part of a wheel becomes:

    - purelib and platlib (`.data/purelib`, `.data/platlib` included) ship at the root;
    - `.data/headers` is removed: nothing compiles against headers on Lambda, and uv and pip
      put them in different places (`include/<name>/`, `include/python/<name>/`);
    - `.data/scripts` is removed with `bin/`: launchers name the build machine's Python;
    - `.data/data` ships where both installers put it (the target root, as `pip -t` does), and
      RECORD lists it whichever installer wrote it;
    - directories left empty (a wheel's `PyYAML.libs/`, which uv creates and pip does not)
      are removed.
    """
    for leftover in ("bin", *TARGET_LEFTOVERS):
        path = target / leftover
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    for directory, dirnames, filenames in os.walk(target):
        if "__pycache__" in dirnames:
            shutil.rmtree(Path(directory) / "__pycache__")
            dirnames.remove("__pycache__")
        for name in filenames:
            if name.endswith((".pyc", ".pyo")):
                (Path(directory) / name).unlink()
    distributions = []
    for dist_info in records.dist_infos(target):
        source = _source(dist_info)
        for name in INSTALLER_FILES:
            (dist_info / name).unlink(missing_ok=True)
        kept = []
        for row in records.read_record(dist_info, relative_to):
            path = target / row.path
            if row.path.split("/")[0] == HEADERS_DIR:
                if path.is_file() and not path.is_symlink():
                    path.unlink()
            elif (
                not row.path.endswith((".pyc", ".pyo"))
                and "__pycache__" not in row.path
                and path.is_file()
            ):
                kept.append(row)
        records.write_record(dist_info, kept)
        distributions.append(_distribution(dist_info, source))
    _remove_empty_directories(target)
    check_claims(target)
    return tuple(sorted(distributions, key=lambda d: d.name.lower()))


def _remove_empty_directories(target: Path) -> None:
    for directory, _, filenames in os.walk(target, topdown=False):
        path = Path(directory)
        if path != target and not filenames and not any(path.iterdir()):
            path.rmdir()


def check_claims(target: Path) -> None:
    """Refuse two distributions that install the same file.

    Which copy ends up on disk depends on the installer and its order (uv merges, pip keeps
    the first and warns), so the package would depend on who built it.
    """
    owners: dict[str, list[str]] = {}
    for path, dist_info in records.claims(target):
        owners.setdefault(path, []).append(dist_info)
    clashes: dict[tuple[str, ...], list[str]] = {}
    for path, claimants in sorted(owners.items()):
        labels = tuple(sorted({records.dist_label(c) for c in claimants}))
        if len(labels) > 1:
            clashes.setdefault(labels, []).append(path)
    if clashes:
        described = []
        for labels, paths in clashes.items():
            tops = sorted({p.split("/")[0] + ("/" if "/" in p else "") for p in paths})
            examples = ", ".join(paths[:2]) + (", ..." if len(paths) > 2 else "")
            described.append(
                f"{' and '.join(labels)} both install {', '.join(tops)} "
                f"({len(paths)} files: {examples})"
            )
        raise InstallError(
            "Two distributions install the same files: "
            + "; ".join(described)
            + ". Which copy wins depends on the installer and its order, so the package would "
            "not be reproducible. Keep only one of them in the lock (often one is an "
            "unrelated package with the same import name)."
        )


def _source(dist_info: Path) -> str:
    direct_url = dist_info / "direct_url.json"
    if not direct_url.is_file():
        return "index"
    try:
        data = json.loads(direct_url.read_text(encoding="utf-8"))
    except (ValueError, OSError, RecursionError):  # a wheel may ship its own, of any shape
        return "direct"
    if not isinstance(data, dict):
        return "direct"
    url = str(data.get("url", ""))
    if isinstance(data.get("vcs_info"), dict):
        vcs = data["vcs_info"]
        return f"{vcs.get('vcs', 'vcs')}+{url}@{vcs.get('commit_id', '')}"
    if url.startswith("file:"):
        # A local path names the build machine: keep the last component only.
        return "file:" + url.rstrip("/").rsplit("/", 1)[-1]
    return url


def _distribution(dist_info: Path, source: str) -> Distribution:
    metadata = HeaderParser().parsestr(
        (dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
    )
    tags: tuple[str, ...] = ()
    wheel = dist_info / "WHEEL"
    if wheel.is_file():
        parsed = HeaderParser().parsestr(wheel.read_text(encoding="utf-8", errors="replace"))
        tags = expand_tags(parsed.get_all("Tag") or ())
    return Distribution(
        name=canonicalize_name(str(metadata.get("Name", records.distribution_name(dist_info)))),
        version=str(metadata.get("Version", "")),
        source=source,
        tags=tags,
    )


def expand_tags(lines: Iterable[str]) -> tuple[str, ...]:
    """Every tag a WHEEL's `Tag:` lines stand for, compressed sets expanded (PEP 425)."""
    expanded: set[str] = set()
    for line in lines:
        try:
            expanded.update(str(tag) for tag in parse_tag(line.strip()))
        except ValueError:
            expanded.add(line.strip())
    return tuple(sorted(expanded))


def check_platform(distributions: tuple[Distribution, ...], request: InstallRequest) -> None:
    """Refuse native code that was built for the host instead of downloaded for the target.

    Installers build sdists on the host; a pure-Python one is fine anywhere, a native one would
    give a library for the wrong glibc or machine, which fails only on Lambda.
    """
    allowed = set(request.runtime.pip_platforms(request.architecture)) | {"any"}
    wrong = []
    for distribution in distributions:
        platforms = {tag.rsplit("-", 1)[-1] for tag in distribution.tags}
        if platforms and not platforms & allowed:
            wrong.append(
                f"{distribution.name} {distribution.version} ({', '.join(sorted(platforms))})"
            )
    if wrong:
        raise InstallError(
            f"No wheel for {request.runtime.identifier} on {request.architecture} "
            f"({request.runtime.uv_platform(request.architecture)}) for: {'; '.join(wrong)}. "
            "The installer built native code for this machine from the source distribution, "
            "which would fail on Lambda. Choose a version that publishes manylinux wheels for "
            "the target, or build that wheel for the target and install it from a local index."
        )

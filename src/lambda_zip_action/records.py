"""Wheel RECORD files: read once, rewritten in one form, and checked (hashes, owners).

A RECORD row names a file relative to the directory its wheel's purelib went to. uv's
`--target` puts purelib at the target itself; pip's `--target` installs into a home scheme
(`<home>/lib/python`) and then moves every directory of that home into the target, so its rows
for `.data/headers`, `.data/data` and `.data/scripts` read `../../include/...`. `relative_to`
says which directory the rows of a tree are relative to, and every row is mapped to a path in
the target before anything else looks at it.
"""

from __future__ import annotations

import base64
import csv
import io
import posixpath
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from packaging.utils import canonicalize_name

from lambda_zip_action.errors import InstallError


@dataclass(frozen=True)
class RecordRow:
    path: str  # relative to the target, "/"-separated
    hash: str  # "sha256=<urlsafe base64>", or ""
    size: str

    @property
    def sha256(self) -> str | None:
        """The hex digest the row pins, or None when it pins none."""
        if not self.hash.startswith("sha256="):
            return None
        digest = self.hash.removeprefix("sha256=")
        return base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4)).hex()


def dist_infos(target: Path) -> list[Path]:
    return sorted(target.glob("*.dist-info"))


def read_record(dist_info: Path, relative_to: str = "") -> list[RecordRow]:
    """The rows of `dist_info`/RECORD as target paths; rows that leave the target are dropped."""
    record = dist_info / "RECORD"
    if not record.is_file():
        return []
    rows = []
    for row in csv.reader(io.StringIO(record.read_text(encoding="utf-8"))):
        if not row or not row[0]:
            continue
        path = target_path(row[0], relative_to)
        if path is not None:
            rows.append(RecordRow(path, *(row[1:3] + [""] * (3 - len(row)))[:2]))
    return rows


def target_path(path: str, relative_to: str) -> str | None:
    """`path` of a RECORD row as a path inside the target, or None if it leads outside."""
    if path.startswith("/") or "\\" in path:
        return None
    joined = posixpath.normpath(posixpath.join(relative_to, path)) if relative_to else path
    normal = posixpath.normpath(joined)
    if normal.startswith("../") or normal in ("..", "."):
        return None
    if relative_to and normal.startswith(relative_to + "/"):
        return normal[len(relative_to) + 1 :]
    return normal


def write_record(dist_info: Path, rows: Iterable[RecordRow]) -> None:
    """RECORD in one form: sorted, one row per path, its own row without a hash."""
    own = f"{dist_info.name}/RECORD"
    by_path = {row.path: row for row in rows if row.path != own}
    by_path[own] = RecordRow(own, "", "")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path in sorted(by_path):
        row = by_path[path]
        writer.writerow([row.path, row.hash, row.size])
    # A new file renamed over the old: RECORD may be a hard link into the installer's cache.
    replacement = dist_info / "RECORD.normalized"
    replacement.write_text(out.getvalue(), encoding="utf-8")
    replacement.replace(dist_info / "RECORD")


def distribution_name(dist_info: Path) -> str:
    return dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0]


def dist_label(dist_info_name: str) -> str:
    """`Foo_Bar-1.0.dist-info` -> `foo-bar 1.0`: how messages name a distribution."""
    name, _, version = dist_info_name.removesuffix(".dist-info").rpartition("-")
    return f"{canonicalize_name(name)} {version}"


def claims(target: Path) -> Iterator[tuple[str, str]]:
    """(target path, distribution directory name) for every file a normalised RECORD lists."""
    for dist_info in dist_infos(target):
        for row in read_record(dist_info):
            if not row.path.startswith(dist_info.name + "/"):
                yield row.path, dist_info.name


def record_hashes(target: Path) -> dict[str, str]:
    """Target path -> sha256 hex, as each wheel's RECORD says the file must be."""
    expected = {}
    for dist_info in dist_infos(target):
        for row in read_record(dist_info):
            digest = row.sha256
            if digest is not None:
                expected[row.path] = digest
    return expected


def installed_by(target: Path) -> dict[str, str]:
    """Target path -> the .dist-info directory name of the distribution that installed it.

    Every file a normalised RECORD lists, and each .dist-info's own RECORD. Where two
    distributions list a path (check_claims refuses that), the first in name order wins.
    `owners` and `file_owners` are the two views callers need of it.
    """
    owned: dict[str, str] = {}
    for path, dist_dir in claims(target):
        owned.setdefault(path, dist_dir)
    for dist_info in dist_infos(target):
        owned.setdefault(f"{dist_info.name}/RECORD", dist_info.name)
    return owned


def owners(target: Path) -> dict[str, str]:
    """Top-level names -> the distribution that installed them, as its .dist-info spells it.

    The size report's view: a directory or module at the root counts for whoever installed
    its first file.
    """
    owned: dict[str, str] = {}
    for path, dist_dir in installed_by(target).items():
        owned.setdefault(path.split("/")[0], dist_dir.split("-")[0])
    return owned


class HashedEntry(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def sha256(self) -> str | None: ...


def check_record_hashes(
    written: Iterable[HashedEntry], expected: Mapping[str, str], prefix: str = ""
) -> None:
    """Every installed file must still be the bytes its wheel shipped.

    Installers link files out of their caches; anything that later edits an installed copy in
    place (a certificate bundle patched, a "quick fix" to a dependency) edits the cache too,
    and every later build would ship it. The hashes come for free: the archive computed them.
    `expected` is `record_hashes` of the installed tree; `prefix` is the archive's path to it.
    """
    wrong = [
        entry.name
        for entry in written
        if entry.sha256 is not None
        and expected.get(entry.name.removeprefix(prefix), entry.sha256) != entry.sha256
    ]
    if wrong:
        shown = ", ".join(wrong[:5]) + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        raise InstallError(
            f"Installed files differ from what their wheels' RECORD says: {shown}. The "
            "installer's cache has probably been modified through a hard link; clear it "
            "(`uv cache clean <package>` or `pip cache purge`) and build again. Nothing was "
            "written."
        )


def bytecode_source(name: str) -> str | None:
    """`a/__pycache__/m.cpython-312.pyc` -> `a/m.py`; None for anything else."""
    directory, _, filename = name.rpartition("/")
    parent, _, last = directory.rpartition("/")
    if last != "__pycache__" or not filename.endswith(".pyc"):
        return None
    return (parent + "/" if parent else "") + filename.split(".")[0] + ".py"


def file_owners(target: Path) -> dict[str, str]:
    """Target path -> the PEP 503 name of the distribution that installed it (the manifest's)."""
    return {
        path: canonicalize_name(distribution_name(Path(dist_dir)))
        for path, dist_dir in installed_by(target).items()
    }


def owner_of(name: str, owned: Mapping[str, str]) -> str | None:
    """The distribution owning archive entry `name` (its bytecode too), None for own code."""
    if name in owned:
        return owned[name]
    source = bytecode_source(name)
    if source is not None and source in owned:
        return owned[source]
    if name.endswith(".dist-info/"):
        return owned.get(name.rstrip("/") + "/RECORD")
    top, _, rest = name.partition("/")
    if rest and top.endswith(".dist-info"):
        # METADATA, WHEEL, licenses/: file_owners leaves a .dist-info's own rows out, and they
        # are its distribution's as much as its RECORD is (not the project's own code).
        return owned.get(top + "/RECORD")
    return None

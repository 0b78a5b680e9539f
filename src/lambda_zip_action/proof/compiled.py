"""Compiled code in a zip: bytecode and native libraries, and whether the target can use them.

The target Python is inferred from the magic numbers of the `.pyc`, the architecture from ELF
headers, when they are not given. Bytecode for another interpreter, timestamp `.pyc` that go
stale once extracted, and loadable code for another OS or machine become findings. Native code
is recognised by its magic number, not its name.
"""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass

from lambda_zip_action.own_files import HEAD_BYTES, LOADABLE, binary_format, elf_machine
from lambda_zip_action.proof.model import Finding, NativeLibrary
from lambda_zip_action.records import bytecode_source
from lambda_zip_action.runtimes import ARCHITECTURES, RUNTIMES
from lambda_zip_action.zip.structure import ZipEntry

HEAD = HEAD_BYTES
# Older interpreters' magic numbers, so their bytecode is named rather than "unknown".
OLDER_MAGIC = {3379: "3.6", 3394: "3.7", 3413: "3.8", 3425: "3.9"}
MAGIC_VERSIONS = {**OLDER_MAGIC, **{r.magic: v for v, r in RUNTIMES.items()}}


@dataclass(frozen=True)
class Pyc:
    path: str
    version: str | None
    magic: int
    timestamp: bool
    source_mtime: int = 0  # timestamp .pyc only: what the source's mtime and size must be
    source_size: int = 0


def examples(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def read_pyc(entry: ZipEntry, head: bytes | None) -> Pyc | None:
    if not entry.name.endswith(".pyc") or head is None or len(head) < 16 or head[2:4] != b"\r\n":
        return None
    magic = int.from_bytes(head[:2], "little")
    flags = int.from_bytes(head[4:8], "little")
    mtime = int.from_bytes(head[8:12], "little")
    size = int.from_bytes(head[12:16], "little")
    return Pyc(entry.name, MAGIC_VERSIONS.get(magic), magic, flags == 0, mtime, size)


def read_native(entry: ZipEntry, head: bytes | None) -> NativeLibrary | None:
    kind = binary_format(entry.name, head, entry.uncompressed_size)
    if kind is None:
        return None
    return NativeLibrary(entry.name, kind, elf_machine(head) if kind == "ELF" else None)


def infer_python(pycs: list[Pyc], inferred: list[str]) -> str | None:
    versions = Counter(p.version for p in pycs if p.version in RUNTIMES)
    if not versions:
        return None
    version, count = versions.most_common(1)[0]
    inferred.append(f"Python {version} inferred from {count} .pyc files")
    return version


def infer_architecture(
    natives: list[NativeLibrary], inferred: list[str], findings: list[Finding]
) -> str | None:
    arches = Counter(n.architecture for n in natives if n.format == "ELF")
    lambda_arches = [a for a in ARCHITECTURES if arches.get(a)]
    if len(lambda_arches) > 1:
        findings.append(
            Finding(
                "mixed-architectures",
                "error",
                None,
                f"ELF files for both x86_64 ({arches['x86_64']}) and arm64 ({arches['arm64']}): "
                "one set cannot load; give --architecture to see which",
            )
        )
        return None
    if lambda_arches:
        arch = lambda_arches[0]
        inferred.append(f"architecture {arch} inferred from {arches[arch]} ELF files")
        return arch
    return None


def bytecode_findings(pycs: list[Pyc], names: set[str], target: str | None) -> list[Finding]:
    """At most one finding per .pyc: optimized, or for another interpreter (sourceless: an
    import that fails)."""
    found: list[Finding] = []
    tag = f"cpython-{target.replace('.', '')}" if target else None
    for pyc in pycs:
        directory, _, filename = pyc.path.rpartition("/")
        cached = directory.split("/")[-1] == "__pycache__"
        built = pyc.version or f"unknown magic {pyc.magic}"
        if ".opt-1." in filename or ".opt-2." in filename:
            found.append(
                Finding("pyc-optimized", "warning", pyc.path, "optimized bytecode: never read")
            )
        elif cached and tag is not None and f".{tag}." not in filename:
            found.append(
                Finding(
                    "pyc-other-version",
                    "warning",
                    pyc.path,
                    f"bytecode cached for Python {built}, not {target}: ignored, dead weight",
                )
            )
        elif target is not None and pyc.version != target:
            sourceless = not cached and _source_of(pyc.path) not in names
            found.append(
                Finding(
                    "pyc-wrong-magic",
                    "error" if sourceless else "warning",
                    pyc.path,
                    f"bytecode for Python {built}, not {target}: "
                    + ("no source beside it, so the import fails" if sourceless else "ignored"),
                )
            )
    return found


def _source_of(pyc_path: str) -> str:
    """The source a .pyc stands for: `a/__pycache__/m.cpython-312.pyc` -> `a/m.py`."""
    return bytecode_source(pyc_path) or pyc_path[:-1]


def timestamp_pyc_findings(pycs: list[Pyc], by_name: dict[str, ZipEntry]) -> list[Finding]:
    """Timestamp .pyc are used only while the extracted source's mtime and size match them.

    An extractor sets the source's mtime from the entry's DOS time, read as local time (UTC on
    Lambda), with 2-second resolution. So a timestamp .pyc is used on Lambda only if the zip
    stores its source's time in UTC, to an even second, and the source was not touched after
    compiling; a sourceless .pyc is always used.
    """
    used, stale, sourceless = [], [], []
    offsets: Counter[int] = Counter()
    for pyc in pycs:
        if not pyc.timestamp:
            continue
        source = by_name.get(_source_of(pyc.path))
        if source is None:
            sourceless.append(pyc.path)
            continue
        try:
            stored = calendar.timegm((*source.date_time, 0, 0, 0))
        except (OverflowError, ValueError):
            stored = -1
        if stored == pyc.source_mtime and source.uncompressed_size == pyc.source_size:
            used.append(pyc.path)
        else:
            stale.append(pyc.path)
            if source.uncompressed_size == pyc.source_size and stored >= 0:
                offsets[stored - pyc.source_mtime] += 1
    found = []
    if stale:
        why = []
        hours = [o for o in offsets if o and o % 1800 == 0]
        if hours:
            why.append(
                f"the zip stores times {hours[0] / 3600:+g} h from the compile time, as a zip "
                "written in a local time zone does"
            )
        if offsets.get(1) or offsets.get(-1):
            why.append("odd-second mtimes, which a zip's 2-second DOS time cannot hold")
        if not why:
            why.append("sources touched or changed after compiling, or another date in the zip")
        found.append(
            Finding(
                "pyc-timestamp-stale",
                "warning",
                None,
                f"{len(stale)} timestamp .pyc will be stale on Lambda (e.g. {examples(stale)}): "
                f"the source's stored time or size differs from the one in the .pyc "
                f"({'; '.join(why)}). Python then compiles those modules on every cold start; "
                "ship hash-based .pyc (unchecked-hash) instead",
            )
        )
    if used:
        found.append(
            Finding(
                "pyc-timestamp",
                "info",
                None,
                f"{len(used)} timestamp .pyc match their source's stored time and size (e.g. "
                f"{examples(used)}): used on Lambda, which extracts in UTC, but stale wherever "
                "the zip is extracted in another time zone or the files are touched; hash-based "
                ".pyc do not depend on either",
            )
        )
    if sourceless:
        found.append(
            Finding(
                "pyc-timestamp-sourceless",
                "info",
                None,
                f"{len(sourceless)} timestamp .pyc without a source beside them (e.g. "
                f"{examples(sourceless)}): always used",
            )
        )
    return found


def native_findings(natives: list[NativeLibrary], architecture: str | None) -> list[Finding]:
    """Loadable code for another OS or machine is an error; any other binary is a note.

    Other binaries (setuptools' `cli-64.exe` launchers, a bundled tool) are never loaded by
    the import system: dead weight, or a problem only if the code runs them.
    """
    found: list[Finding] = []
    foreign_os, foreign_machine = [], []
    for native in natives:
        loadable = bool(LOADABLE.search(native.path.rsplit("/", 1)[-1]))
        if native.format != "ELF":
            if loadable:
                found.append(
                    Finding(
                        "wrong-os-binary",
                        "error",
                        native.path,
                        f"a {native.format} library (macOS/Windows): it cannot load on "
                        "Lambda's Linux",
                    )
                )
            else:
                foreign_os.append(native.path)
        elif architecture is not None and native.architecture != architecture:
            if loadable:
                found.append(
                    Finding(
                        "wrong-architecture",
                        "error",
                        native.path,
                        f"ELF for {native.architecture}, but the target is {architecture}",
                    )
                )
            else:
                foreign_machine.append(native.path)
    if foreign_os:
        found.append(
            Finding(
                "foreign-binary",
                "info",
                None,
                f"{len(foreign_os)} macOS/Windows programs that Python never loads (e.g. "
                f"{examples(foreign_os)}): dead weight on Lambda unless the code runs them",
            )
        )
    if foreign_machine:
        found.append(
            Finding(
                "foreign-machine-program",
                "info",
                None,
                f"{len(foreign_machine)} ELF programs for another machine than {architecture} "
                f"(e.g. {examples(foreign_machine)}): they fail if the code runs them",
            )
        )
    return found

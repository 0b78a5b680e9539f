"""Lint any Lambda zip: what makes it non-reproducible, and what breaks it on Lambda.

Only structure and the first 64 bytes of each file are read (through the bounded reader in
`zipread`), so inspecting a hostile archive costs no more than its central directory. Native
libraries are recognised by their magic numbers, not their names, and the target Python and
architecture are inferred from bytecode and ELF headers when not given.
"""

from __future__ import annotations

import calendar
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lambda_zip_action.credentials import is_secret
from lambda_zip_action.diff import Distribution, kebab_document, read_distributions
from lambda_zip_action.errors import ConfigError
from lambda_zip_action.escape import plain as _plain
from lambda_zip_action.limits import UNZIPPED_LIMIT, ZIPPED_LIMIT
from lambda_zip_action.records import bytecode_source
from lambda_zip_action.runtimes import ARCHITECTURES, RUNTIMES
from lambda_zip_action.zipformat import UNIX
from lambda_zip_action.zipread import ZipEntry, ZipFinding, ZipReader

Severity = Literal["error", "warning", "info"]

FIXED_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
FIXED_DOS_TIME = 0
HEAD = 64
ELF_MACHINES = {62: "x86_64", 183: "arm64", 3: "i386", 40: "arm"}
MACHO_MAGICS = {0xFEEDFACE, 0xFEEDFACF, 0xCAFEBABE, 0xCEFAEDFE, 0xCFFAEDFE, 0xBEBAFECA}
PE_SUFFIXES = (".dll", ".pyd", ".exe", ".so")
# Older interpreters' magic numbers, so their bytecode is named rather than "unknown".
OLDER_MAGIC = {3379: "3.6", 3394: "3.7", 3413: "3.8", 3425: "3.9"}
MAGIC_VERSIONS = {**OLDER_MAGIC, **{r.magic: v for v, r in RUNTIMES.items()}}

_ZIP_SEVERITY: dict[str, Severity] = {
    "backslash-name": "warning",
    "bad-extra-field": "warning",
    "entry-count-mismatch": "warning",
    "invalid-utf8-name": "warning",
    "prepended-data": "warning",
    "trailing-data": "warning",
}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    entry: str | None
    message: str
    # Every entry with this cause, when one finding stands for several (see _one_per_cause).
    entries: tuple[str, ...] = ()


@dataclass(frozen=True)
class NativeLibrary:
    path: str
    format: str
    architecture: str | None


@dataclass(frozen=True)
class InspectionSummary:
    entries: int
    files: int
    unzipped_size: int
    compressed_size: int
    size: int
    distributions: tuple[Distribution, ...]
    python_versions: tuple[str, ...]
    native_libraries: tuple[NativeLibrary, ...]
    python_version: str | None
    architecture: str | None
    inferred: tuple[str, ...]
    """How the target was inferred when it was not given."""


@dataclass(frozen=True)
class InspectionResult:
    path: str
    findings: tuple[Finding, ...]
    summary: InspectionSummary


@dataclass(frozen=True)
class _Pyc:
    path: str
    version: str | None
    magic: int
    timestamp: bool
    source_mtime: int = 0  # timestamp .pyc only: what the source's mtime and size must be
    source_size: int = 0


def inspect_zip(
    path: Path, python_version: str | None, architecture: str | None
) -> InspectionResult:
    """Lint the zip at `path` for the given target (inferred from the contents when None)."""
    if python_version is not None and python_version not in MAGIC_VERSIONS.values():
        known = ", ".join(RUNTIMES)
        raise ConfigError(f"Unknown Python version {python_version!r}: use one of {known}.")
    if architecture is not None and architecture not in ARCHITECTURES:
        raise ConfigError(f"Unknown architecture {architecture!r}: use x86_64 or arm64.")
    findings: list[Finding] = []
    with ZipReader(path) as reader:
        archive = reader.archive
        findings += [_from_zip(f) for f in archive.findings]
        heads = {
            e.index: reader.read_head(e, HEAD)
            for e in archive.entries
            if not e.is_dir and e.uncompressed_size
        }
        distributions = read_distributions(reader)
        # Every entry is read through (bounded): a corrupt or lying entry would fail on Lambda.
        for entry in archive.entries:
            if not entry.is_dir:
                content = reader.hash_entry(entry)
                if content.finding is not None:
                    findings.append(_from_zip(content.finding))
    entries = archive.entries
    findings += _reproducibility(entries)
    findings += _lambda_breakers(entries, reader)
    pycs = [p for e in entries if (p := _pyc(e, heads.get(e.index))) is not None]
    natives = [n for e in entries if (n := _native(e, heads.get(e.index))) is not None]
    inferred: list[str] = []
    if python_version is None:
        python_version = _infer_python(pycs, inferred)
    if architecture is None:
        architecture = _infer_architecture(natives, inferred, findings)
    findings += _bytecode(pycs, {e.name for e in entries}, python_version)
    findings += _timestamp_pycs(pycs, {e.name: e for e in entries})
    findings += _native_findings(natives, architecture)
    findings += _contents(entries, heads, python_version)
    unzipped = sum(e.uncompressed_size for e in entries)
    findings += _sizes(archive.size, unzipped)
    summary = InspectionSummary(
        entries=len(entries),
        files=sum(1 for e in entries if not e.is_dir),
        unzipped_size=unzipped,
        compressed_size=sum(e.compressed_size for e in entries),
        size=archive.size,
        distributions=distributions,
        python_versions=tuple(sorted({p.version or f"magic {p.magic}" for p in pycs})),
        native_libraries=tuple(natives),
        python_version=python_version,
        architecture=architecture,
        inferred=tuple(inferred),
    )
    return InspectionResult(str(path), tuple(_one_per_cause(findings)), summary)


def _from_zip(finding: ZipFinding) -> Finding:
    severity = _ZIP_SEVERITY.get(finding.code, "error")
    return Finding(finding.code, severity, finding.entry, finding.message)


def _examples(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _reproducibility(entries: tuple[ZipEntry, ...]) -> list[Finding]:
    found: list[Finding] = []

    def warn(code: str, names: list[str], what: str) -> None:
        if names:
            message = f"{what}: {len(names)} entries (e.g. {_examples(names)})"
            found.append(Finding(code, "warning", None, message))

    dates = Counter((e.dos_date, e.dos_time) for e in entries)
    if len(dates) > 1:
        common = dates.most_common(1)[0][0]
        odd = [e.name for e in entries if (e.dos_date, e.dos_time) != common]
        warn("timestamps-differ", odd, "entries carry different dates: real file times")
    elif dates and (FIXED_DOS_DATE, FIXED_DOS_TIME) not in dates:
        y, mo, d, h, mi, sec = entries[0].date_time
        date = f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{sec:02d}"
        found.append(
            Finding(
                "timestamps-not-fixed",
                "info",
                None,
                f"every entry is dated {date}, not 1980-01-01 00:00: reproducible only if that "
                "date is itself fixed (SOURCE_DATE_EPOCH)",
            )
        )
    extras = [e.name for e in entries if e.extra or (e.local is not None and e.local.extra)]
    warn("extra-fields", extras, "extra fields (timestamps, uid/gid) are stored")
    names = [e.name.encode("utf-8", "surrogatepass") for e in entries]
    unsorted = [entries[i].name for i in range(1, len(names)) if names[i] < names[i - 1]]
    warn("unsorted-entries", unsorted, "entries are not sorted by UTF-8 name")
    odd_modes = [
        f"{e.name} ({e.mode & 0o7777:04o})"
        for e in entries
        if e.mode is not None and e.mode & 0o7777 not in ((0o755,) if e.is_dir else (0o644, 0o755))
    ]
    warn("odd-modes", odd_modes, "modes other than 0644/0755 for files and 0755 for directories")
    not_unix = [e.name for e in entries if e.create_system != UNIX]
    warn("create-system-not-unix", not_unix, "create_system is not unix (3)")
    descriptors = [e.name for e in entries if e.has_data_descriptor]
    warn("data-descriptors", descriptors, "data descriptors follow the data")
    return found


def _lambda_breakers(entries: tuple[ZipEntry, ...], reader: ZipReader) -> list[Finding]:
    found: list[Finding] = []
    limits = reader.limits
    for entry in entries:
        mode = entry.mode
        if entry.is_symlink:
            found.append(
                Finding(
                    "symlink",
                    "error",
                    entry.name,
                    "a symlink entry: extracted as a link (or a file holding its target), it "
                    "breaks or escapes the package; store the file itself",
                )
            )
        elif mode is not None:
            needed = 0o005 if entry.is_dir else 0o004
            if mode & needed != needed:
                kind = "directory" if entry.is_dir else "file"
                found.append(
                    Finding(
                        "not-world-readable",
                        "error",
                        entry.name,
                        f"{kind} mode {mode & 0o7777:04o}: Lambda's runtime user is not the "
                        "owner and gets EACCES (use 0644 files, 0755 directories)",
                    )
                )
        declared = entry.uncompressed_size
        if (
            declared > limits.ratio_free_bytes
            and declared > entry.compressed_size * limits.max_ratio
        ):
            found.append(
                Finding(
                    "ratio-exceeded",
                    "error",
                    entry.name,
                    f"claims {declared} bytes from {entry.compressed_size} compressed (zip bomb?)",
                )
            )
    return found


def _pyc(entry: ZipEntry, head: bytes | None) -> _Pyc | None:
    if not entry.name.endswith(".pyc") or head is None or len(head) < 16 or head[2:4] != b"\r\n":
        return None
    magic = int.from_bytes(head[:2], "little")
    flags = int.from_bytes(head[4:8], "little")
    mtime = int.from_bytes(head[8:12], "little")
    size = int.from_bytes(head[12:16], "little")
    return _Pyc(entry.name, MAGIC_VERSIONS.get(magic), magic, flags == 0, mtime, size)


def _native(entry: ZipEntry, head: bytes | None) -> NativeLibrary | None:
    if head is None or len(head) < 4:
        return None
    if head[:4] == b"\x7fELF" and len(head) >= 20:
        order: Literal["little", "big"] = "little" if head[5] == 1 else "big"
        machine = int.from_bytes(head[18:20], order)
        return NativeLibrary(entry.name, "ELF", ELF_MACHINES.get(machine, f"machine {machine}"))
    magic = int.from_bytes(head[:4], "big")
    if magic in MACHO_MAGICS and not entry.name.endswith(".class"):
        return NativeLibrary(entry.name, "Mach-O", None)
    if head[:2] == b"MZ" and len(head) >= HEAD:
        pe_offset = int.from_bytes(head[0x3C:0x40], "little")
        if entry.name.lower().endswith(PE_SUFFIXES) or HEAD <= pe_offset < entry.uncompressed_size:
            return NativeLibrary(entry.name, "PE", None)
    return None


def _infer_python(pycs: list[_Pyc], inferred: list[str]) -> str | None:
    versions = Counter(p.version for p in pycs if p.version in RUNTIMES)
    if not versions:
        return None
    version, count = versions.most_common(1)[0]
    inferred.append(f"Python {version} inferred from {count} .pyc files")
    return version


def _infer_architecture(
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


def _bytecode(pycs: list[_Pyc], names: set[str], target: str | None) -> list[Finding]:
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


def _one_per_cause(findings: list[Finding]) -> list[Finding]:
    """Findings of one code, severity and message become one, listing its entries."""
    grouped: dict[tuple[str, Severity, str], list[Finding]] = {}
    for finding in findings:
        grouped.setdefault((finding.code, finding.severity, finding.message), []).append(finding)
    merged = []
    for (code, severity, message), items in grouped.items():
        entries = tuple(e for item in items for e in (item.entries or (item.entry,)) if e)
        if len(items) == 1 or len(entries) < len(items):
            merged += items
        else:
            merged.append(Finding(code, severity, None, f"{message} ({len(entries)} entries)",
                                  entries))  # fmt: skip
    return merged


def _source_of(pyc_path: str) -> str:
    """The source a .pyc stands for: `a/__pycache__/m.cpython-312.pyc` -> `a/m.py`."""
    return bytecode_source(pyc_path) or pyc_path[:-1]


def _timestamp_pycs(pycs: list[_Pyc], by_name: dict[str, ZipEntry]) -> list[Finding]:
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
                f"{len(stale)} timestamp .pyc will be stale on Lambda (e.g. {_examples(stale)}): "
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
                f"{_examples(used)}): used on Lambda, which extracts in UTC, but stale wherever "
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
                f"{_examples(sourceless)}): always used",
            )
        )
    return found


# Loadable code: what the dynamic loader or Python's import maps into the process.
_LOADABLE = re.compile(r"\.(so|pyd|dylib|dll)$|\.so\.[0-9.]+$", re.IGNORECASE)


def _native_findings(natives: list[NativeLibrary], architecture: str | None) -> list[Finding]:
    """Loadable code for another OS or machine is an error; any other binary is a note.

    Other binaries (setuptools' `cli-64.exe` launchers, a bundled tool) are never loaded by
    the import system: dead weight, or a problem only if the code runs them.
    """
    found: list[Finding] = []
    foreign_os, foreign_machine = [], []
    for native in natives:
        loadable = bool(_LOADABLE.search(native.path.rsplit("/", 1)[-1]))
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
                f"{_examples(foreign_os)}): dead weight on Lambda unless the code runs them",
            )
        )
    if foreign_machine:
        found.append(
            Finding(
                "foreign-machine-program",
                "info",
                None,
                f"{len(foreign_machine)} ELF programs for another machine than {architecture} "
                f"(e.g. {_examples(foreign_machine)}): they fail if the code runs them",
            )
        )
    return found


_EXTENSION_TAG = re.compile(r"\.cpython-(\d)(\d+)([a-z]*)-[^/]*\.so$")
_INSTALLER_RESIDUE = ("INSTALLER", "REQUESTED", "direct_url.json")


def _contents(
    entries: tuple[ZipEntry, ...], heads: dict[int, bytes | None], target: str | None
) -> list[Finding]:
    """What should not be in a Lambda package: secrets, launchers, installer residue, and
    extension modules the target interpreter cannot import."""
    found: list[Finding] = []
    for entry in entries:
        if entry.is_dir:
            continue
        name = entry.name
        relative = name.removeprefix("python/")
        head = heads.get(entry.index)
        if is_secret(name, head):
            found.append(
                Finding(
                    "secret",
                    "error",
                    name,
                    "a credential or private key: anyone who can read the function's code can "
                    "read it (use environment variables, Secrets Manager or SSM instead)",
                )
            )
        if relative.startswith("bin/") and head is not None and head.startswith(b"#!"):
            found.append(
                Finding(
                    "bin-scripts",
                    "warning",
                    name,
                    "console scripts an installer left (pip install -t): their shebang names the "
                    "build machine's Python, and nothing runs them on Lambda",
                )
            )
        parts = relative.split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in _INSTALLER_RESIDUE:
            found.append(
                Finding(
                    "installer-residue",
                    "warning",
                    name,
                    "installer metadata (INSTALLER, REQUESTED, direct_url.json): it differs "
                    "between installers and machines, and importlib.metadata does not need it",
                )
            )
        tag = _EXTENSION_TAG.search(name)
        if tag and target is not None:
            built = f"{tag.group(1)}.{tag.group(2)}"
            variant = tag.group(3)
            if built != target or "t" in variant:
                what = f"CPython {built}" + (" free-threaded" if "t" in variant else "")
                found.append(
                    Finding(
                        "extension-other-python",
                        "error",
                        name,
                        f"an extension module for {what}: Python {target} does not import it "
                        "(ImportError); install the wheels for the target version",
                    )
                )
    return found


def _sizes(zipped: int, unzipped: int) -> list[Finding]:
    found = []
    if zipped > ZIPPED_LIMIT:
        found.append(
            Finding(
                "over-zipped-limit",
                "warning",
                None,
                f"the zip is {zipped:,} bytes, over the {ZIPPED_LIMIT:,} bytes Lambda accepts in "
                "a direct upload: upload it through S3",
            )
        )
    if unzipped > UNZIPPED_LIMIT:
        found.append(
            Finding(
                "over-unzipped-limit",
                "error",
                None,
                f"the contents are {unzipped:,} bytes, over Lambda's {UNZIPPED_LIMIT:,} bytes "
                "for a function and all its layers, unzipped",
            )
        )
    return found


def inspection_exit_code(result: InspectionResult, strict: bool = False) -> int:
    failing = ("error", "warning") if strict else ("error",)
    return 1 if any(f.severity in failing for f in result.findings) else 0


def render_text(result: InspectionResult, listed: int = 10) -> str:
    s = result.summary
    out = [
        f"{_plain(result.path)}: {s.entries} entries ({s.files} files), "
        f"{s.unzipped_size:,} bytes unzipped, {s.size:,} bytes zipped",
        f"target: Python {s.python_version or '?'}, {s.architecture or '?'}"
        + (f" ({'; '.join(s.inferred)})" if s.inferred else ""),
    ]
    if s.distributions:
        dists = ", ".join(f"{d.name} {d.version}" for d in s.distributions)
        out.append(f"distributions: {_plain(dists)}")
    if s.python_versions:
        out.append(f"bytecode for: {', '.join(s.python_versions)}")
    if s.native_libraries:
        out.append(f"native libraries: {len(s.native_libraries)}")
    groups: dict[tuple[str, str], list[Finding]] = {}
    rank = {"error": 0, "warning": 1, "info": 2}
    for finding in sorted(result.findings, key=lambda f: (rank[f.severity], f.code)):
        groups.setdefault((finding.severity, finding.code), []).append(finding)
    counts = Counter(f.severity for f in result.findings)
    out.append(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes")
    for (severity, code), items in groups.items():
        messages = {item.message for item in items}
        shared = len(messages) == 1 and len(items) > 1
        out.append(f"{severity} {code} ({len(items)}):" + (f" {messages.pop()}" if shared else ""))
        for item in items[:listed]:
            where = _plain(item.entry) if item.entry is not None else ""
            text = where if shared else ": ".join(filter(None, (where, _plain(item.message))))
            out.append(f"  {text}")
            out += [f"    {_plain(entry)}" for entry in item.entries[:listed]]
            if len(item.entries) > listed:
                out.append(f"    ... and {len(item.entries) - listed} more")
        if len(items) > listed:
            out.append(f"  ... and {len(items) - listed} more")
    return "\n".join(out) + "\n"


def render_json(result: InspectionResult) -> str:
    return json.dumps(kebab_document(result), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def run_inspect(
    path: Path, python_version: str | None, architecture: str | None, fmt: str, strict: bool
) -> tuple[str, int]:
    if fmt not in ("text", "json"):
        raise ConfigError(f"Unknown inspect format {fmt!r}: use text or json.")
    result = inspect_zip(path, python_version, architecture)
    rendered = render_text(result) if fmt == "text" else render_json(result)
    return rendered, inspection_exit_code(result, strict)

"""Lint any Lambda zip: what makes it non-reproducible, and what breaks it on Lambda.

Only structure and the first 64 bytes of each file are read (through the bounded reader in
`zip.reader`), so inspecting a hostile archive costs no more than its central directory. Native
libraries are recognised by their magic numbers, not their names, and the target Python and
architecture are inferred from bytecode and ELF headers when not given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from lambda_zip_action.errors import ConfigError
from lambda_zip_action.limits import UNZIPPED_LIMIT, ZIPPED_LIMIT
from lambda_zip_action.own_files import other_python_extension, refusal
from lambda_zip_action.proof.compiled import (
    HEAD,
    MAGIC_VERSIONS,
    bytecode_findings,
    examples,
    infer_architecture,
    infer_python,
    native_findings,
    read_native,
    read_pyc,
    timestamp_pyc_findings,
)
from lambda_zip_action.proof.load import file_sha256, read_distributions, read_owners
from lambda_zip_action.proof.model import Finding, InspectionResult, InspectionSummary, Severity
from lambda_zip_action.proof.render import inspection_json, inspection_text
from lambda_zip_action.proof.sbom_check import check_sbom
from lambda_zip_action.runtimes import ARCHITECTURES, RUNTIMES
from lambda_zip_action.zip.format import UNIX
from lambda_zip_action.zip.reader import ZipReader
from lambda_zip_action.zip.structure import ZipEntry, ZipFinding

FIXED_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
FIXED_DOS_TIME = 0
_ZIP_SEVERITY: dict[str, Severity] = {
    "backslash-name": "warning",
    "bad-extra-field": "warning",
    "entry-count-mismatch": "warning",
    "invalid-utf8-name": "warning",
    "prepended-data": "warning",
    "trailing-data": "warning",
}


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
        owned = _dependency_files(read_owners(reader))
        # Every entry is read through (bounded): a corrupt or lying entry would fail on Lambda.
        hashes: dict[str, str | None] = {}
        for entry in archive.entries:
            if not entry.is_dir:
                content = reader.hash_entry(entry)
                hashes[entry.name] = content.sha256
                if content.finding is not None:
                    findings.append(_from_zip(content.finding))
        sbom, sbom_findings = check_sbom(path, file_sha256(path), reader, hashes, distributions)
        findings += sbom_findings
    entries = archive.entries
    findings += _reproducibility(entries)
    findings += _lambda_breakers(entries)
    pycs = [p for e in entries if (p := read_pyc(e, heads.get(e.index))) is not None]
    natives = [n for e in entries if (n := read_native(e, heads.get(e.index))) is not None]
    inferred: list[str] = []
    if python_version is None:
        python_version = infer_python(pycs, inferred)
    if architecture is None:
        architecture = infer_architecture(natives, inferred, findings)
    findings += bytecode_findings(pycs, {e.name for e in entries}, python_version)
    findings += timestamp_pyc_findings(pycs, {e.name: e for e in entries})
    findings += native_findings(natives, architecture)
    findings += _contents(entries, heads, python_version)
    own = _own_files(entries, heads, owned, python_version, architecture)
    replaced = {f.entry for f in own if f.code == "own-binary"}
    findings = [
        f for f in findings if f.code not in _SAID_FOR_DEPENDENCIES or f.entry not in replaced
    ]
    findings += own
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
        sbom=sbom,
    )
    return InspectionResult(str(path), tuple(_one_per_cause(findings)), summary)


def _from_zip(finding: ZipFinding) -> Finding:
    severity = _ZIP_SEVERITY.get(finding.code, "error")
    return Finding(finding.code, severity, finding.entry, finding.message)


def _reproducibility(entries: tuple[ZipEntry, ...]) -> list[Finding]:
    found: list[Finding] = []

    def warn(code: str, names: list[str], what: str) -> None:
        if names:
            message = f"{what}: {len(names)} entries (e.g. {examples(names)})"
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


def _lambda_breakers(entries: tuple[ZipEntry, ...]) -> list[Finding]:
    """Entries Lambda cannot use as they are: symlinks, and modes its runtime user cannot read.

    A claimed size no honest deflate gives (`ratio-exceeded`) is found by the reader, which
    refuses to inflate such an entry, as every entry is read through.
    """
    found: list[Finding] = []
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


_INSTALLER_RESIDUE = ("INSTALLER", "REQUESTED", "direct_url.json")


def _contents(
    entries: tuple[ZipEntry, ...], heads: dict[int, bytes | None], target: str | None
) -> list[Finding]:
    """What should not be in a Lambda package: launchers, installer residue, and extension
    modules the target interpreter cannot import (secrets: `_own_files`)."""
    found: list[Finding] = []
    for entry in entries:
        if entry.is_dir:
            continue
        name = entry.name
        relative = name.removeprefix("python/")
        head = heads.get(entry.index)
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
        other = other_python_extension(name.rsplit("/", 1)[-1], target)
        if other is not None:
            found.append(
                Finding(
                    "extension-other-python",
                    "error",
                    name,
                    f"an extension module for {other}: Python {target} does not import it "
                    "(ImportError); install the wheels for the target version",
                )
            )
    return found


# Findings an own-file finding replaces for its entry: the same fault, said for a dependency.
_SAID_FOR_DEPENDENCIES = ("wrong-os-binary", "wrong-architecture", "extension-other-python")


def _dependency_files(owners: dict[str, str]) -> Callable[[str], bool]:
    """Whether an entry is a distribution's: listed in a RECORD in the zip, or in the
    top-level directory of a file that is (`tornado/` for tornado's RECORD)."""
    tops = set()
    for name in owners:
        parts = name.split("/")
        depth = 2 if parts[0] == "python" and len(parts) > 2 else 1
        if len(parts) > depth:
            tops.add("/".join(parts[:depth]) + "/")
    return lambda name: (
        name in owners
        or name.split("/", 1)[0] + "/" in tops
        or (name.startswith("python/") and "/".join(name.split("/", 2)[:2]) + "/" in tops)
    )


def _own_files(
    entries: tuple[ZipEntry, ...],
    heads: dict[int, bytes | None],
    owned: Callable[[str], bool],
    target: str | None,
    architecture: str | None,
) -> list[Finding]:
    """The rules a build applies to the project's own files (own_files), applied to the files
    no distribution owns: a credential or a binary Lambda cannot load is an error. A key among
    a dependency's files is its test data, not the user's secret: a note."""
    mine: list[Finding] = []
    for entry in entries:
        if entry.is_dir:
            continue
        head = heads.get(entry.index)
        found = refusal(entry.name, head, entry.uncompressed_size, target, architecture)
        if found is None:
            continue
        if found.kind == "credential":
            if owned(entry.name):
                mine.append(
                    Finding(
                        "dependency-key",
                        "info",
                        entry.name,
                        "named or shaped like a key or credential, but a dependency's own file "
                        "(its RECORD lists it): test data, not your secret; dead weight on Lambda",
                    )
                )
            else:
                mine.append(
                    Finding(
                        "secret",
                        "error",
                        entry.name,
                        "a credential or private key: anyone who can read the function's code "
                        "can read it (use environment variables, Secrets Manager or SSM instead)",
                    )
                )
        elif not owned(entry.name):
            mine.append(
                Finding(
                    "own-binary",
                    "error",
                    entry.name,
                    f"{found.reason.removeprefix('is ')}, among the project's own files (no "
                    "distribution's RECORD lists it); lambda-zip build refuses it",
                )
            )
    return mine


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


def run_inspect(
    path: Path, python_version: str | None, architecture: str | None, fmt: str, strict: bool
) -> tuple[str, int]:
    if fmt not in ("text", "json"):
        raise ConfigError(f"Unknown inspect format {fmt!r}: use text or json.")
    result = inspect_zip(path, python_version, architecture)
    rendered = inspection_text(result) if fmt == "text" else inspection_json(result)
    return rendered, inspection_exit_code(result, strict)

"""The attestation subjects: every zip and SBOM a run of the Action wrote, as `sha256sum` does.

One line per file, `<sha256 hex>  <path relative to the workspace>`, sorted by path: what
`actions/attest-build-provenance` (`subject-checksums`) reads to attest them all in one step,
and what `sha256sum --check` checks from the workspace. The digests are the ones the build
hashed while writing (the zip's, the SBOM's), of the files as they were moved into place.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lambda_zip_action.build import BuildResult
from lambda_zip_action.outputs import atomic_output
from lambda_zip_action.sbom import sbom_path

SUFFIX = ".subjects.sha256"


def subjects(results: Iterable[BuildResult]) -> list[tuple[str, Path]]:
    """(sha256 hex, path) of every zip and SBOM the builds wrote."""
    found = []
    for result in results:
        archives = [(result.output, result.archive)]
        if result.layer is not None:
            archives.append((result.layer.output, result.layer.archive))
        for output, archive in archives:
            found.append((archive.sha256, output))
            if archive.sbom_sha256:
                found.append((archive.sbom_sha256, sbom_path(output)))
    return found


def write_subjects(path: Path, results: Iterable[BuildResult], workspace: Path) -> Path:
    """Write the subjects file at `path` (atomically, as the zips are) and return its path."""
    named = sorted(((_relative(file, workspace), digest) for digest, file in subjects(results)))
    lines = [_line(digest, name) for name, digest in named]
    with atomic_output(path) as stream:
        stream.write("".join(lines).encode("utf-8"))
    return path


def _line(digest: str, name: str) -> str:
    # sha256sum's own escape for a name holding a backslash or a newline.
    if "\\" in name or "\n" in name:
        escaped = name.replace("\\", "\\\\").replace("\n", "\\n")
        return "\\" + digest + "  " + escaped + "\n"
    return digest + "  " + name + "\n"


def _relative(path: Path, workspace: Path) -> str:
    try:
        return path.resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return str(path)

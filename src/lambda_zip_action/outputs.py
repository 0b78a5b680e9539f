"""The Writing stage: every zip of a build, its SBOM and its manifest, checked, then put in
place together.

Each zip is written to a temporary file beside its final path while its entries' hashes are
checked against the installers' RECORDs and its sizes against Lambda's limits; only when every
zip, SBOM and manifest is written are they renamed into place, each zip before its SBOM and
its manifest last, under a lock. A failure anywhere leaves every previous output untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import glob
import hashlib
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from lambda_zip_action.archive import ArchiveResult, write_zip
from lambda_zip_action.config import BuildConfig
from lambda_zip_action.deflate_cache import DeflateCache
from lambda_zip_action.errors import LimitError, OutputError
from lambda_zip_action.etags import S3ETags, s3_etags
from lambda_zip_action.events import Event, Listener
from lambda_zip_action.installed_tree import Distribution
from lambda_zip_action.interpreter import Interpreter
from lambda_zip_action.limits import SizeReport, combined_problem, size_report
from lambda_zip_action.manifest import dumps, manifest_document
from lambda_zip_action.records import check_record_hashes, file_owners, owners, record_hashes
from lambda_zip_action.requirements import RequirementSet
from lambda_zip_action.sbom import lock_hashes, package_name, sbom_document, sbom_path
from lambda_zip_action.stage import StagedFile


@dataclass(frozen=True)
class Artifact:
    """One zip written by a build, with its manifest, hashes and sizes."""

    output: Path
    manifest: Path
    layout: str
    archive: ArchiveResult
    sizes: SizeReport
    etags: S3ETags
    # The SBOM written beside the zip (sbom.py); None with --no-sbom.
    sbom: Path | None = None


@dataclass
class Package:
    """A zip to write: where, what layout, its staged entries and its distributions."""

    output: Path
    manifest: Path
    layout: str
    entries: list[StagedFile]
    distributions: tuple[Distribution, ...]


def write_outputs(
    config: BuildConfig,
    packages: list[Package],
    requirements: RequirementSet,
    interpreter: Interpreter,
    installer: str,
    installer_version: str,
    dependencies: Path,
    workers: int,
    on_event: Listener,
    cache_root: Path | None,
    proving_cache: bool,
    packed: dict[tuple[object, ...], Any] | None = None,
) -> list[Artifact]:
    """Write every package to temporary files; rename them all only when all are written.

    With --split a failure in the second zip (its size, a modified dependency, a full disk)
    therefore leaves both previous pairs of zip and manifest untouched.
    """
    artifacts = []
    # What the installers recorded, read once per installed tree: functions sharing one
    # dependency set share it (`packed`, the run's memo).
    records = packed.get(("records", str(dependencies))) if packed is not None else None
    if records is None:
        records = (record_hashes(dependencies), owners(dependencies), file_owners(dependencies))
        if packed is not None:
            packed[("records", str(dependencies))] = records
    expected, owned, owned_files = records
    inputs = _inputs(config, requirements, interpreter, installer, installer_version)
    name = package_name(config.function, config.project_dir, config.output)
    try:
        # atomic_outputs renames each zip, its SBOM, then its manifest, under a lock, once all
        # are written.
        paths = [
            path
            for package in packages
            for path in (package.output, *_sbom(config, package), package.manifest)
        ]
        with atomic_outputs(paths) as all_streams:
            streams = iter(all_streams)
            for package in packages:
                stream = next(streams)
                sbom_stream = next(streams) if config.sbom else None
                manifest_stream = next(streams)
                prefix = "python/" if package.layout == "layer" else ""
                result = write_zip(
                    package.entries,
                    stream,
                    config.compression_level,
                    config.source_date_epoch,
                    workers,
                    progress=lambda done, total: on_event(
                        Event("progress", "archive", done, total)
                    ),
                    cache=DeflateCache(cache_root / "deflate", checked=proving_cache)
                    if cache_root is not None
                    else None,
                    memo=packed,
                )
                check_record_hashes(result.entries, expected if package.distributions else {},
                                    prefix)  # fmt: skip
                sizes = size_report(result.entries, result.size, owned, prefix)
                if sizes.problems and config.fail_on_size_limit:
                    raise LimitError(
                        f"{package.output.name} exceeds Lambda's limits: {sizes.describe()}. "
                        "Nothing was written. Drop dependencies, move them to a layer or a "
                        "container image, or build without --fail-on-size-limit."
                    )
                etags = result.etags or s3_etags(stream)
                document = manifest_document(
                    result,
                    package.distributions,
                    target={
                        "python-version": config.python_version,
                        "architecture": config.architecture,
                        "layout": package.layout,
                        "platform": config.runtime.uv_platform(config.architecture),
                    },
                    inputs=inputs,
                    compression_level=config.compression_level,
                    zlib_version=zlib.ZLIB_RUNTIME_VERSION,
                    etags=etags,
                    owners=owned_files,
                    prefix=prefix,
                )
                manifest_bytes = dumps(document)
                manifest_stream.write(manifest_bytes)
                result = dataclasses.replace(
                    result, manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest()
                )
                if sbom_stream is not None:
                    sbom_bytes = sbom_document(
                        document,
                        name + ("-layer" if config.split and package.layout == "layer" else ""),
                        lock_hashes=lock_hashes(requirements.lines),
                        read=_reader(package.entries),
                        marker_environment=config.runtime.marker_environment(config.architecture),
                        source_date_epoch=config.source_date_epoch,
                    )
                    sbom_stream.write(sbom_bytes)
                    result = dataclasses.replace(
                        result, sbom_sha256=hashlib.sha256(sbom_bytes).hexdigest()
                    )
                sbom = _sbom(config, package)
                artifacts.append(Artifact(package.output, package.manifest, package.layout,
                                          result, sizes, etags, *sbom))  # fmt: skip
            together = combined_problem([artifact.sizes for artifact in artifacts])
            if together is not None and config.fail_on_size_limit:
                raise LimitError(
                    f"{together}. Nothing was written. Drop dependencies or ship a container "
                    "image (every layer counts), or build without --fail-on-size-limit."
                )
    except OSError as exc:
        raise OutputError(
            f"Writing {config.output} failed: {exc.strerror or exc}. The previous output, if "
            "any, is untouched. Free some space or choose another --output."
        ) from exc
    return artifacts


def _sbom(config: BuildConfig, package: Package) -> tuple[Path, ...]:
    return (sbom_path(package.output),) if config.sbom else ()


def _reader(entries: list[StagedFile]) -> Callable[[str], bytes | None]:
    """The content of a staged entry by its name in the zip: what the SBOM reads of it."""
    by_name = {entry.name: entry.path for entry in entries if entry.path is not None}

    def read(name: str) -> bytes | None:
        path = by_name.get(name)
        try:
            return path.read_bytes() if path is not None else None
        except OSError:
            return None

    return read


def _inputs(
    config: BuildConfig,
    requirements: RequirementSet,
    interpreter: Interpreter,
    installer: str,
    installer_version: str,
) -> dict[str, object]:
    def relative(path: Path) -> str:
        try:
            return path.relative_to(config.project_dir).as_posix()
        except ValueError:
            return path.name

    return {
        "requirements": {
            "kind": requirements.kind,
            "file": relative(requirements.path) if requirements.path else None,
            "sha256": requirements.sha256,
            "locked": requirements.locked,
            "hashed": requirements.hashed,
        },
        "installer": {"name": installer, "version": installer_version},
        "interpreter": {"version": interpreter.version} if config.compile else None,
        # The [tool.lambda-zip] words for the options that decide what is packed.
        "source": [relative(s) for s in config.sources],
        "exclude": list(config.excludes),
        "include": list(config.includes),
        "compile": config.compile,
        "source-invalidation": config.source_invalidation if config.compile else None,
        "source-date-epoch": config.source_date_epoch,
        "split": config.split,
    }


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A temporary file beside `path`, renamed over it only when the block succeeds."""
    with atomic_outputs((path,)) as (stream,):
        yield stream


@contextlib.contextmanager
def atomic_outputs(paths: Sequence[Path]) -> Iterator[list[BinaryIO]]:
    """Temporary files beside `paths`, renamed over them in order when the block succeeds.

    The renames happen under an exclusive lock on each directory, so two builds racing for
    one output each leave a whole pair (a zip and the manifest that describes it), never one
    build's zip beside the other's manifest. A failure, or a kill before the renames, leaves
    every previous file untouched; a kill between two renames leaves the first new (the zip)
    beside the old second (its manifest): never a manifest describing a zip never written.
    """
    pending: list[tuple[Path, Path]] = []
    # The process id in every temporary name: a signal that lands between mkstemp creating a
    # file and the file being noted still finds it (`_temporaries`) and removes it.
    tag = f"{os.getpid()}."
    with contextlib.ExitStack() as stack:
        streams: list[BinaryIO] = []
        try:
            for path in paths:
                directory = path.parent
                try:
                    directory.mkdir(parents=True, exist_ok=True)
                    handle, name = tempfile.mkstemp(
                        prefix=f".{path.name}.{tag}", suffix=".tmp", dir=directory
                    )
                except OSError as exc:
                    raise OutputError(
                        f"Cannot write into {directory}: {exc.strerror}. Choose an output "
                        "directory this user can write to (--output)."
                    ) from exc
                pending.append((Path(name), path))
                streams.append(stack.enter_context(os.fdopen(handle, "w+b")))
            yield streams
            for stream in streams:
                stream.flush()
                os.fsync(stream.fileno())
            stack.close()
            with locked_directories(sorted({path.parent for path in paths})):
                for temporary, path in pending:
                    temporary.chmod(0o644)
                    temporary.replace(path)
        except BaseException:
            for temporary in {*(t for t, _ in pending), *_temporaries(paths, tag)}:
                with contextlib.suppress(OSError):
                    temporary.unlink()
            raise


def _temporaries(paths: Sequence[Path], tag: str) -> list[Path]:
    return [t for path in paths for t in path.parent.glob(f".{glob.escape(path.name)}.{tag}*.tmp")]


@contextlib.contextmanager
def locked_directories(directories: Sequence[Path]) -> Iterator[None]:
    """flock(2) on each directory, in a fixed order so that two holders never deadlock."""
    with contextlib.ExitStack() as stack:
        for directory in directories:
            descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            stack.callback(os.close, descriptor)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield

"""Compiled bytecode kept between builds, and the proofs that let verify's rebuild take it.

Entries are written by compile.py and keyed by compile.group_key; see BytecodeCache.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Part of every cache key and proof: bump it when the compile rules change.
CACHE_FORMAT = "lambda-zip-bytecode/3"


class Member(Protocol):
    """A file of a compiled group, as the cache sees it."""

    @property
    def runtime_path(self) -> str: ...

    @property
    def output(self) -> Path: ...


@dataclass(frozen=True)
class CachedGroup:
    """One compiled group as the cache keeps it: its key and directory there, and the archive
    name of each member's .pyc in member order (None where the source did not compile)."""

    key: str
    directory: Path
    names: tuple[str | None, ...]


@dataclass(frozen=True)
class FreshGroup:
    """A group verify's rebuild compiled afresh: its key, the sha256 of each member's .pyc
    (None where the source did not compile) and the failures, for `mark_proven`."""

    key: str
    sha256: tuple[str | None, ...]
    failures: tuple[tuple[str, str], ...]


def fresh_group(key: str, group: Sequence[Member], failures: list[tuple[str, str]]) -> FreshGroup:
    failed = {path for path, _ in failures}
    return FreshGroup(
        key,
        tuple(None if job.runtime_path in failed else _file_sha256(job.output) for job in group),
        tuple(failures),
    )


class BytecodeCache:
    """Compiled groups kept between builds, keyed by everything that decides their bytes.

    The key (compile.group_key) covers the interpreter's version and very build (sys.version
    and the executable it resolves to: two builds of one version may patch the compiler), the
    tool's compile rules and compiler program, and every file of the group (runtime path,
    invalidation mode, source sha256). A plain build trusts a hit on the key alone. verify's
    rebuild (`proven_only`) does not: it compiles a group afresh unless an earlier verify
    proved that very entry, that is its rebuild compiled the same group afresh and got exactly
    the bytes and failures the entry holds (`mark_proven` records each file's sha256 and the
    failures then, and a read checks them); even then it compiles a random share of proven
    groups afresh again (REPROVE_SHARE), so over many verifies every proof is made anew. An
    entry that is wrong shows up in the rebuild as "NOT reproducible" and is never proven.
    Like uv's and pip's caches, the directory is trusted not to be forged: a forged entry with
    a forged proof would pass, so verify with --no-cache where the cache is not yours alone.
    """

    PROOF = "proven.json"
    REPROVE_SHARE = 0.125

    def __init__(self, root: Path, interpreter_identity: str, proven_only: bool = False) -> None:
        self.root = root
        self.identity = interpreter_identity
        self.proven_only = proven_only

    def directory(self, key: str) -> Path:
        return self.root / key[:2] / key

    def load(
        self, key: str, group: Sequence[Member]
    ) -> tuple[list[tuple[str, str]], dict[str, Path]] | None:
        """The group's failures and .pyc files, or None: a miss, a damaged entry, or (for a
        proven-only cache) an entry without a valid proof or picked to be proven again."""
        if self.proven_only and random.random() < self.REPROVE_SHARE:  # noqa: S311
            return None
        directory = self.directory(key)
        try:
            failures = _read_failures(directory)
            proof = _read_proof(directory) if self.proven_only else None
            if self.proven_only and (
                proof is None
                or len(proof.sha256) != len(group)
                or proof.failures != tuple(failures)
            ):
                return None
            failed = {path for path, _ in failures}
            outputs = {}
            for index, job in enumerate(group):
                shipped = job.runtime_path not in failed
                if proof is not None and (proof.sha256[index] is not None) != shipped:
                    return None
                if not shipped:
                    continue
                cached = directory / f"{index}.pyc"
                if not cached.is_file():
                    return None
                if proof is not None and _file_sha256(cached) != proof.sha256[index]:
                    return None
                outputs[job.runtime_path] = cached
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            return None  # a damaged entry is a miss
        return failures, outputs

    def store(self, key: str, group: Sequence[Member], failures: list[tuple[str, str]]) -> None:
        final = self.directory(key)
        if self.proven_only:
            return
        if final.exists():
            try:
                _read_failures(final)
                return  # stored already (by an earlier or a concurrent build)
            except (OSError, ValueError, TypeError, KeyError, RecursionError):
                shutil.rmtree(final, ignore_errors=True)  # damaged: replaced by this compile
        staging: Path | None = None
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".store-", dir=final.parent))
            failed = {path for path, _ in failures}
            for index, job in enumerate(group):
                if job.runtime_path not in failed:
                    shutil.copyfile(job.output, staging / f"{index}.pyc")
            (staging / "failed.json").write_text(json.dumps(failures))
            staging.rename(final)
        except OSError:
            # A cache that cannot be written (or a concurrent build that stored the same group
            # first) only makes a slower next build.
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)


def mark_proven(group: CachedGroup, fresh: FreshGroup) -> bool:
    """Record that `group`'s cache entry is proven by `fresh`, the same group compiled afresh
    by verify's rebuild in its differing environment, if the entry holds exactly those bytes
    and failures (verify calls this only once the two zips are identical). Returns whether a
    new proof was recorded."""
    if group.key != fresh.key:
        return False
    try:
        if tuple(_read_failures(group.directory)) != fresh.failures:
            return False
        for index, expected in enumerate(fresh.sha256):
            cached = group.directory / f"{index}.pyc"
            if expected is None:
                if cached.exists():
                    return False
            elif not cached.is_file() or _file_sha256(cached) != expected:
                return False
        if _read_proof(group.directory) == _Proof(fresh.sha256, fresh.failures):
            return False
        document = {"format": CACHE_FORMAT, "sha256": list(fresh.sha256),
                    "failed": [list(f) for f in fresh.failures]}  # fmt: skip
        handle, temporary = tempfile.mkstemp(dir=group.directory, prefix=".proof-")
        try:
            with os.fdopen(handle, "w") as stream:
                json.dump(document, stream)
            Path(temporary).replace(group.directory / BytecodeCache.PROOF)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            raise
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return False
    return True


def remove_contradicted(group: CachedGroup, fresh: FreshGroup) -> bool:
    """Remove `group`'s cache entry if `fresh` (the same group compiled afresh by verify's
    rebuild) contradicts it: other bytes or failures than the entry holds, proven or not.
    Returns whether it was removed; the next build compiles the group afresh and stores that."""
    if group.key != fresh.key:
        return False
    try:
        holds = tuple(_read_failures(group.directory)) == fresh.failures and all(
            (expected is None and not (group.directory / f"{i}.pyc").exists())
            or (
                expected is not None
                and (group.directory / f"{i}.pyc").is_file()
                and _file_sha256(group.directory / f"{i}.pyc") == expected
            )
            for i, expected in enumerate(fresh.sha256)
        )
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        holds = False
    if holds:
        return False
    shutil.rmtree(group.directory, ignore_errors=True)
    return True


@dataclass(frozen=True)
class _Proof:
    sha256: tuple[str | None, ...]
    failures: tuple[tuple[str, str], ...]


def _read_failures(directory: Path) -> list[tuple[str, str]]:
    return [(str(p), str(w)) for p, w in json.loads((directory / "failed.json").read_text())]


def _read_proof(directory: Path) -> _Proof | None:
    try:
        document = json.loads((directory / BytecodeCache.PROOF).read_text())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT:
        return None
    hashes, failed = document.get("sha256"), document.get("failed")
    if not isinstance(hashes, list) or not isinstance(failed, list):
        return None
    try:
        failures = tuple((str(p), str(w)) for p, w in failed)
    except (TypeError, ValueError):
        return None
    return _Proof(tuple(h if isinstance(h, str) else None for h in hashes), failures)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

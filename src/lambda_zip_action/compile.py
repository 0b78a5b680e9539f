"""Compile bytecode that Lambda's read-only /var/task actually uses, the same on every machine.

- Hash-based .pyc (PEP 552): a timestamp .pyc is always stale after extraction, because the
  sources carry the zip's fixed date. Dependencies use unchecked-hash (never re-read the
  source). The project's own code uses checked-hash by default: it costs a hash of a few small
  files at import, and a handler edited in the Lambda console editor (which re-zips the old
  __pycache__ with it) runs the edit instead of the stale bytecode.
- `co_filename` is the path Lambda will see (/var/task/..., /opt/python/... for layers), so
  tracebacks point at real files and no build directory leaks into the bytes.
- marshal output depends on what the same process compiled before (and on the hash seed up to
  3.10), so files are cut into groups by a fixed count in sorted order, each group compiled in a
  fresh process with PYTHONHASHSEED=0. The CPU count decides only how many groups run at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lambda_zip_action.bytecode_cache import (
    CACHE_FORMAT,
    BytecodeCache,
    CachedGroup,
    FreshGroup,
    fresh_group,
)
from lambda_zip_action.errors import CompileError
from lambda_zip_action.stage import StagedFile

# Files per compiler process. A constant: changing it changes bytes on some Python versions.
GROUP_SIZE = 256

# Each source is read once: the bytes compiled are the bytes hashed, and the hash goes back to
# the build, which checks it against the cache key's. What py_compile does, in the open:
# compile() as SourceFileLoader.source_to_code calls it, then the hash-based .pyc.
_WORKER = """
import hashlib, importlib.util, json, sys, traceback
from importlib import _bootstrap_external as external
failed, hashes = [], []
for source, dfile, cfile, invalidation in json.loads(sys.stdin.read()):
    try:
        with open(source, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        failed.append([dfile, f"cannot be read: {exc.strerror}"])
        hashes.append(None)
        continue
    hashes.append(hashlib.sha256(data).hexdigest())
    try:
        code = compile(data, dfile, "exec", dont_inherit=True, optimize=0)
    except Exception as exc:
        line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
        text = traceback.format_exception_only(type(exc), exc)[-1].strip()
        failed.append([dfile, (f"line {line}: " if line else "") + text])
        continue
    pyc = external._code_to_hash_pyc(
        code, importlib.util.source_hash(data), invalidation == "checked-hash")
    with open(cfile, "wb") as stream:
        stream.write(pyc)
sys.stdout.write(json.dumps({"failed": failed, "sha256": hashes}))
"""
# How the compiler runs: part of every cache key with the program itself.
COMPILER_FLAGS = ("-s", "-S")


@dataclass(frozen=True)
class CompileResult:
    bytecode: tuple[StagedFile, ...]
    skipped: tuple[tuple[str, str], ...]  # (archive name, reason): dependency files left as source
    from_cache: int = 0  # files whose bytecode came from the cache
    groups: tuple[CachedGroup, ...] = ()  # every group, as the cache holds it (with a cache)
    fresh: tuple[FreshGroup, ...] = ()  # with a proven-only cache: the groups compiled afresh


@dataclass(frozen=True)
class _Job:
    entry: StagedFile
    runtime_path: str
    output: Path
    invalidation: str


def cache_name(name: str, cache_tag: str) -> str:
    """`pkg/mod.py` -> `pkg/__pycache__/mod.cpython-312.pyc`."""
    directory, _, filename = name.rpartition("/")
    stem = filename[: -len(".py")]
    prefix = directory + "/" if directory else ""
    return f"{prefix}__pycache__/{stem}.{cache_tag}.pyc"


def compiler_environment(env: Mapping[str, str]) -> dict[str, str]:
    """No PYTHON* variable reaches the compiler (PYTHONNODEBUGRANGES and -X options change
    every .pyc from 3.11 on; PYTHONOPTIMIZE writes files Lambda never reads), except a fixed seed.
    """
    kept = {k: v for k, v in env.items() if not k.startswith("PYTHON") and k in ("PATH", "HOME")}
    kept.update(PYTHONHASHSEED="0", LC_ALL="C.UTF-8")
    return kept


def compile_entries(
    entries: Sequence[StagedFile],
    interpreter: Path,
    cache_tag: str,
    runtime_root: str,
    output_dir: Path,
    source_invalidation: str,
    env: Mapping[str, str],
    workers: int,
    progress: Callable[[int, int], None] | None = None,
    reverse: bool = False,
    cache: BytecodeCache | None = None,
    memo: dict[str, tuple[list[tuple[str, str]], dict[str, Path]]] | None = None,
) -> CompileResult:
    """Compile every `.py` entry; return the .pyc entries, to be merged into the archive.

    `memo` holds the groups compiled (or taken from the cache) by earlier builds of this
    process, by key, with their outputs: a group with the same key (the same sources at the
    same runtime paths, the same interpreter and rules) is not compiled again. Its outputs must
    outlive those builds (build.SharedWork keeps them)."""
    jobs = _jobs(entries, cache_tag, runtime_root, output_dir, source_invalidation)
    groups = group_jobs(jobs)
    scratch = output_dir.parent / "compile-cwd"
    scratch.mkdir(parents=True, exist_ok=True)

    done = 0

    def compile_group(group: list[_Job]) -> tuple[list[tuple[str, str]], list[str | None]]:
        """The group's failures, and the sha256 of each source as the compiler read it."""
        for directory in sorted({job.output.parent for job in group}):
            directory.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(
            [[str(j.entry.path), j.runtime_path, str(j.output), j.invalidation] for j in group]
        )
        completed = subprocess.run(
            [str(interpreter), *COMPILER_FLAGS, "-c", _WORKER],
            input=payload,
            env=compiler_environment(env),
            cwd=scratch,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise CompileError(
                f"The bytecode compiler {interpreter} failed: "
                f"{completed.stderr.strip().splitlines()[-1:] or completed.returncode}"
            )
        report = json.loads(completed.stdout)
        return [(str(d), str(m)) for d, m in report["failed"]], list(report["sha256"])

    cached = 0
    keys: dict[int, str] = {}
    fresh: list[FreshGroup] = []

    def run(group: list[_Job]) -> tuple[list[tuple[str, str]], dict[str, Path]]:
        nonlocal done, cached
        keyed = cache is not None or memo is not None
        sources = source_hashes(group) if keyed else None
        key = None
        if keyed and sources is not None:
            # Without a cache the key serves the memo only, within this process, where one path
            # is one interpreter.
            identity = cache.identity if cache is not None else str(interpreter)
            key = group_key(identity, interpreter, group, sources)
        # The memo first: what an earlier function of this run compiled or took from the
        # cache (checked then) needs no second load, hash check and reprove draw.
        remembered = memo.get(key) if memo is not None and key is not None else None
        hit = None
        if cache is not None and key is not None and remembered is None:
            hit = cache.load(key, group)
        if remembered is not None:
            failures, outputs = remembered
        elif hit is not None:
            failures, outputs = hit
            cached += len(outputs)
        else:
            failures, compiled = compile_group(group)
            outputs = {job.runtime_path: job.output for job in group}
            if key is not None:  # the cache's key or the memo's: the sources it hashed
                _check_unchanged(group, compiled, sources)
            if cache is not None and key is not None:
                cache.store(key, group, failures)
                if cache.proven_only:
                    fresh.append(fresh_group(key, group, failures))
        if key is not None:
            keys[id(group)] = key
            if memo is not None:
                memo.setdefault(key, (failures, outputs))
        done += len(group)
        if progress is not None:
            progress(done, len(jobs))
        return failures, outputs

    order = start_order(groups, reverse)
    failures: list[tuple[str, str]] = []
    outputs: dict[str, Path] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for group_failures, group_outputs in pool.map(run, order):
            failures += group_failures
            outputs.update(group_outputs)

    failed_paths = {path for path, _ in failures}
    origins = {job.runtime_path: job.entry.origin for job in jobs}
    own = [(path, why) for path, why in failures if origins.get(path) == "source"]
    if own:
        details = "; ".join(f"{path.removeprefix(runtime_root + '/')}: {why}" for path, why in own)
        stop = "" if details.endswith((".", "?", "!")) else "."
        raise CompileError(
            f"Your code does not compile for this Python version: {details}{stop} Fix it, or "
            "target the Python version it was written for."
        )
    bytecode = tuple(
        StagedFile(
            cache_name(job.entry.name, cache_tag), outputs[job.runtime_path], 0o644, "bytecode"
        )
        for job in sorted(jobs, key=lambda j: j.entry.name.encode("utf-8"))
        if job.runtime_path not in failed_paths
    )
    skipped = tuple((path.removeprefix(runtime_root + "/"), why) for path, why in sorted(failures))
    cached_groups = (
        ()
        if cache is None
        else tuple(
            _cached_group(keys[id(group)], cache, group, failed_paths, cache_tag)
            for group in groups
        )
    )
    return CompileResult(bytecode, skipped, cached, cached_groups, tuple(fresh))


def _cached_group(
    key: str, cache: BytecodeCache, group: Sequence[_Job], failed: set[str], cache_tag: str
) -> CachedGroup:
    return CachedGroup(
        key,
        cache.directory(key),
        tuple(
            None if job.runtime_path in failed else cache_name(job.entry.name, cache_tag)
            for job in group
        ),
    )


def _jobs(
    entries: Sequence[StagedFile],
    cache_tag: str,
    runtime_root: str,
    output_dir: Path,
    source_invalidation: str,
) -> list[_Job]:
    """A job per `.py` file: the project's own code checked-hash (by default), the rest
    unchecked. Output directories are made when a group is compiled (`compile_group`)."""
    jobs = []
    for entry in entries:
        if entry.is_dir or entry.path is None or not entry.name.endswith(".py"):
            continue
        output = output_dir / cache_name(entry.name, cache_tag)
        invalidation = source_invalidation if entry.origin == "source" else "unchecked-hash"
        jobs.append(_Job(entry, f"{runtime_root}/{entry.name}", output, invalidation))
    return jobs


def start_order(groups: Sequence[list[_Job]], reverse: bool = False) -> list[list[_Job]]:
    """The order groups start in: the most source bytes first, so no big group starts last and
    runs alone while the other workers idle (name order left pydantic's, numpy's or pandas'
    biggest group for the end).

    `reverse` (verify's second build) swaps each neighbouring pair: another order, and so other
    groups running beside each other, with the big groups still first. The bytes of a group
    must not depend on which groups ran before or beside it: each is a fresh process.
    """
    ordered = sorted(
        groups,
        key=lambda group: (-sum(job.entry.size for job in group), group[0].entry.name.encode()),
    )
    if reverse:
        for index in range(0, len(ordered) - 1, 2):
            ordered[index], ordered[index + 1] = ordered[index + 1], ordered[index]
    return ordered


def group_jobs(jobs: Sequence[_Job]) -> list[list[_Job]]:
    """Fixed groups: by top-level package, then GROUP_SIZE files at a time in name order.

    A function of the file names alone, so any machine makes the same groups; and a change in
    one package leaves the other packages' groups (and their cached bytecode) as they were.
    """
    by_package: dict[str, list[_Job]] = {}
    for job in jobs:
        parts = job.entry.name.split("/")
        if parts[0] == "python" and len(parts) > 2:  # a layer: python/<package>/...
            parts = parts[1:]
        package = parts[0] if len(parts) > 1 else ""  # top-level modules share one group
        by_package.setdefault(package, []).append(job)
    groups = []
    for package in sorted(by_package, key=lambda p: p.encode("utf-8")):
        members = sorted(by_package[package], key=lambda j: j.entry.name.encode("utf-8"))
        groups += [members[i : i + GROUP_SIZE] for i in range(0, len(members), GROUP_SIZE)]
    return groups


def _check_unchanged(
    group: Sequence[_Job], compiled: Sequence[str | None], keyed: Sequence[str | None] | None
) -> None:
    """The compiler read the bytes the cache key was made from, or nothing is stored."""
    if list(compiled) != list(keyed or ()):
        changed = next(
            (job.entry.name for job, a, b in zip(group, compiled, keyed or (), strict=False)
             if a != b),
            group[0].entry.name,
        )  # fmt: skip
        raise CompileError(
            f"A source file changed while it was being compiled: {changed}. Nothing was "
            "written; build again once nothing else writes to the sources."
        )


def source_hashes(group: Sequence[_Job]) -> list[str | None]:
    """The sha256 of each source of `group` as it is on disk now."""
    hashes: list[str | None] = []
    for job in group:
        assert job.entry.path is not None
        try:
            hashes.append(hashlib.sha256(job.entry.path.read_bytes()).hexdigest())
        except OSError:
            hashes.append(None)
    return hashes


def group_key(
    identity: str, interpreter: Path, group: Sequence[_Job], sources: Sequence[str | None]
) -> str:
    """The bytecode cache's key for `group` with these source hashes: everything that decides
    its bytes (see bytecode_cache.BytecodeCache), the compiler program and its environment
    included."""
    digest = hashlib.sha256()
    compiler = json.dumps([_WORKER, COMPILER_FLAGS, compiler_environment({})], sort_keys=True)
    digest.update(f"{CACHE_FORMAT}\0{compiler}\0{identity}\0{interpreter.name}\0".encode())
    for job, source in zip(group, sources, strict=True):
        digest.update(f"{job.runtime_path}\0{job.invalidation}\0{source}\n".encode())
    return digest.hexdigest()


def default_workers() -> int:
    return os.cpu_count() or 1

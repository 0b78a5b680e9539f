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

_WORKER = """
import json, py_compile, sys
mode = {"checked-hash": py_compile.PycInvalidationMode.CHECKED_HASH,
        "unchecked-hash": py_compile.PycInvalidationMode.UNCHECKED_HASH}
failed = []
for source, dfile, cfile, invalidation in json.loads(sys.stdin.read()):
    try:
        py_compile.compile(source, cfile=cfile, dfile=dfile, doraise=True, optimize=0,
                           invalidation_mode=mode[invalidation])
    except py_compile.PyCompileError as exc:
        failed.append([dfile, exc.msg.strip().splitlines()[-1] if exc.msg.strip() else str(exc)])
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        failed.append([dfile, str(exc)])
sys.stdout.write(json.dumps(failed))
"""
# The compiler program and its environment decide the bytes too: both are in every cache key.
_COMPILER = hashlib.sha256((_WORKER + "PYTHONHASHSEED=0 LC_ALL=C.UTF-8 -s -S").encode()).hexdigest()


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
) -> CompileResult:
    """Compile every `.py` entry; return the .pyc entries, to be merged into the archive."""
    jobs = _jobs(entries, cache_tag, runtime_root, output_dir, source_invalidation)
    groups = group_jobs(jobs)
    scratch = output_dir.parent / "compile-cwd"
    scratch.mkdir(exist_ok=True)

    done = 0

    def compile_group(group: list[_Job]) -> list[tuple[str, str]]:
        payload = json.dumps(
            [[str(j.entry.path), j.runtime_path, str(j.output), j.invalidation] for j in group]
        )
        completed = subprocess.run(
            [str(interpreter), "-s", "-S", "-c", _WORKER],
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
        return [(str(d), str(m)) for d, m in json.loads(completed.stdout)]

    cached = 0
    keys: dict[int, str] = {}
    fresh: list[FreshGroup] = []

    def run(group: list[_Job]) -> tuple[list[tuple[str, str]], dict[str, Path]]:
        nonlocal done, cached
        key = group_key(cache.identity, interpreter, group) if cache is not None else None
        hit = cache.load(key, group) if cache is not None and key is not None else None
        if hit is not None:
            failures, outputs = hit
            cached += len(outputs)
        else:
            failures = compile_group(group)
            outputs = {job.runtime_path: job.output for job in group}
            if cache is not None and key is not None:
                if group_key(cache.identity, interpreter, group) != key:
                    raise CompileError(
                        "A source file changed while it was being compiled: "
                        f"{group[0].entry.name} or another of its group. Nothing was written; "
                        "build again once nothing else writes to the sources."
                    )
                cache.store(key, group, failures)
                if cache.proven_only:
                    fresh.append(fresh_group(key, group, failures))
        if key is not None:
            keys[id(group)] = key
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
        raise CompileError(
            f"Your code does not compile for this Python version: {details}. Fix it, or target "
            "the Python version it was written for."
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
    """A job per `.py` file (its output directory made): the project's own code checked-hash
    (by default), the rest unchecked."""
    jobs = []
    for entry in entries:
        if entry.is_dir or entry.path is None or not entry.name.endswith(".py"):
            continue
        output = output_dir / cache_name(entry.name, cache_tag)
        invalidation = source_invalidation if entry.origin == "source" else "unchecked-hash"
        jobs.append(_Job(entry, f"{runtime_root}/{entry.name}", output, invalidation))
        output.parent.mkdir(parents=True, exist_ok=True)
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


def group_key(identity: str, interpreter: Path, group: Sequence[_Job]) -> str:
    """The bytecode cache's key for `group`: everything that decides its bytes (see
    bytecode_cache.BytecodeCache)."""
    digest = hashlib.sha256()
    digest.update(f"{CACHE_FORMAT}\0{_COMPILER}\0{identity}\0{interpreter.name}\0".encode())
    for job in group:
        assert job.entry.path is not None
        source = hashlib.sha256(job.entry.path.read_bytes()).hexdigest()
        digest.update(f"{job.runtime_path}\0{job.invalidation}\0{source}\n".encode())
    return digest.hexdigest()


def default_workers() -> int:
    return os.cpu_count() or 1

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

import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class CompileResult:
    bytecode: tuple[StagedFile, ...]
    skipped: tuple[tuple[str, str], ...]  # (archive name, reason): dependency files left as source


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
) -> CompileResult:
    """Compile every `.py` entry; return the .pyc entries, to be merged into the archive."""
    jobs = []
    for entry in entries:
        if entry.is_dir or entry.path is None or not entry.name.endswith(".py"):
            continue
        output = output_dir / cache_name(entry.name, cache_tag)
        invalidation = source_invalidation if entry.origin == "source" else "unchecked-hash"
        jobs.append(_Job(entry, f"{runtime_root}/{entry.name}", output, invalidation))
    jobs.sort(key=lambda job: job.entry.name.encode("utf-8"))
    groups = [jobs[i : i + GROUP_SIZE] for i in range(0, len(jobs), GROUP_SIZE)]
    for job in jobs:
        job.output.parent.mkdir(parents=True, exist_ok=True)
    scratch = output_dir.parent / "compile-cwd"
    scratch.mkdir(exist_ok=True)
    environment = compiler_environment(env)

    done = 0

    def run(group: list[_Job]) -> list[tuple[str, str]]:
        nonlocal done
        payload = json.dumps(
            [[str(j.entry.path), j.runtime_path, str(j.output), j.invalidation] for j in group]
        )
        completed = subprocess.run(
            [str(interpreter), "-s", "-S", "-c", _WORKER],
            input=payload,
            env=environment,
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
        done += len(group)
        if progress is not None:
            progress(done, len(jobs))
        return [(str(d), str(m)) for d, m in json.loads(completed.stdout)]

    # `reverse` starts the groups in the opposite order (verify's second build): the bytes of a
    # group must not depend on which groups ran before or beside it.
    order = list(reversed(groups)) if reverse else groups
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        failures = [failure for result in pool.map(run, order) for failure in result]

    failed_paths = {path for path, _ in failures}
    own = [(path, why) for path, why in failures if _origin(path, jobs) == "source"]
    if own:
        details = "; ".join(f"{path.removeprefix(runtime_root + '/')}: {why}" for path, why in own)
        raise CompileError(
            f"Your code does not compile for this Python version: {details}. Fix it, or target "
            "the Python version it was written for."
        )
    bytecode = tuple(
        StagedFile(cache_name(job.entry.name, cache_tag), job.output, 0o644, "bytecode")
        for job in jobs
        if job.runtime_path not in failed_paths
    )
    skipped = tuple((path.removeprefix(runtime_root + "/"), why) for path, why in sorted(failures))
    return CompileResult(bytecode, skipped)


def _origin(runtime_path: str, jobs: Sequence[_Job]) -> str:
    for job in jobs:
        if job.runtime_path == runtime_path:
            return job.entry.origin
    return "dependency"


def default_workers() -> int:
    return os.cpu_count() or 1

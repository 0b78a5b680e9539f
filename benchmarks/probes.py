"""Measurements beside the build times: handler import time, the archive stage, the machine."""

from __future__ import annotations

import os
import platform
import re
import shutil
import statistics
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

# Printed by a fresh interpreter: the import alone, not the process start.
IMPORT_PROBE = (
    "import sys, time; sys.path.insert(0, sys.argv[1]); "
    "t = time.perf_counter(); import handler; print(time.perf_counter() - t)"
)


@dataclass(frozen=True)
class PackageShape:
    unzipped: int  # bytes of all files
    largest: int  # bytes of the largest file
    files: int


def package_shape(archive: Path) -> PackageShape:
    with zipfile.ZipFile(archive) as opened:
        sizes = [info.file_size for info in opened.infolist() if not info.is_dir()]
    return PackageShape(sum(sizes), max(sizes, default=0), len(sizes))


def extract(archive: Path, target: Path) -> Path:
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(target)
    return target


def _make_read_only(tree: Path) -> None:
    subprocess.run(["chmod", "-R", "a-w", str(tree)], check=True)


def _make_writable(tree: Path) -> None:
    subprocess.run(["chmod", "-R", "u+w", str(tree)], check=True)


@dataclass(frozen=True)
class ImportTimes:
    with_pyc: list[float]
    without_pyc: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.with_pyc) / statistics.median(self.without_pyc)


def _import_once(python: Path, tree: Path) -> float:
    # -I: no PYTHON* variables or user site. -B: root ignores the a-w modes, so this stands in
    # for Lambda's read-only /var/task, where writing __pycache__ fails and nothing is cached.
    completed = subprocess.run(
        [str(python), "-I", "-B", "-c", IMPORT_PROBE, str(tree)],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def import_times(python: Path, archive: Path, work: Path, runs: int) -> ImportTimes:
    """Import the handler from the extracted package, with our .pyc and with them removed."""
    shipped = extract(archive, work / "with-pyc")
    bare = extract(archive, work / "without-pyc")
    for cache in sorted(bare.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)
    for tree in (shipped, bare):
        _make_read_only(tree)
    try:
        for tree in (shipped, bare):  # warm the page cache, untimed
            _import_once(python, tree)
        with_pyc, without_pyc = [], []
        for _ in range(runs):
            with_pyc.append(_import_once(python, shipped))
            without_pyc.append(_import_once(python, bare))
        if any(bare.rglob("__pycache__")):
            raise RuntimeError(f"bytecode was written into {bare}: the no-.pyc times are wrong")
        return ImportTimes(with_pyc, without_pyc)
    finally:
        for tree in (shipped, bare):
            _make_writable(tree)


@dataclass(frozen=True)
class ArchiveTimes:
    ours: list[float]  # lambda_zip_action.stage.collect + archive.write_zip, in process
    info_zip: list[float]  # zip -X -r -6 -q

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.info_zip)


def archive_times(archive: Path, work: Path, runs: int, workers: int) -> ArchiveTimes:
    """The archive stage alone against Info-ZIP on the same extracted tree."""
    from lambda_zip_action.archive import write_zip
    from lambda_zip_action.stage import collect

    tree = extract(archive, work / "tree")
    ours_out, zip_out = work / "ours.zip", work / "info-zip.zip"

    def ours() -> float:
        started = time.perf_counter()
        entries = collect(tree, "dependency")
        with ours_out.open("wb") as stream:
            write_zip(entries, stream, 6, None, workers)
        return time.perf_counter() - started

    def info_zip() -> float:
        zip_out.unlink(missing_ok=True)
        started = time.perf_counter()
        subprocess.run(["zip", "-X", "-r", "-6", "-q", str(zip_out), "."], cwd=tree, check=True)
        return time.perf_counter() - started

    ours(), info_zip()  # warm the page cache, untimed
    timings = ArchiveTimes([], [])
    for run in range(runs):
        first, second = (ours, info_zip) if run % 2 == 0 else (info_zip, ours)
        for probe in (first, second):
            (timings.ours if probe is ours else timings.info_zip).append(probe())
    return timings


def _first_line(command: list[str]) -> str:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return "not found"
    lines = (completed.stdout + completed.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8", errors="replace")
    total = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)
    return {
        "nproc": str(os.cpu_count()),
        "CPU": model.group(1).strip() if model else platform.processor() or "unknown",
        "memory": f"{int(total.group(1)) / 1024**2:.1f} GiB" if total else "unknown",
        "kernel": platform.release(),
        # Other work on the machine skews every number: say how busy it was.
        "load average at start": " ".join(f"{load:.2f}" for load in os.getloadavg()),
    }


def versions(python: Path, uv: Path, lambda_zip: Path) -> dict[str, str]:
    import zlib

    import lambda_zip_action

    zip_banner = subprocess.run(["zip", "-v"], capture_output=True, text=True, check=False).stdout
    zip_line = next((x for x in zip_banner.splitlines() if x.startswith("This is Zip")), "unknown")
    return {
        "target Python": _first_line([str(python), "--version"]),
        "harness Python": platform.python_version(),
        "uv": _first_line([str(uv), "--version"]),
        "pip": _first_line([str(python), "-m", "pip", "--version"]).split(" from ")[0],
        "zip": zip_line.strip(),
        "lambda-zip-action": lambda_zip_action.__version__,
        "lambda-zip": _first_line([str(lambda_zip), "--version"]),
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
    }

"""limits: Lambda's size limits and the distributions that make a package big.

The entries come from a real zip written from a real tree (a source file, an installed wheel's
files with their RECORD), so the names and sizes are what a build hands size_report.
"""

from __future__ import annotations

import io
from pathlib import Path

from lambda_zip_action.archive import WrittenEntry, write_zip
from lambda_zip_action.limits import UNZIPPED_LIMIT, ZIPPED_LIMIT, SizeReport, size_report
from lambda_zip_action.records import owners
from lambda_zip_action.stage import collect, merge

MIB = 1024 * 1024


def installed_tree(root: Path) -> Path:
    """A target directory as an installer leaves it: requests (a package), six (a module)."""
    files = {
        "requests/__init__.py": b"r" * 3000,
        "requests/api.py": b"a" * 1000,
        "requests/__pycache__/api.cpython-312.pyc": b"p" * 500,
        "six.py": b"s" * 2000,
        "__pycache__/six.cpython-312.pyc": b"c" * 700,
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    rows = {
        "requests-2.32.3.dist-info": ["requests/__init__.py", "requests/api.py"],
        "six-1.16.0.dist-info": ["six.py"],
    }
    for dist_info, paths in rows.items():
        (root / dist_info).mkdir()
        (root / dist_info / "METADATA").write_text("Metadata-Version: 2.1\n")
        record = "".join(f"{path},,\n" for path in [*paths, f"{dist_info}/METADATA"])
        (root / dist_info / "RECORD").write_text(record + f"{dist_info}/RECORD,,\n")
    return root


def written(tmp_path: Path, layer: bool = False) -> tuple[list[WrittenEntry], int, Path]:
    deps = installed_tree(tmp_path / "deps")
    src = tmp_path / "src"
    src.mkdir()
    (src / "handler.py").write_bytes(b"h" * 400)
    entries = merge(collect(deps, "dependency"), collect(src, "source"), layer=layer)
    out = io.BytesIO()
    result = write_zip(entries, out, 6, None)
    return list(result.entries), result.size, deps


def metadata(entries: list[WrittenEntry], dist_info: str) -> int:
    name = dist_info  # the .dist-info directory's name starts with it, in a layer too
    size = sum(
        e.size
        for e in entries
        if e.name.removeprefix("python/").startswith(name) and ".dist-info/" in e.name
    )
    assert size > 0
    return size


def test_sizes_are_summed_per_distribution_with_their_bytecode(tmp_path: Path) -> None:
    entries, zipped, deps = written(tmp_path)
    report = size_report(entries, zipped, owners(deps))
    largest = dict(report.largest)
    # A package's bytecode lies inside it; a top-level module's lies in the top __pycache__;
    # a distribution's .dist-info is its own.
    assert largest["requests"] == 3000 + 1000 + 500 + metadata(entries, "requests-")
    assert largest["six"] == 2000 + 700 + metadata(entries, "six-")
    assert largest["handler.py"] == 400  # own code keeps its own name
    assert set(largest) == {"requests", "six", "handler.py"}
    assert report.zipped == zipped
    assert report.unzipped == sum(largest.values()) == sum(e.size for e in entries)
    # Biggest first, then by name.
    assert [name for name, _ in report.largest[:3]] == ["requests", "six", "handler.py"]


def test_a_layer_is_attributed_under_its_python_prefix(tmp_path: Path) -> None:
    entries, zipped, deps = written(tmp_path, layer=True)
    assert all(e.name.startswith("python/") for e in entries)
    report = size_report(entries, zipped, owners(deps), prefix="python/")
    assert dict(report.largest)["requests"] == 4500 + metadata(entries, "requests-")
    assert dict(report.largest)["six"] == 2700 + metadata(entries, "six-")
    unprefixed = size_report(entries, zipped, owners(deps))
    assert dict(unprefixed.largest) == {"python": report.unzipped}


def test_directories_count_for_nothing() -> None:
    entries = [
        WrittenEntry("pkg/", 0, 0, None, 0o755),
        WrittenEntry("pkg/a.py", 10, 8, "00" * 32, 0o644),
    ]
    report = size_report(entries, 100, {})
    assert report.largest == (("pkg", 10),)
    assert report.unzipped == 10


def test_a_package_within_the_limits_has_no_problems() -> None:
    report = SizeReport(ZIPPED_LIMIT, UNZIPPED_LIMIT, (("numpy", 40 * MIB),))
    assert report.problems == []


def test_one_byte_over_the_zipped_limit_is_a_problem() -> None:
    report = SizeReport(ZIPPED_LIMIT + 1, 60 * MIB, (("numpy", 60 * MIB),))
    assert report.problems == [
        "the zip is 50.0 MiB, over Lambda's 50.0 MiB limit for a direct upload (upload it "
        "through S3, or make it smaller)"
    ]


def test_both_limits_exceeded_and_the_five_largest_named() -> None:
    largest = tuple((f"dist{i}", (10 - i) * 30 * MIB) for i in range(7))
    report = SizeReport(70 * MIB, 300 * MIB, largest)
    assert len(report.problems) == 2
    assert report.problems[1] == (
        "the package is 300.0 MiB unzipped, over Lambda's 250.0 MiB limit for a function "
        "and its layers"
    )
    described = report.describe()
    assert described.startswith("the zip is 70.0 MiB, over Lambda's 50.0 MiB limit")
    assert described.endswith(
        ". Largest: dist0 300.0 MiB, dist1 270.0 MiB, dist2 240.0 MiB, dist3 210.0 MiB, "
        "dist4 180.0 MiB"
    )
    assert "dist5" not in described


def test_an_empty_report_describes_nothing() -> None:
    assert SizeReport(0, 0, ()).describe() == ""

"""Compile groups start biggest first; verify's rebuild starts them in another order."""

from __future__ import annotations

from pathlib import Path

from lambda_zip_action.compile import _Job, group_jobs, start_order
from lambda_zip_action.stage import StagedFile


def job(name: str, size: int) -> _Job:
    entry = StagedFile(name, Path("/nonexistent") / name, 0o644, "dependency", size)
    return _Job(entry, f"/var/task/{name}", Path("/out") / name, "unchecked-hash")


def test_biggest_group_first_and_rebuild_order_differs() -> None:
    jobs = [job("a/x.py", 10), job("b/x.py", 500), job("c/x.py", 300), job("d/x.py", 200),
            job("e/x.py", 1)]  # fmt: skip
    groups = group_jobs(jobs)
    first = [g[0].entry.name for g in start_order(groups)]
    second = [g[0].entry.name for g in start_order(groups, reverse=True)]
    assert first == ["b/x.py", "c/x.py", "d/x.py", "a/x.py", "e/x.py"]
    # In name order, the biggest group (b) would start second and a small one first.
    assert groups[0][0].entry.name == "a/x.py"
    assert second == ["c/x.py", "b/x.py", "a/x.py", "d/x.py", "e/x.py"]
    assert sorted(first) == sorted(second)
    # The two biggest start first in both builds, so neither runs alone at the end.
    assert set(first[:2]) == set(second[:2]) == {"b/x.py", "c/x.py"}

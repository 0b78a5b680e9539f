"""Lambda's size limits, and which distributions make a package big."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lambda_zip_action.archive import WrittenEntry

# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
ZIPPED_LIMIT = 50 * 1024 * 1024  # a zip uploaded directly to Lambda
UNZIPPED_LIMIT = 250 * 1024 * 1024  # the function and all its layers, extracted


@dataclass(frozen=True)
class SizeReport:
    zipped: int
    unzipped: int
    largest: tuple[tuple[str, int], ...]  # (distribution or top-level name, unzipped bytes)

    @property
    def problems(self) -> list[str]:
        found = []
        if self.zipped > ZIPPED_LIMIT:
            found.append(
                f"the zip is {_mb(self.zipped)}, over Lambda's {_mb(ZIPPED_LIMIT)} limit for a "
                "direct upload (upload it through S3, or make it smaller)"
            )
        if self.unzipped > UNZIPPED_LIMIT:
            found.append(
                f"the package is {_mb(self.unzipped)} unzipped, over Lambda's "
                f"{_mb(UNZIPPED_LIMIT)} "
                "limit for a function and its layers"
            )
        return found

    def describe(self) -> str:
        biggest = ", ".join(f"{name} {_mb(size)}" for name, size in self.largest[:5])
        return "; ".join(self.problems) + (f". Largest: {biggest}" if biggest else "")


def combined_problem(reports: Sequence[SizeReport]) -> str | None:
    """With --split: the function and its layer under the unzipped limit one by one, but not
    together (Lambda counts the function and all its layers at once)."""
    if len(reports) < 2 or any(r.unzipped > UNZIPPED_LIMIT for r in reports):
        return None  # one alone is over: its own report says so
    total = sum(r.unzipped for r in reports)
    if total <= UNZIPPED_LIMIT:
        return None
    parts = " + ".join(_mb(r.unzipped) for r in reports)
    return (
        f"the function zip and its layer are {_mb(total)} unzipped together ({parts}), over "
        f"Lambda's {_mb(UNZIPPED_LIMIT)} limit for a function and all its layers"
    )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def size_report(
    entries: Sequence[WrittenEntry], zipped: int, owned: dict[str, str], prefix: str = ""
) -> SizeReport:
    per_owner: dict[str, int] = {}
    for entry in entries:
        if entry.sha256 is None:
            continue  # a directory: no bytes, and no owner of its own
        parts = entry.name.removeprefix(prefix).split("/")
        top = parts[0]
        if top == "__pycache__" and len(parts) == 2 and parts[1]:
            # Bytecode of a top-level module (six.py) belongs to the module's distribution.
            top = parts[1].split(".")[0] + ".py"
        key = owned.get(top, parts[0])
        per_owner[key] = per_owner.get(key, 0) + entry.size
    largest = tuple(sorted(per_owner.items(), key=lambda item: (-item[1], item[0])))
    return SizeReport(zipped, sum(e.size for e in entries), largest)

"""Progress as values: the core emits events, the CLI and the GitHub layer render them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Level = Literal["stage", "info", "warning", "progress"]


@dataclass(frozen=True)
class Event:
    level: Level
    message: str
    # For "progress": how far a stage is (done, total).
    done: int = 0
    total: int = 0


Listener = Callable[[Event], None]


def ignore(_: Event) -> None:
    """The listener of callers that do not show progress."""

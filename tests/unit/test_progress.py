"""Progress off a terminal: a line per stage with its count and time, and never a quiet log.

A CI log is not a terminal, so the live counter is not drawn there; a long compile used to
print nothing for 24 s. The clock is injected, so these tests do not wait.
"""

from __future__ import annotations

import io
import time

from lambda_zip_action.cli import _Progress
from lambda_zip_action.events import Event


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_long_stages_report_counts_heartbeats_and_time() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = _Progress(stream, clock, beat=False)
    progress(Event("stage", "Compiling bytecode with CPython 3.12.1"))
    for done in range(0, 4211, 421):
        clock.now += 2.4
        progress(Event("progress", "compile", done, 4210))
    progress(Event("progress", "compile", 4210, 4210))
    progress(Event("stage", "Writing dist/lambda.zip"))
    clock.now += 0.2
    progress(Event("progress", "archive", 10, 10))
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "==> Compiling bytecode with CPython 3.12.1"
    beats = [line for line in lines if line.startswith("    compile: ") and " of " in line]
    assert beats and beats[0] == "    compile: 842 of 4,210 (7 s)", lines
    assert "    compile: 4,210 in 26.4 s" in lines
    assert lines[-1] == "==> Writing dist/lambda.zip"  # a quick stage adds no line


def test_a_terminal_gets_the_live_counter_only() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream, clock = Terminal(), Clock()
    progress = _Progress(stream, clock)
    progress(Event("stage", "Compiling"))
    clock.now += 30
    progress(Event("progress", "compile", 5, 10))
    progress.close()
    assert stream.getvalue() == "==> Compiling\n\r    compile: 5/10"


def test_a_stage_without_counts_still_says_it_is_alive() -> None:
    class Quick(_Progress):
        HEARTBEAT = 0.05

    stream = io.StringIO()
    progress = Quick(stream)
    progress(Event("stage", "Installing dependencies with uv for python3.12 x86_64"))
    deadline = time.monotonic() + 10
    while "still installing" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    progress.close()
    assert "    still installing dependencies with uv for python3.12 x86_64 (0 s)" in (
        stream.getvalue()
    )


def test_names_in_messages_cannot_drive_the_terminal() -> None:
    """A dependency's metadata names it in the built-from-source warning: an escape sequence
    there would reach the terminal or the CI log raw."""
    stream = io.StringIO()
    progress = _Progress(stream, Clock(), beat=False)
    progress(Event("warning", "built on this machine from source: evil\x1b[2J\x1b]0;pwned\x07 1.0"))
    progress.close()
    assert "\x1b" not in stream.getvalue() and "\\x1b[2J" in stream.getvalue()

"""One way to show an untrusted name in plain-text output: control characters as escapes.

File and entry names come from whoever made the tree or the zip; printed raw, an ESC sequence
in one could rewrite the terminal (or a CI log) the message is read in.
"""

from __future__ import annotations

import re


def plain(text: str) -> str:
    """`text` with every non-printable character (ESC, newline, NUL...) as `\\xNN`."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


# A CI runner takes a line whose first non-blank characters are `::` as a workflow command
# (`::add-mask::`, `::stop-commands::`), and a line holding `##[name]` ANYWHERE as one too: the
# runner's ActionCommand.TryParseV2 trims the line's start and needs `::` there, but its older
# TryParse finds `##[` at any place in the line (`app/x ##[add-mask]y.py` registers a mask;
# `##[stop-commands]t` turns every later command off, later masks included). The runner splits
# its output into lines at `\r` as well as `\n`. Output that can carry an untrusted name goes
# through this.
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


def no_commands(text: str) -> str:
    """`text` with nothing a runner would obey: a line whose first non-blank characters are
    `::` gets its first character escaped (`\\x3a:add-mask::...`), and every `##[` becomes
    `#\\u0023[` (a JSON string keeps its meaning: `\\u0023` is `#` to a JSON reader)."""
    parts = _LINE_BREAK.split(text.replace("##[", "#\\u0023["))
    for index in range(0, len(parts), 2):
        line = parts[index]
        stripped = line.lstrip()
        if stripped.startswith("::"):
            at = len(line) - len(stripped)
            parts[index] = f"{line[:at]}\\x3a{stripped[1:]}"
    return "".join(parts)

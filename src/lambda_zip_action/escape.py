"""One way to show an untrusted name in plain-text output: control characters as escapes.

File and entry names come from whoever made the tree or the zip; printed raw, an ESC sequence
in one could rewrite the terminal (or a CI log) the message is read in.
"""

from __future__ import annotations


def plain(text: str) -> str:
    """`text` with every non-printable character (ESC, newline, NUL...) as `\\xNN`."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


# A CI runner reads a line whose first non-blank characters are `::` or `##[` as a workflow
# command (`::add-mask::`, `::stop-commands::`, `##[set-output ...]`): GitHub's runner checks
# both forms. Output that can carry an untrusted name at the start of a line goes through this.
_COMMAND_STARTS = ("::", "##[")


def no_commands(text: str) -> str:
    """`text` with every line that would start a workflow command defused: its first
    character written as an escape (`\\x3a:add-mask::...`), so the runner takes it as text."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(_COMMAND_STARTS):
            at = len(line) - len(stripped)
            lines[index] = f"{line[:at]}\\x{ord(stripped[0]):02x}{stripped[1:]}"
    return "\n".join(lines)

"""One way to show an untrusted name in plain-text output: control characters as escapes.

File and entry names come from whoever made the tree or the zip; printed raw, an ESC sequence
in one could rewrite the terminal (or a CI log) the message is read in.
"""

from __future__ import annotations


def plain(text: str) -> str:
    """`text` with every non-printable character (ESC, newline, NUL...) as `\\xNN`."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)

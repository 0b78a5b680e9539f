"""Escaping for untrusted strings placed into markdown: PR comments and job summaries.

File and package names come from pull requests, so they are hostile input. Everything here
returns text that renders as exactly the visible characters of the input and nothing else:
no links, no HTML, no mentions, no emphasis, no table or block structure.

Two choices made for both markdown and raw HTML contexts (GitHub passes `<details>` blocks
through as HTML, where backslash escapes are not processed):

* ASCII punctuation becomes a numeric character reference (`&#42;`), which CommonMark treats as
  literal text and a browser decodes the same way, so the output reads correctly in a markdown
  paragraph, a table cell, a `<summary>` and inside an HTML comment alike.
* GitHub turns `@user`, `#123`, `http://...`, `www.` and `:emoji:` into links or images *after*
  character references are decoded, so escaping cannot stop them: an invisible WORD JOINER
  (U+2060) is inserted to break the pattern instead. Copying the rendered text carries it along;
  use `code_span` where readers are expected to copy a name.

Line breaks and other control or format characters (including bidirectional overrides) are
shown as visible symbols (U+2424 for a newline, the Control Pictures block for the rest).
"""

from __future__ import annotations

import re
import string
import unicodedata

__all__ = ["code_span", "escape_inline", "table_cell", "visible"]

WORD_JOINER = "\u2060"

_PUNCTUATION = frozenset(string.punctuation)
_BREAK_AFTER = frozenset("@#:")
_WWW_DOT = re.compile(r"(?i)(www)(\.)")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_CONTROL_PICTURES_BASE = 0x2400
_NEWLINE_PICTURE = "\u2424"
_DELETE_PICTURE = "\u2421"


def _visible_char(char: str) -> str:
    if char == "\n":
        return _NEWLINE_PICTURE
    code = ord(char)
    if code < 0x20:
        return chr(_CONTROL_PICTURES_BASE + code)
    if code == 0x7F:
        return _DELETE_PICTURE
    if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
        return f"<U+{code:04X}>"
    return char


def visible(text: str) -> str:
    """Replace newlines, control and invisible format characters with visible stand-ins."""
    return "".join(_visible_char(char) for char in text)


def escape_inline(text: str) -> str:
    """Escape untrusted `text` for inline use in markdown or HTML text (not in code spans).

    The rendered result shows `visible(text)` and nothing else (plus invisible word joiners
    that break GitHub's mention, issue-reference, autolink and emoji patterns).
    """
    shown = _WWW_DOT.sub(rf"\1{WORD_JOINER}\2", visible(text))
    escaped: list[str] = []
    for char in shown:
        escaped.append(f"&#{ord(char)};" if char in _PUNCTUATION else char)
        if char in _BREAK_AFTER:
            escaped.append(WORD_JOINER)
    return "".join(escaped)


def code_span(text: str) -> str:
    """An inline code span showing `visible(text)` literally.

    Mentions, links and HTML are inert inside a code span, but a line break is not: a blank line
    would end the paragraph and let the rest be parsed as markdown, so line breaks and control
    characters are made visible first. The fence is one backtick longer than the longest run
    inside; the content is padded with spaces when it starts or ends with a backtick or a space,
    because CommonMark strips one space from each side. An empty string becomes a span holding
    one space, since CommonMark has no empty code span.
    """
    content = visible(text)
    if not content:
        return "` `"
    longest_run = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest_run + 1)
    if content.strip(" ") and (content[0] in "` " or content[-1] in "` "):
        content = f" {content} "
    return f"{fence}{content}{fence}"


def table_cell(text: str, *, code: bool = False) -> str:
    """Untrusted `text` made safe for one GFM table cell, as escaped text or as a code span.

    GFM splits a row at every unescaped `|`, even inside a code span, and removes the backslash
    of `\\|` before parsing the cell, so pipes in a code span are backslash-escaped.
    `escape_inline` output contains no literal `|` to begin with.
    """
    if code:
        return code_span(text).replace("|", "\\|")
    return escape_inline(text)

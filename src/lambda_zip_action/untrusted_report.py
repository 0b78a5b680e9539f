"""A report written by a fork's run, defused before the trusted job posts it as the bot.

In the fork pattern (`lambda-zip comment`), the report was made by a run of the fork's own code
and uploaded as an artifact: its author chose every character. Posted verbatim as the bot, it
could carry links to anywhere, images that call a server of the author's when the page is
viewed, @mentions that notify people and teams, and raw HTML. What is kept: the report's text,
headings, tables, code and `<details>` folds (what lambda-zip's reports use). What is removed:
every image, every link target (the link's text stays), every other HTML tag, and the
patterns GitHub would turn into mentions or links (broken with an invisible word joiner).
The comment says it came from a fork.
"""

from __future__ import annotations

import re

from lambda_zip_action.markdown import WORD_JOINER

MAX_CHARS = 65536
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]\n]+\]:.*$", re.MULTILINE)
_REF_LINK = re.compile(r"\[([^\]\n]*)\]\[[^\]\n]*\]")
_KEPT_TAG = re.compile(r"</?(details|summary)>|<br ?/?>", re.IGNORECASE)
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]*)>", re.IGNORECASE)
_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|file|javascript|data)(:)")
_MENTION = re.compile(r"(^|[^\w`])([@#])(?=[\w-])")
_WWW = re.compile(r"(?i)\b(www)(\.)")

NOTICE = (
    "*This report was made by the pull request's own run (a fork): links, images, HTML and "
    "mentions were removed before posting.*"
)


def defuse(markdown: str) -> str:
    """`markdown` with nothing that reaches outside the comment; text, tables and folds kept."""
    text = markdown[:MAX_CHARS]
    text = _IMAGE.sub(lambda m: f"(image removed: {m.group(1)})" if m.group(1) else "", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _REFERENCE.sub("", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _escape_tags(text)
    text = _SCHEME.sub(rf"\1{WORD_JOINER}\2", text)
    text = _WWW.sub(rf"\1{WORD_JOINER}\2", text)
    text = _MENTION.sub(rf"\1\2{WORD_JOINER}", text)
    return f"{NOTICE}\n\n{text}"


def _escape_tags(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in re.finditer(r"<[^<>]*>?", text):
        out.append(text[position : match.start()])
        tag = match.group(0)
        out.append(
            tag if _KEPT_TAG.fullmatch(tag) else tag.replace("<", "&lt;").replace(">", "&gt;")
        )
        position = match.end()
    out.append(text[position:])
    return "".join(out)

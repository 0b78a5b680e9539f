"""Hostile names rendered by a real CommonMark renderer (markdown-it-py, GFM-like preset).

The renderer stands in for GitHub: raw HTML on, tables, strikethrough and autolinks (linkify)
on. GitHub's mentions, issue references and emoji run on the rendered text, so those are
checked on the text: no `@` or `#` or `:` directly followed by a name.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from lambda_zip_action.markdown import WORD_JOINER, code_span, escape_inline, table_cell, visible

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "@octocat",
    "@octo-org/team",
    "[x](javascript:alert(1))",
    "![i](https://evil.example/p.png)",
    "<https://evil.example>",
    "https://evil.example/x",
    "www.evil.example",
    "mail me: a@evil.example",
    "a`b``b",
    "a|b",
    "line one\nline two",
    "x\n\n<img src=x>",
    "x\n\n# heading\n\n---",
    "<!-- -->",
    "--> <!--",
    "</details>",
    "</summary></details><details open>",
    "*em* **strong** _u_ ~~s~~ $x$ :smile: #1 \\",
    "&amp; &lt;b&gt; &#60;",
    "\u202eevil.txt",
    "tab\there\r\nnul\x00",
]


def renderer(*, fuzzy: bool = False) -> MarkdownIt:
    md = MarkdownIt("gfm-like")
    assert md.linkify is not None  # gfm-like enables linkify (linkify-it-py is a test extra)
    # GitHub autolinks http(s):// and www. but not bare domains such as handler.py.
    md.linkify.set({"fuzzy_link": fuzzy})
    return md


class Rendered(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.comments: list[str] = []
        self.text = ""
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(f"/{tag}")

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        self.text += data


def shown(text: str) -> str:
    """What a reader sees: the rendered text without the invisible word joiners."""
    return text.replace(WORD_JOINER, "")


def no_github_references(text: str) -> bool:
    return re.search(r"[@#:][A-Za-z0-9]|www\.|://", text) is None


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("fuzzy", [False, True])
def test_escaped_names_render_as_plain_text(name: str, fuzzy: bool) -> None:
    rendered = Rendered(renderer(fuzzy=fuzzy).render(f"file {escape_inline(name)} end"))

    assert rendered.tags == ["p", "/p"], rendered.tags
    assert rendered.comments == []
    assert shown(rendered.text) == f"file {visible(name)} end\n"
    assert no_github_references(rendered.text)


@pytest.mark.parametrize("name", HOSTILE)
def test_code_spans_show_the_name_literally(name: str) -> None:
    rendered = Rendered(renderer().render(f"file {code_span(name)} end"))

    assert rendered.tags == ["p", "code", "/code", "/p"], rendered.tags
    assert rendered.text == f"file {visible(name)} end\n"


@pytest.mark.parametrize("name", HOSTILE)
def test_escaped_names_inside_details_and_summary(name: str) -> None:
    document = (
        f"<details><summary>Package {escape_inline(name)}</summary>\n\n"
        f"- {escape_inline(name)}\n- {code_span(name)}\n\n</details>\n"
    )
    rendered = Rendered(renderer().render(document))

    assert rendered.tags == [
        "details", "summary", "/summary", "ul", "li", "/li", "li", "code", "/code", "/li",
        "/ul", "/details",
    ]  # fmt: skip
    assert shown(rendered.text).count(visible(name)) == 3


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("code", [False, True])
def test_table_cells_hold_one_cell_each(name: str, code: bool) -> None:
    table = f"| name | size |\n|---|---|\n| {table_cell(name, code=code)} | 1 |\n"
    rendered = Rendered(renderer().render(table))

    cells = [tag for tag in rendered.tags if tag == "td"]
    assert len(cells) == 2
    assert "a" not in rendered.tags and "img" not in rendered.tags
    assert visible(name) in shown(rendered.text)


@pytest.mark.parametrize("name", HOSTILE)
def test_escaped_names_cannot_close_an_html_comment(name: str) -> None:
    escaped = escape_inline(name)
    assert "-->" not in escaped and "--!>" not in escaped
    rendered = Rendered(renderer().render(f"<!-- lambda-zip-action:{escaped} -->\nafter"))
    assert rendered.tags == ["p", "/p"]
    assert len(rendered.comments) == 1
    assert rendered.text.strip() == "after"


def test_mentions_and_urls_are_broken_by_an_invisible_joiner() -> None:
    assert escape_inline("@octocat") == f"&#64;{WORD_JOINER}octocat"
    assert f"&#58;{WORD_JOINER}&#47;&#47;" in escape_inline("http://x")
    assert f"WWW{WORD_JOINER}&#46;" in escape_inline("WWW.x")


def test_controls_and_bidi_overrides_become_visible() -> None:
    assert visible("a\nb\tc\x00\x7f") == "a\u2424b\u2409c\u2400\u2421"
    assert visible("\u202eexe.txt") == "<U+202E>exe.txt"
    assert visible("ünïcode ✓ 名前") == "ünïcode ✓ 名前"


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("plain", "`plain`"),
        ("a`b", "``a`b``"),
        ("a`b``b", "```a`b``b```"),
        ("`tick", "`` `tick ``"),
        (" padded ", "`  padded  `"),
        ("   ", "`   `"),
        ("", "` `"),
    ],
)
def test_code_span_fences_and_padding(text: str, span: str) -> None:
    assert code_span(text) == span


@given(st.text(st.characters(exclude_categories=["Cs"])))
def test_any_text_renders_as_exactly_its_visible_form(text: str) -> None:
    rendered = Rendered(renderer().render(f"x{escape_inline(text)}x"))
    assert rendered.tags == ["p", "/p"]
    assert shown(rendered.text) == f"x{visible(text)}x\n"


@given(st.text(st.characters(exclude_categories=["Cs"])))
def test_any_text_in_a_code_span_renders_literally(text: str) -> None:
    rendered = Rendered(renderer().render(f"x{code_span(text)}x"))
    assert rendered.tags == ["p", "code", "/code", "/p"]
    expected = visible(text) or " "
    assert rendered.text == f"x{expected}x\n"

"""Corpus case lxml-bs4: the handler imports every top-level module the set ships."""

from __future__ import annotations

import bs4
import lxml
import lxml.etree
import soupsieve
import typing_extensions

MODULES = (
    bs4,
    lxml,
    soupsieve,
    typing_extensions,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    root = lxml.etree.fromstring(b"<a><b>x</b></a>")
    soup = bs4.BeautifulSoup("<div><p class='k'>hi</p></div>", "lxml")
    return {
        "ok": True,
        "checks": {
            "etree": root.findtext("b") == "x",
            "soup": [p.text for p in soup.select("p.k")] == ["hi"],
            "soupsieve": soupsieve.match("p", soup.p),
        },
    }

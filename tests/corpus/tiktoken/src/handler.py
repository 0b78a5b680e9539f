"""Corpus case tiktoken: the handler imports every top-level module the set ships."""

from __future__ import annotations

import certifi
import charset_normalizer
import idna
import regex
import requests
import tiktoken
import tiktoken_ext
import urllib3

MODULES = (
    certifi,
    charset_normalizer,
    idna,
    regex,
    requests,
    tiktoken,
    tiktoken_ext,
    urllib3,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    encoding = tiktoken.Encoding(
        name="bytes",
        pat_str=r"\w+|\s+|[^\w\s]+",
        mergeable_ranks={bytes([i]): i for i in range(256)},
        special_tokens={},
    )
    return {
        "ok": True,
        "checks": {
            "roundtrip": encoding.decode(encoding.encode("hello world")) == "hello world",
            "regex": regex.match(r"\p{L}+", "héllo") is not None,
        },
    }

"""Corpus case openai: the handler imports every top-level module the set ships."""

from __future__ import annotations

import annotated_types
import anyio
import certifi
import distro
import h11
import httpcore
import httpx
import idna
import jiter
import openai
import pydantic
import pydantic_core
import sniffio
import tqdm
import typing_extensions
import typing_inspection


async def _double(n: int) -> int:
    await anyio.sleep(0)
    return n * 2


MODULES = (
    annotated_types,
    anyio,
    certifi,
    distro,
    h11,
    httpcore,
    httpx,
    idna,
    jiter,
    openai,
    pydantic,
    pydantic_core,
    sniffio,
    tqdm,
    typing_extensions,
    typing_inspection,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    client = openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    request = httpx.Request("POST", "https://example.com/v1", json={"a": 1})
    return {
        "ok": True,
        "checks": {
            "client": str(client.base_url) == "http://127.0.0.1:9/v1/",
            "jiter": jiter.from_json(b'{"a": [1, 2.5]}') == {"a": [1, 2.5]},
            "httpx": request.headers["content-type"] == "application/json",
            "distro": isinstance(distro.id(), str),
            "anyio": anyio.run(_double, 21) == 42,
        },
    }

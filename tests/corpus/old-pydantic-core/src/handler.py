"""Corpus case old-pydantic-core: the handler imports every top-level module the set ships."""

from __future__ import annotations

import annotated_types
import pydantic
import pydantic_core
import typing_extensions


class Item(pydantic.BaseModel):
    name: str


MODULES = (
    annotated_types,
    pydantic,
    pydantic_core,
    typing_extensions,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    return {
        "ok": True,
        "checks": {"model": Item(name="x").model_dump() == {"name": "x"}},
    }

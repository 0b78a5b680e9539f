"""Corpus case pillow: the handler imports every top-level module the set ships."""

from __future__ import annotations

import io

import PIL
import PIL.features
import PIL.Image

MODULES = (PIL,)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    image = PIL.Image.new("RGB", (16, 16), (255, 0, 0))
    saved = {}
    for kind in ("JPEG", "PNG", "WEBP"):
        buffer = io.BytesIO()
        image.save(buffer, format=kind)
        saved[kind] = PIL.Image.open(io.BytesIO(buffer.getvalue())).size == (16, 16)
    return {
        "ok": True,
        "checks": {**saved, "freetype": PIL.features.check("freetype2")},
    }

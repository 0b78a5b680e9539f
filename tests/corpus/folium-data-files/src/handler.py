"""Corpus case folium-data-files: the handler imports every top-level module the set ships."""

from __future__ import annotations

import branca
import certifi
import charset_normalizer
import folium
import idna
import jinja2
import markupsafe
import numpy
import requests
import urllib3
import xyzservices

MODULES = (
    branca,
    certifi,
    charset_normalizer,
    folium,
    idna,
    jinja2,
    markupsafe,
    numpy,
    requests,
    urllib3,
    xyzservices,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    html = folium.Map(location=[48.85, 2.35], zoom_start=5).get_root().render()
    return {
        "ok": True,
        "checks": {
            "map": "leaflet" in html.lower(),
            "providers": xyzservices.providers.OpenStreetMap.Mapnik.name == "OpenStreetMap.Mapnik",
        },
    }

"""Corpus case stripe: the handler imports every top-level module the set ships."""

from __future__ import annotations

import certifi
import charset_normalizer
import idna
import requests
import stripe
import typing_extensions
import urllib3

MODULES = (
    certifi,
    charset_normalizer,
    idna,
    requests,
    stripe,
    typing_extensions,
    urllib3,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    client = stripe.StripeClient("sk_test_corpus")
    return {
        "ok": True,
        "checks": {
            "client": client.customers is not None,
            "version": stripe.VERSION == "11.6.0",
        },
    }

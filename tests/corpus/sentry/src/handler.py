"""Corpus case sentry: the handler imports every top-level module the set ships."""

from __future__ import annotations

import certifi
import sentry_sdk
import sentry_sdk.utils
import urllib3

MODULES = (
    certifi,
    sentry_sdk,
    urllib3,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    sentry_sdk.init(dsn=None, traces_sample_rate=0.0)
    sentry_sdk.capture_message("corpus")
    versions = sentry_sdk.utils.package_version("urllib3")
    return {
        "ok": True,
        "checks": {
            "urllib3_version": versions is not None and versions[0] == 2,
            "client": sentry_sdk.get_client() is not None,
        },
    }

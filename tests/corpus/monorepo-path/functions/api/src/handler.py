"""Corpus case monorepo-path: the handler imports every top-level module the set ships."""

from __future__ import annotations

import aws_lambda_powertools
import jmespath
import shared
import typing_extensions
import urllib3

MODULES = (
    aws_lambda_powertools,
    jmespath,
    shared,
    typing_extensions,
    urllib3,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    logger = shared.make_logger()
    logger.info("corpus")
    return {
        "ok": True,
        "checks": {
            "service": logger.service == "orders",
            "urllib3": urllib3.__version__ == "2.4.0",
        },
    }

"""Corpus case issue-project: the handler imports every top-level module the set ships."""

from __future__ import annotations

import _yaml
import annotated_types
import aws_lambda_powertools
import certifi
import charset_normalizer
import idna
import jmespath
import pydantic
import pydantic_core
import requests
import typing_extensions
import urllib3
import yaml
from aws_lambda_powertools import Logger
from pydantic import BaseModel

logger = Logger(service="corpus")


class Order(BaseModel):
    id: int
    items: list[str]


MODULES = (
    _yaml,
    annotated_types,
    aws_lambda_powertools,
    certifi,
    charset_normalizer,
    idna,
    jmespath,
    pydantic,
    pydantic_core,
    requests,
    typing_extensions,
    urllib3,
    yaml,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    order = Order.model_validate(yaml.load("id: 7\nitems: [a, b]\n", Loader=yaml.CSafeLoader))
    logger.info("order", extra={"order": order.model_dump()})
    return {
        "ok": True,
        "checks": {
            "order": order.model_dump() == {"id": 7, "items": ["a", "b"]},
            "libyaml": yaml.__with_libyaml__,
            "charset_normalizer_compiled": charset_normalizer.md.__file__.endswith(".so"),
            "pydantic_core": pydantic_core.__version__ == "2.27.2",
            "jmespath": jmespath.search("a.b", {"a": {"b": 1}}) == 1,
            "requests": requests.Request("GET", "https://example.com").prepare().url
            == "https://example.com/",
        },
    }

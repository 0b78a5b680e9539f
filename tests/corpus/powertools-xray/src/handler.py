"""Corpus case powertools-xray: the handler imports every top-level module the set ships."""

from __future__ import annotations

import annotated_types
import aws_lambda_powertools
import aws_xray_sdk
import aws_xray_sdk.core
import botocore
import dateutil
import fastjsonschema
import jmespath
import pydantic
import pydantic_core
import six
import typing_extensions
import typing_inspection
import urllib3
import wrapt
import wrapt._wrappers
import wrapt.wrappers
from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.parser import BaseModel, parse
from aws_lambda_powertools.utilities.validation import validate

tracer = Tracer(service="corpus", disabled=True)


class Order(BaseModel):
    id: int


MODULES = (
    annotated_types,
    aws_lambda_powertools,
    aws_xray_sdk,
    botocore,
    dateutil,
    fastjsonschema,
    jmespath,
    pydantic,
    pydantic_core,
    six,
    typing_extensions,
    typing_inspection,
    urllib3,
    wrapt,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    order = parse(event={"id": 3}, model=Order)
    validate(event={"id": 3}, schema={"type": "object", "required": ["id"]})
    return {
        "ok": True,
        "checks": {
            "parser": order.id == 3,
            "tracer": tracer.disabled is True or tracer.disabled is False,
            "wrapt_compiled": wrapt.wrappers.ObjectProxy.__module__ == "wrapt._wrappers"
            or wrapt._wrappers.__file__.endswith(".so"),
            "xray": aws_xray_sdk.core.xray_recorder is not None,
        },
    }

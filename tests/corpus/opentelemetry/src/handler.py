"""Corpus case opentelemetry: the handler imports every top-level module the set ships."""

from __future__ import annotations

import io

import certifi
import charset_normalizer
import deprecated
import google
import idna
import importlib_metadata
import opentelemetry
import requests
import typing_extensions
import urllib3
import wrapt
import zipp
from google.protobuf.internal import api_implementation
from google.rpc import status_pb2
from opentelemetry import propagate
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

MODULES = (
    certifi,
    charset_normalizer,
    deprecated,
    google,
    idna,
    importlib_metadata,
    opentelemetry,
    requests,
    typing_extensions,
    urllib3,
    wrapt,
    zipp,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=io.StringIO())))
    tracer = provider.get_tracer("corpus")
    carrier: dict[str, str] = {}
    with tracer.start_as_current_span("work"):
        propagate.inject(carrier)
    exporter = OTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces")
    return {
        "ok": True,
        "checks": {
            "traceparent": carrier.get("traceparent", "").startswith("00-"),
            "exporter": exporter is not None,
            "upb": api_implementation.Type() == "upb",
            "status": status_pb2.Status(code=5).code == 5,
        },
    }

"""Corpus case azure-blob: the handler imports every top-level module the set ships."""

from __future__ import annotations

import _cffi_backend
import azure
import azure.core
import certifi
import cffi
import charset_normalizer
import cryptography
import idna
import isodate
import pycparser
import requests
import six
import typing_extensions
import urllib3
from azure.storage.blob import BlobServiceClient

MODULES = (
    _cffi_backend,
    azure,
    certifi,
    cffi,
    charset_normalizer,
    cryptography,
    idna,
    isodate,
    pycparser,
    requests,
    six,
    typing_extensions,
    urllib3,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    service = BlobServiceClient.from_connection_string(
        "DefaultEndpointsProtocol=https;AccountName=corpus;AccountKey=a2V5;"
        "EndpointSuffix=core.windows.net"
    )
    blob = service.get_blob_client("container", "name.txt")
    return {
        "ok": True,
        "checks": {
            "url": blob.url == "https://corpus.blob.core.windows.net/container/name.txt",
            "isodate": isodate.parse_duration("PT1M").total_seconds() == 60,
            "core": azure.core.__version__ is not None,
        },
    }

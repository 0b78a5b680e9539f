"""Corpus case keyring-namespaces: the handler imports every top-level module the set ships."""

from __future__ import annotations

import _cffi_backend
import backports
import backports.tarfile
import cffi
import cryptography
import jaraco
import jaraco.functools
import jeepney
import keyring
import keyring.backend
import more_itertools
import pycparser
import secretstorage

MODULES = (
    _cffi_backend,
    backports,
    cffi,
    cryptography,
    jaraco,
    jeepney,
    keyring,
    more_itertools,
    pycparser,
    secretstorage,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    backend = keyring.get_keyring()
    return {
        "ok": True,
        "checks": {
            "backend": bool(type(backend).__name__),
            "backends": len(keyring.backend.get_all_keyring()) > 0,
            "tarfile": hasattr(backports.tarfile, "open"),
            "jaraco": callable(jaraco.functools.once),
        },
    }
